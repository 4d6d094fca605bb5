"""API clients (API利用システム) and their tokens.

One `ApiClient` per city system; its tokens are separate rows (`ApiToken`), so a rotation
adds a row and ends the old one instead of overwriting it, and the history of who was
issued what stays. A token is stored as the SHA-256 of its text only: the text is shown
once, when issued, and cannot be recovered from the database.
"""

from django.conf import settings
from django.db import models

from kokuho.cityapi.scopes import SystemKind


class ApiClient(models.Model):
    """API利用システム: one city system and what it may do (`scopes`)."""

    name = models.CharField("名称", max_length=60, unique=True)
    kind = models.CharField("システムの種別", max_length=30, choices=SystemKind.choices)
    scopes = models.JSONField("スコープ", default=list)
    active = models.BooleanField("有効", default=True)
    created_at = models.DateTimeField("登録日時")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登録者",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    rotated_at = models.DateTimeField("鍵の再発行日時", null=True, blank=True)
    rotated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="再発行者",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    revoked_at = models.DateTimeField("失効日時", null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="失効させた者",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = "API利用システム"
        constraints = [
            # A revoked client stays revoked: a new credential is a new client.
            models.CheckConstraint(
                condition=models.Q(active=True, revoked_at__isnull=True)
                | models.Q(active=False, revoked_at__isnull=False),
                name="api_client_revoked_inactive",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class ApiToken(models.Model):
    """An issued token: its SHA-256, the first characters for people to tell tokens apart,
    and until when it is valid (`expires_at` null: until rotated or revoked)."""

    client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, related_name="tokens")
    token_sha256 = models.CharField("トークンのSHA-256", max_length=64, unique=True)
    prefix = models.CharField("先頭の文字（識別用）", max_length=16)
    issued_at = models.DateTimeField("発行日時")
    expires_at = models.DateTimeField("失効日時", null=True, blank=True)

    class Meta:
        verbose_name = "APIトークン"
        indexes = [models.Index(fields=["client", "issued_at"])]

    def __str__(self) -> str:
        return f"{self.client_id} {self.prefix}…"
