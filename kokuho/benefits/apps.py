from django.apps import AppConfig


class BenefitsConfig(AppConfig):
    name = "kokuho.benefits"
    label = "benefits"
    verbose_name = "給付"
