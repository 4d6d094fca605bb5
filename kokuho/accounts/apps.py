from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "kokuho.accounts"
    label = "accounts"
    verbose_name = "職員・権限"
