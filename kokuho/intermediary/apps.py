from django.apps import AppConfig


class IntermediaryConfig(AppConfig):
    name = "kokuho.intermediary"
    label = "intermediary"
    verbose_name = "中間サーバー（副本・情報照会）"

    def ready(self) -> None:
        from kokuho.intermediary import checks  # noqa: F401 (registers the catalogue check)
