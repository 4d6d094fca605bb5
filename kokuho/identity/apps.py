from django.apps import AppConfig


class IdentityConfig(AppConfig):
    """ID連携・個人番号: the vault (its own database alias `vault`; models come later)."""

    name = "kokuho.identity"
    label = "identity"
    verbose_name = "ID連携・個人番号"
