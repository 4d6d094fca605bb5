from django.apps import AppConfig


class EligibilityConfig(AppConfig):
    """資格: NHI eligibility periods (bitemporal), numbers, copay rate and income category."""

    name = "kokuho.eligibility"
    label = "eligibility"
    verbose_name = "資格"
