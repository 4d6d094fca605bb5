"""What a client of the city's API may do: scopes, each tied to one 事務, and the systems.

The one place scopes are defined and granted (as `accounts.permissions` is for staff): a
scope is a name, never a number; which system may hold which scope is decided here, so a
review of who may call what is a review of this file and its history.
"""

from enum import StrEnum

from django.db import models

from kokuho.core.purposes import Purpose


class ApiScope(StrEnum):
    """The scope an operation requires (`resource:action`, as in OAuth 2.0 scopes)."""

    ELIGIBILITY_READ = "eligibility:read"
    ELIGIBILITY_FEED = "eligibility:feed"
    REGISTRY_PUSH = "registry:push"

    @property
    def label(self) -> str:
        return SCOPE_LABELS[self]

    @property
    def purpose(self) -> Purpose:
        return SCOPE_PURPOSES[self]


SCOPE_LABELS: dict[ApiScope, str] = {
    ApiScope.ELIGIBILITY_READ: "資格の照会（宛名番号ごと）",
    ApiScope.ELIGIBILITY_FEED: "資格の異動の取得（連番以降の全件）",
    ApiScope.REGISTRY_PUSH: "住基異動の送信",
}

# The 事務 each scope serves, carried by every audit event of a call. What leaves is the
# NHI's own eligibility record keyed by 宛名番号 (never a My Number), used by the city for
# the 国保税 賦課 and its welfare work; what comes in is the registry's change feeding
# 資格管理 — both are 国民健康保険の資格管理.
SCOPE_PURPOSES: dict[ApiScope, Purpose] = {
    ApiScope.ELIGIBILITY_READ: Purpose.NHI_ELIGIBILITY,
    ApiScope.ELIGIBILITY_FEED: Purpose.NHI_ELIGIBILITY,
    ApiScope.REGISTRY_PUSH: Purpose.NHI_ELIGIBILITY,
}


class SystemKind(models.TextChoices):
    """庁内システムの種別: one credential per system."""

    RESIDENT_REGISTRY = "resident_registry", "住民記録システム"
    TAXATION = "taxation", "税務システム（国保税 賦課）"
    COLLECTION = "collection", "収納システム"
    WELFARE = "welfare", "福祉システム"


# Least privilege per system: 住記 only pushes its changes; 賦課 follows the changes feed
# (it levies on every change) and looks persons up; 収納 and 福祉 look persons up one at a
# time and never receive the whole city's changes.
KIND_SCOPES: dict[SystemKind, frozenset[ApiScope]] = {
    SystemKind.RESIDENT_REGISTRY: frozenset({ApiScope.REGISTRY_PUSH}),
    SystemKind.TAXATION: frozenset({ApiScope.ELIGIBILITY_READ, ApiScope.ELIGIBILITY_FEED}),
    SystemKind.COLLECTION: frozenset({ApiScope.ELIGIBILITY_READ}),
    SystemKind.WELFARE: frozenset({ApiScope.ELIGIBILITY_READ}),
}
