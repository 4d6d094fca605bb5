from django.apps import AppConfig


class NationalConfig(AppConfig):
    name = "kokuho.national"
    label = "national"
    verbose_name = "国・国保連合会との連携"

    def ready(self) -> None:
        from kokuho.national import checks  # noqa: F401 (registers the layout check)
