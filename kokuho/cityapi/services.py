"""Writes of the city's API: clients and tokens (登録・鍵の再発行・失効), and the audit of calls.

Tokens are 256 random bits from `secrets`, shown once and stored as their SHA-256. A fast
hash is enough here, unlike for passwords: Argon2/PBKDF2 slow down guessing a secret people
chose, but nobody can guess 256 random bits, fast hash or slow; and a plain digest can be
looked up by an index (one query per call) where a salted slow hash would have to be
checked against each client's row at ~50 ms a try.
"""

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from django.db import transaction
from django.utils import timezone

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.cityapi.conf import api_token_overlap
from kokuho.cityapi.models import ApiClient, ApiToken
from kokuho.cityapi.scopes import KIND_SCOPES, ApiScope, SystemKind

TOKEN_PREFIX = "kokuho_"  # noqa: S105 (the public prefix of every token)
# Characters of the token kept in clear to tell tokens apart in lists: "kokuho_" and five
# random characters (30 of the token's 256 bits).
PREFIX_LENGTH = len(TOKEN_PREFIX) + 5
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{1,59}")


class ApiClientErrorCode(StrEnum):
    INVALID_NAME = "INVALID_NAME"
    DUPLICATE_NAME = "DUPLICATE_NAME"
    UNKNOWN_SCOPE = "UNKNOWN_SCOPE"
    SCOPE_NOT_ALLOWED = "SCOPE_NOT_ALLOWED"
    REVOKED = "REVOKED"
    NOT_FOUND = "NOT_FOUND"


class ApiClientError(ValueError):
    def __init__(self, code: ApiClientErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class IssuedToken:
    """A token just issued: `token` is its only appearance in clear."""

    client: ApiClient
    token: str
    prefix: str
    old_tokens_expire_at: datetime | None = None


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _token_issue(client: ApiClient, now: datetime) -> tuple[str, str]:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    prefix = token[:PREFIX_LENGTH]
    ApiToken.objects.create(
        client=client, token_sha256=token_digest(token), prefix=prefix, issued_at=now
    )
    return token, prefix


def _user(actor: Any | None) -> Any | None:
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def _audit_change(client: ApiClient, actor: Any | None, action: str, **detail: Any) -> None:
    audit_event_record(
        event_type=EventType.API_CLIENT_CHANGED,
        actor=actor,
        subject_type=SubjectType.SYSTEM,
        subject_id=f"api_client:{client.name}",
        extra={
            "api_client": {
                "name": client.name,
                "kind": client.kind,
                "scopes": list(client.scopes),
                "action": action,
                **detail,
            }
        },
    )


def scopes_parse(kind: SystemKind, scopes: list[str]) -> list[ApiScope]:
    """The scopes asked for, each known and allowed for the kind of system (KIND_SCOPES)."""
    parsed: list[ApiScope] = []
    for text in scopes:
        try:
            scope = ApiScope(text)
        except ValueError:
            known = ", ".join(s.value for s in ApiScope)
            raise ApiClientError(
                ApiClientErrorCode.UNKNOWN_SCOPE,
                f"スコープ {text!r} はありません（{known} のいずれか）",
            ) from None
        if scope not in KIND_SCOPES[kind]:
            allowed = ", ".join(sorted(KIND_SCOPES[kind])) or "なし"
            raise ApiClientError(
                ApiClientErrorCode.SCOPE_NOT_ALLOWED,
                f"{kind.label}にはスコープ {scope} を付与できません（付与できるもの: {allowed}）",
            )
        if scope not in parsed:
            parsed.append(scope)
    return parsed


def api_client_create(
    *, name: str, kind: SystemKind, scopes: list[str], actor: Any | None
) -> IssuedToken:
    """API利用システムの登録: the client and its first token (shown once)."""
    kind = SystemKind(kind)
    if not _NAME.fullmatch(name):
        raise ApiClientError(
            ApiClientErrorCode.INVALID_NAME,
            f"名称は英小文字・数字・-・_ の 2〜60 文字で指定してください: {name!r}",
        )
    parsed = scopes_parse(kind, scopes) if scopes else sorted(KIND_SCOPES[kind])
    user = _user(actor)
    now = timezone.now()
    with transaction.atomic():
        if ApiClient.objects.filter(name=name).exists():
            raise ApiClientError(
                ApiClientErrorCode.DUPLICATE_NAME, f"名称 {name} のシステムは登録済みです"
            )
        client = ApiClient.objects.create(
            name=name,
            kind=kind,
            scopes=[str(s) for s in parsed],
            created_at=now,
            created_by=user,
        )
        token, prefix = _token_issue(client, now)
        _audit_change(client, user, "created", token_prefix=prefix)
    return IssuedToken(client, token, prefix)


def _locked(client: ApiClient) -> ApiClient:
    locked = ApiClient.objects.select_for_update().get(pk=client.pk)
    if not locked.active:
        raise ApiClientError(
            ApiClientErrorCode.REVOKED,
            f"{locked.name} は失効しています（新しい名称で登録してください）",
        )
    return locked


def api_client_rotate(
    *, client: ApiClient, actor: Any | None, overlap: timedelta | None = None
) -> IssuedToken:
    """鍵の再発行: a new token; the old ones keep working for `overlap` (default the
    setting, itself 0: they stop now)."""
    overlap = api_token_overlap() if overlap is None else overlap
    if overlap < timedelta(0):
        raise ValueError("overlap must not be negative")
    user = _user(actor)
    now = timezone.now()
    until = now + overlap
    with transaction.atomic():
        locked = _locked(client)
        # Tokens ending sooner than that keep their earlier end (a second rotation within
        # the overlap does not lengthen the first one's life).
        ApiToken.objects.filter(client=locked, expires_at__isnull=True).update(expires_at=until)
        ApiToken.objects.filter(client=locked, expires_at__gt=until).update(expires_at=until)
        token, prefix = _token_issue(locked, now)
        locked.rotated_at, locked.rotated_by = now, user
        locked.save(update_fields=["rotated_at", "rotated_by"])
        _audit_change(
            locked,
            user,
            "rotated",
            token_prefix=prefix,
            overlap_seconds=int(overlap.total_seconds()),
        )
    client.refresh_from_db()
    return IssuedToken(client, token, prefix, old_tokens_expire_at=until)


def api_client_revoke(*, client: ApiClient, actor: Any | None, reason: str = "") -> ApiClient:
    """失効: the client and every token of it stop now, for good."""
    user = _user(actor)
    now = timezone.now()
    with transaction.atomic():
        locked = _locked(client)
        ApiToken.objects.filter(client=locked, expires_at__isnull=True).update(expires_at=now)
        ApiToken.objects.filter(client=locked, expires_at__gt=now).update(expires_at=now)
        locked.active = False
        locked.revoked_at, locked.revoked_by = now, user
        locked.save(update_fields=["active", "revoked_at", "revoked_by"])
        _audit_change(locked, user, "revoked", reason=reason)
    client.refresh_from_db()
    return client


class TokenRefused(Exception):
    """The token is not (or no longer) valid; `reason` is for the audit trail."""

    def __init__(self, reason: str, client: ApiClient | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.client = client


def api_client_authenticate(*, token: str, now: datetime | None = None) -> ApiClient:
    """The active client holding this token (one indexed query), or `TokenRefused`."""
    now = now or timezone.now()
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        raise TokenRefused("malformed_token")
    found = (
        ApiToken.objects.filter(token_sha256=token_digest(token)).select_related("client").first()
    )
    if found is None:
        raise TokenRefused("unknown_token")
    if not found.client.active:
        raise TokenRefused("client_revoked", found.client)
    if found.expires_at is not None and found.expires_at <= now:
        raise TokenRefused("token_expired", found.client)
    return found.client


def api_call_record(
    *,
    client: ApiClient,
    operation: str,
    scope: ApiScope,
    subject_type: SubjectType,
    subject_id: str,
    extra: dict[str, Any] | None = None,
) -> None:
    """API呼出しの記録: which system called which operation about whom."""
    audit_event_record(
        event_type=EventType.API_CALLED,
        actor=None,
        subject_type=subject_type,
        subject_id=subject_id,
        purpose=scope.purpose,
        extra={
            "api": {
                "client": client.name,
                "client_kind": client.kind,
                "operation": operation,
                "scope": str(scope),
                **(extra or {}),
            }
        },
    )


def api_refusal_record(
    *,
    client: ApiClient | None,
    operation: str,
    code: str,
    reason: str,
    path: str,
    field: str | None = None,
    remote_addr: str = "",
) -> None:
    """API呼出しの拒否の記録 (認証・権限・入力). The token itself is never written."""
    audit_event_record(
        event_type=EventType.API_REFUSED,
        actor=None,
        subject_type=SubjectType.SYSTEM,
        subject_id=f"api_client:{client.name}" if client else "api",
        extra={
            "api": {
                "client": client.name if client else None,
                "operation": operation,
                "code": code,
                "reason": reason,
                "field": field,
                "path": path[:200],
                "remote_addr": remote_addr,
            }
        },
    )
