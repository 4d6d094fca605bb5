from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "kokuho.core"
    label = "core"
    verbose_name = "共通"
