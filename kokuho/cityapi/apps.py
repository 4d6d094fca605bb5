from django.apps import AppConfig


class CityApiConfig(AppConfig):
    """庁内システム連携API: JSON over HTTPS for the city's own systems (national.md §4)."""

    name = "kokuho.cityapi"
    label = "cityapi"
    verbose_name = "庁内システム連携API"
