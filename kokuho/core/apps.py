from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "kokuho.core"
    label = "core"
    verbose_name = "共通"

    def ready(self) -> None:
        from kokuho.core.lookups import lookups_register

        lookups_register()
