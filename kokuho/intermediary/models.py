"""情報照会 (queries through the 情報提供ネットワークシステム) and their files.

`InfoQuery` is one 照会: its 処理通番, the 事務 it is for, the row of the 主務省令 table it
asks (allowed by `allow_list.yaml`), the person (by 宛名番号 here, by 団体内統合宛名番号 on the
wire), the user, and its status request → pending → answered / error with the result.
`QueryFile` is a request file written out, `ResultFile` a result file read back. The
result is stored as the answered items (never a My Number: a result file carrying one is
refused whole).
"""

from django.conf import settings
from django.db import models

from kokuho.people.models import Person


class QueryStatus(models.TextChoices):
    REQUESTED = "requested", "依頼（未送信）"
    PENDING = "pending", "照会中（結果待ち）"
    ANSWERED = "answered", "回答あり"
    ERROR = "error", "エラー"


class QueryFile(models.Model):
    """照会依頼ファイル: the pending requests of one run, numbered without gaps."""

    sequence = models.PositiveIntegerField("通番", unique=True)
    file_name = models.CharField("ファイル名", max_length=120)
    sha256 = models.CharField("SHA-256", max_length=64)
    record_count = models.PositiveIntegerField("件数")
    created_at = models.DateTimeField("作成日時")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "照会依頼ファイル"

    def __str__(self) -> str:
        return self.file_name


class ResultFile(models.Model):
    """照会結果ファイル: a result file read back, matched by 処理通番."""

    file_name = models.CharField("ファイル名", max_length=255)
    sha256 = models.CharField("SHA-256", max_length=64, unique=True)
    imported_at = models.DateTimeField("取込日時")
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    counts = models.JSONField("件数", default=dict)
    unknown = models.JSONField("対応する照会のない結果", default=list)

    class Meta:
        verbose_name = "照会結果ファイル"

    def __str__(self) -> str:
        return self.file_name


class InfoQuery(models.Model):
    """情報照会: one request to another body, and its result."""

    serial = models.CharField("処理通番", max_length=22, unique=True)
    purpose = models.CharField("事務", max_length=40)
    row = models.CharField("照会する項", max_length=40)
    legal_reference = models.CharField("法令上の根拠", max_length=300)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    integrated_no = models.CharField("団体内統合宛名番号", max_length=15)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="依頼した職員",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField("依頼日時")
    status = models.CharField(
        "状態", max_length=20, choices=QueryStatus.choices, default=QueryStatus.REQUESTED
    )
    request_file = models.ForeignKey(
        QueryFile, null=True, blank=True, on_delete=models.PROTECT, related_name="queries"
    )
    result_file = models.ForeignKey(
        ResultFile, null=True, blank=True, on_delete=models.PROTECT, related_name="queries"
    )
    answered_at = models.DateTimeField("結果の受領日時", null=True, blank=True)
    result_status = models.CharField("結果区分", max_length=1, blank=True)
    result_code = models.CharField("エラーコード", max_length=10, blank=True)
    result_message = models.CharField("メッセージ", max_length=200, blank=True)
    result = models.JSONField("結果の項目", default=dict, blank=True)

    class Meta:
        verbose_name = "情報照会"
        indexes = [models.Index(fields=["status"]), models.Index(fields=["person", "requested_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=QueryStatus.values), name="info_query_status"
            ),
            models.CheckConstraint(
                condition=~models.Q(status=QueryStatus.PENDING)
                | models.Q(request_file__isnull=False),
                name="info_query_pending_has_file",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.serial} {self.row} ({self.status})"
