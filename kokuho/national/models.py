"""The outbound ledger (送信台帳) of the national links, and what came back.

`OutboundFile` is one file of a feed, numbered without gaps per feed; `OutboundRecord` the
records it carried (one row per record, with its key and the line as written, so that the
file can be written again byte for byte and a result can be matched to what was sent);
`SentState` the last state of each key the other side holds, against which a delta is
computed. `ResultFile` is an imported 処理結果; `NationalWorkItem` what a clerk must fix
before a record can leave (a character Shift_JIS cannot carry).
"""

from django.conf import settings
from django.db import models

from kokuho.interfaces.models import ExportRecord
from kokuho.people.models import Person


class Feed(models.TextChoices):
    """連携フィード — one per descriptor sent (`layout` id of `layouts/`)."""

    SHUYAKU_HOUSEHOLD = "shuyaku_household", "国保情報集約システム 資格情報（世帯）"
    SHUYAKU_PERSON = "shuyaku_person", "国保情報集約システム 資格情報（個人）"
    SHUYAKU_INCOME_CATEGORY = "shuyaku_income_category", "国保情報集約システム 世帯所得区分情報"
    SHUYAKU_KOGAKU = "shuyaku_kogaku", "国保情報集約システム 高額該当情報"
    SHUYAKU_KOGAKU_CARRY = "shuyaku_kogaku_carry", "国保情報集約システム 高額該当引継 確定"
    ONSHI_HISTORY = "onshi_history", "オンライン資格確認 資格履歴"
    FUKUHON = "fukuhon", "中間サーバー 副本"


class Processing(models.TextChoices):
    """処理区分 (the code table `processing_kind`)."""

    NEW = "1", "新規"
    CHANGE = "2", "変更"
    DELETE = "3", "削除"
    CORRECT = "4", "訂正"  # オンライン資格確認: a record re-sent after a J-LIS mismatch was fixed


class AckResult(models.TextChoices):
    ACCEPTED = "accepted", "全件受付"
    PARTLY_REJECTED = "partly_rejected", "一部不備"


class RecordResult(models.TextChoices):
    ACCEPTED = "accepted", "受付"
    REJECTED = "rejected", "不備"
    JLIS_MISMATCH = "jlis_mismatch", "住基照合（J-LIS）不一致"
    SUPERSEDED = "superseded", "後の送信で置き換え"


class OutboundFile(models.Model):
    """送信ファイル: one file of a feed — gapless `sequence`, hash, count, acknowledgement."""

    feed = models.CharField("フィード", max_length=40, choices=Feed.choices)
    sequence = models.PositiveIntegerField("通番")
    as_of = models.DateField("基準日")
    full = models.BooleanField("全件")
    file_name = models.CharField("ファイル名", max_length=120)
    sha256 = models.CharField("SHA-256", max_length=64, blank=True)
    record_count = models.PositiveIntegerField("件数", default=0)
    counts = models.JSONField("処理区分ごとの件数", default=dict)
    layout_version = models.CharField("レイアウト版", max_length=20)
    assumed = models.BooleanField("推定レイアウト")
    created_at = models.DateTimeField("作成日時")
    sent_at = models.DateTimeField("送信日時", null=True, blank=True)
    acknowledged_at = models.DateTimeField("処理結果の受領日時", null=True, blank=True)
    ack_result = models.CharField("処理結果", max_length=20, choices=AckResult.choices, blank=True)
    export = models.ForeignKey(
        ExportRecord,
        verbose_name="外部出力記録",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = "送信ファイル"
        constraints = [
            models.UniqueConstraint(fields=["feed", "sequence"], name="national_file_sequence"),
            models.UniqueConstraint(fields=["feed", "as_of"], name="national_file_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.feed} #{self.sequence} {self.file_name}"


class OutboundRecord(models.Model):
    """送信レコード: a record a file carried, with the line written and the result."""

    file = models.ForeignKey(OutboundFile, on_delete=models.PROTECT, related_name="records")
    line_no = models.PositiveIntegerField("行番号")
    key = models.CharField("キー", max_length=200)
    subject = models.PositiveBigIntegerField("対象")  # person, or 記号・番号 (HouseholdNumber)
    processing = models.CharField("処理区分", max_length=1, choices=Processing.choices)
    line = models.TextField("レコード")
    result = models.CharField("結果", max_length=20, choices=RecordResult.choices, blank=True)
    result_code = models.CharField("結果コード", max_length=20, blank=True)
    result_message = models.CharField("結果メッセージ", max_length=200, blank=True)

    class Meta:
        verbose_name = "送信レコード"
        constraints = [
            models.UniqueConstraint(fields=["file", "key"], name="national_record_once_per_file"),
        ]
        indexes = [
            models.Index(fields=["file", "line_no"]),
            # The person's access history: every file that carried them (person-keyed feeds).
            models.Index(fields=["subject", "file"], name="national_record_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.file_id}:{self.line_no} {self.key}"


class SentState(models.Model):
    """送信済みの状態: per feed and key, what the other side holds after our last file."""

    feed = models.CharField("フィード", max_length=40, choices=Feed.choices)
    key = models.CharField("キー", max_length=200)
    subject = models.PositiveBigIntegerField("対象")
    content_sha256 = models.CharField("内容のSHA-256", max_length=64)
    line = models.TextField("最後に送ったレコード")
    deleted = models.BooleanField("削除済み", default=False)
    file = models.ForeignKey(OutboundFile, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "送信済みの状態"
        constraints = [
            models.UniqueConstraint(fields=["feed", "key"], name="national_state_key"),
        ]
        indexes = [models.Index(fields=["feed", "subject"])]

    def __str__(self) -> str:
        return f"{self.feed} {self.key}"


class ResultFile(models.Model):
    """処理結果ファイル: an imported result, matched to the file it answers."""

    file_name = models.CharField("ファイル名", max_length=255)
    sha256 = models.CharField("SHA-256", max_length=64, unique=True)
    imported_at = models.DateTimeField("取込日時")
    outbound = models.ForeignKey(OutboundFile, on_delete=models.PROTECT, related_name="results")
    counts = models.JSONField("件数", default=dict)
    unknown = models.JSONField("送っていないレコードへの結果", default=list)

    class Meta:
        verbose_name = "処理結果ファイル"

    def __str__(self) -> str:
        return f"{self.file_name} → {self.outbound_id}"


class WorkItemKind(models.TextChoices):
    CHARSET = "charset", "Shift_JIS で書けない文字（外字）"
    JLIS_MISMATCH = "jlis_mismatch", "住基照合（J-LIS）の不一致"
    NO_MY_NUMBER = "no_my_number", "個人番号なし（オンライン資格確認が使えない）"
    CONTINUITY_GAP = "continuity_gap", "資格継続: 空白期間"
    CONTINUITY_OVERLAP = "continuity_overlap", "資格継続: 重複期間"
    CONTINUITY_CARRIED = "continuity_carried", "資格継続: 引き継いだ取得日・喪失日"
    FUKUHON_NO_NUMBER = "fukuhon_no_number", "副本: 個人番号未設定により未提供"


class NationalWorkItem(models.Model):
    """連携の作業項目: a record held back until a clerk fixes it (never sent with a `?`)."""

    feed = models.CharField("フィード", max_length=40, choices=Feed.choices)
    kind = models.CharField("種類", max_length=20, choices=WorkItemKind.choices)
    key = models.CharField("キー", max_length=200)
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    message = models.CharField("内容", max_length=300)
    detail = models.JSONField("詳細", default=dict, blank=True)  # e.g. the 5 items held/returned
    created_at = models.DateTimeField("作成日時")
    resolved_at = models.DateTimeField("解決日時", null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="解決した職員",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    resolution = models.CharField("解決の内容", max_length=300, blank=True)
    # 版: +1 with each resolution at the counter (kokuho.core.concurrency)
    version = models.PositiveIntegerField("版", default=1)

    class Meta:
        verbose_name = "連携の作業項目"
        constraints = [
            models.UniqueConstraint(
                fields=["feed", "kind", "key"],
                condition=models.Q(resolved_at__isnull=True),
                name="national_work_item_open_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.feed} {self.kind} {self.key}"
