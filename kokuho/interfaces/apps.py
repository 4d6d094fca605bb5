from django.apps import AppConfig


class InterfacesConfig(AppConfig):
    """連携: every file/API format in and out, each a module with reader, writer, validator."""

    name = "kokuho.interfaces"
    label = "interfaces"
    verbose_name = "連携"
