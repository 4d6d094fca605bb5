from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "kokuho.accounts"
    label = "accounts"
    verbose_name = "職員・権限"

    def ready(self) -> None:
        from kokuho.accounts import signals  # noqa: F401  (lockout → audit receiver)
