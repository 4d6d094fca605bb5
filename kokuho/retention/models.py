"""Records management (文書の保存期間と消去): the retention job's runs and deletion records.

A `DeletionRecord` (消去記録) says what class of data was erased, under which rule, up to
which date, how many and when — never which persons or what they contained: the record
of an erasure must not keep what was erased (privacy.md §2 保管・消去). It is written in the
same transaction as the deletion it records and is append-only (trigger in 0001).
"""

from django.conf import settings
from django.db import models


class DataClass(models.TextChoices):
    """データの区分 — one retention rule each (privacy.md §3)."""

    MY_NUMBER = "my_number", "個人番号（保管庫）"
    RECORDS = "records", "住民・世帯・資格の記録"
    CLAIMS = "claims", "レセプト（診療報酬明細書）"
    BENEFIT_DECISIONS = "benefit_decisions", "給付の申請・決定（変更決定の連鎖ごと）"
    PAYMENTS = "payments", "支払の記録（支払予定・支払処理・振込ファイル）"
    PAYEE_ACCOUNTS = "payee_accounts", "振込先口座（版ごと）"
    INTERFACE_RAW = "interface_raw", "連携ファイルの保留行（原データ）"
    INTERFACE_UPLOADS = "interface_uploads", "取込ファイルの原本（アップロード）"
    INTERFACE_LEDGER = "interface_ledger", "取込台帳"
    DOCUMENT_PRINTS = "document_prints", "証・通知の印刷ファイル（郵送バッチ・返還のお願い）"
    AUDIT = "audit", "アクセス記録・監査ログ"


class RunStatus(models.TextChoices):
    RUNNING = "running", "実行中"
    DONE = "done", "完了"
    FAILED = "failed", "失敗"


class RetentionRun(models.Model):
    """消去処理の実行: one run of the retention job as of a date (基準日)."""

    as_of = models.DateField("基準日")
    started_at = models.DateTimeField("開始日時")
    finished_at = models.DateTimeField("終了日時", null=True, blank=True)
    status = models.CharField(
        "状態", max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING
    )
    # Counts per data class only, never identifiers.
    counts = models.JSONField("区分ごとの消去件数", default=dict)
    key_rotated = models.BooleanField("暗号鍵を更新した", default=False)
    error_message = models.TextField("エラー内容", blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="実行者（空欄はシステム）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = "消去処理の実行"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status=RunStatus.RUNNING, finished_at__isnull=True)
                | (~models.Q(status=RunStatus.RUNNING) & models.Q(finished_at__isnull=False)),
                name="retention_run_finished_when_closed",
            )
        ]

    def __str__(self) -> str:
        return f"消去処理 {self.pk}（基準日 {self.as_of}、{self.get_status_display()}）"


class DeletionRecord(models.Model):
    """消去記録: one committed erasure of one data class (a chunk of a run).

    `cutoff` is the first reference date still kept: data whose reference date (資格喪失日,
    最終異動日, 発生日 …, per the rule) lies before it were erased. `tables` counts the
    rows removed per table. Append-only."""

    run = models.ForeignKey(
        RetentionRun, verbose_name="消去処理", on_delete=models.PROTECT, related_name="deletions"
    )
    data_class = models.CharField("データの区分", max_length=20, choices=DataClass.choices)
    rule = models.CharField("規則", max_length=100)
    cutoff = models.DateField("基準日がこの日より前のものを消去")
    count = models.PositiveIntegerField("消去件数")
    tables = models.JSONField("内訳（表ごとの行数）", default=dict)
    erased_at = models.DateTimeField("消去日時")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="実行者（空欄はシステム）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = "消去記録"
        indexes = [models.Index(fields=["data_class", "erased_at"])]

    def __str__(self) -> str:
        return f"{self.get_data_class_display()} {self.count} 件（{self.rule}）"
