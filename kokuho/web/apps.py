from django.apps import AppConfig


class WebConfig(AppConfig):
    """画面: staff-facing views and templates (thin: parse, call a service, render)."""

    name = "kokuho.web"
    label = "web"

    def ready(self) -> None:
        from kokuho.web import signals  # noqa: F401  (login/logout audit receivers)
