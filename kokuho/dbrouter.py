"""Database router: the identity vault lives in its own database alias.

Only the `identity` app's models are stored in (and migrated to) the `vault` alias, and
nothing else may be. This is the storage half of the promise that no join path leads from
business tables to My Number (privacy.md: 目的を超えた紐付け).
"""

from typing import Any

VAULT_APPS = frozenset({"identity"})
VAULT_ALIAS = "vault"


class VaultRouter:
    def _alias_for(self, app_label: str) -> str:
        return VAULT_ALIAS if app_label in VAULT_APPS else "default"

    def db_for_read(self, model: Any, **hints: Any) -> str:
        return self._alias_for(model._meta.app_label)

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return self._alias_for(model._meta.app_label)

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        # A relation across the vault boundary would be a join path to My Number.
        return (obj1._meta.app_label in VAULT_APPS) == (obj2._meta.app_label in VAULT_APPS)

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return (app_label in VAULT_APPS) == (db == VAULT_ALIAS)
