from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "kokuho.payments"
    label = "payments"
    verbose_name = "支払（口座振込）"
