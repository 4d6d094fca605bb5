"""The import ledger (取込台帳) and the quarantine (保留行) shared by every file importer.

`ImportFile` is one attempt to read a file; `ImportedRecord` is the ledger of record ids
that were applied, with the hash of the row as it was applied, so that a re-run is a no-op
and a changed record under a known id is caught as a conflict. `QuarantinedRow` keeps every
row that could not be applied, exactly as read, until staff correct and re-submit it or
discard it: an import never loses a record.
"""

from django.conf import settings
from django.db import models


class ImportKind(models.TextChoices):
    """取込ファイルの種類 — one per layout in interfaces.md."""

    RESIDENTS_CHANGES = "residents_changes", "住基異動"
    INCOME = "income", "所得"
    CLAIMS = "claims", "レセプト"
    MYNA_STATUS = "myna_status", "マイナ保険証の利用登録状況"


class ImportErrorCode(models.TextChoices):
    """Why a row was quarantined (保留理由の分類). The message itself says more."""

    ROW_SHAPE = "row_shape", "列数の不一致"
    REQUIRED = "required", "必須項目の欠落"
    INVALID_DATE = "invalid_date", "日付の誤り"
    INVALID_NUMBER = "invalid_number", "数値の誤り"
    INVALID_CODE = "invalid_code", "コード値の誤り"
    INVALID_KANA = "invalid_kana", "カナ氏名の誤り"
    INVALID_VALUE = "invalid_value", "値の誤り"
    TOO_LONG = "too_long", "桁数の超過"
    UNKNOWN_RESIDENT = "unknown_resident", "住民が見つからない"
    UNKNOWN_HOUSEHOLD = "unknown_household", "世帯が見つからない"
    UNKNOWN_NUMBER = "unknown_number", "番号不明"
    OTHER_INSURER = "other_insurer", "他保険者の番号"
    CONFLICT = "conflict", "レコードIDの競合"
    REJECTED = "rejected", "登録内容と矛盾"
    MY_NUMBER_LIKE = "my_number_like", "個人番号と思われる値"


class ImportFileStatus(models.TextChoices):
    """取込の状態. A run killed outright cannot say so itself: it stays `running` until
    `import_files_interrupted_mark` finds its process gone or its heartbeat stale."""

    RUNNING = "running", "取込中"
    DONE = "done", "完了"
    REFUSED = "refused", "取込拒否"
    INTERRUPTED = "interrupted", "中断"


IMPORT_FILE_FINISHED = (ImportFileStatus.DONE, ImportFileStatus.REFUSED)


class ImportFile(models.Model):
    """取込ファイル: one run of an importer over one file (also the runs that were refused).

    `worker` (host:pid) and `heartbeat_at` (each committed chunk) let a later run tell a
    live import from one whose process died (中断); `resumed_from` links the run that
    continued an interrupted one — the ledger makes the continuation skip what was applied."""

    kind = models.CharField("種類", max_length=20, choices=ImportKind.choices)
    file_name = models.CharField("ファイル名", max_length=255)
    sha256 = models.CharField("SHA-256", max_length=64, db_index=True)
    encoding = models.CharField("文字コード", max_length=20, blank=True)
    started_at = models.DateTimeField("開始日時")
    finished_at = models.DateTimeField("終了日時", null=True, blank=True)
    counts = models.JSONField("件数", default=dict)
    rejected_reason = models.TextField("取込拒否の理由", blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="実行者",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        "状態", max_length=12, choices=ImportFileStatus.choices, default=ImportFileStatus.RUNNING
    )
    worker = models.CharField("実行プロセス", max_length=80, blank=True)
    heartbeat_at = models.DateTimeField("最終進捗日時", null=True, blank=True)
    interrupted_at = models.DateTimeField("中断検知日時", null=True, blank=True)
    resumed_from = models.OneToOneField(
        "self",
        verbose_name="再開元の取込",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="resumed_by",
    )

    class Meta:
        verbose_name = "取込ファイル"
        indexes = [
            models.Index(fields=["kind", "started_at"]),
            # The few runs not yet finished: what the interruption check reads.
            models.Index(
                fields=["status"],
                name="import_file_unfinished",
                condition=models.Q(status__in=["running", "interrupted"]),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(status__in=IMPORT_FILE_FINISHED, finished_at__isnull=False)
                    | (
                        ~models.Q(status__in=IMPORT_FILE_FINISHED)
                        & models.Q(finished_at__isnull=True)
                    )
                ),
                name="import_file_finished_when_done",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=ImportFileStatus.INTERRUPTED)
                | models.Q(interrupted_at__isnull=False),
                name="import_file_interrupted_when",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.file_name} ({self.started_at:%Y-%m-%d %H:%M})"


class ImportedRecord(models.Model):
    """取込済みレコード: a record id that was applied, and the hash of its row."""

    kind = models.CharField("種類", max_length=20, choices=ImportKind.choices)
    record_id = models.CharField("レコードID", max_length=40)
    row_sha256 = models.CharField("行のSHA-256", max_length=64)
    file = models.ForeignKey(
        ImportFile, verbose_name="取込ファイル", on_delete=models.PROTECT, related_name="records"
    )
    line = models.PositiveIntegerField("行番号")
    applied_at = models.DateTimeField("反映日時")

    class Meta:
        verbose_name = "取込済みレコード"
        constraints = [
            models.UniqueConstraint(fields=["kind", "record_id"], name="imported_record_once")
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.record_id}"


class QuarantineStatus(models.TextChoices):
    OPEN = "open", "未処理"
    RESUBMITTED = "resubmitted", "修正して再投入済み"
    DISCARDED = "discarded", "破棄"


class QuarantinedRow(models.Model):
    """保留行: a row that could not be applied, as read, with the first error spelled out
    (`field`, `value`, `reason`) and every error of the row in `errors`."""

    file = models.ForeignKey(
        ImportFile,
        verbose_name="取込ファイル",
        on_delete=models.PROTECT,
        related_name="quarantined",
    )
    # Denormalised from the file so that "was this record id seen?" is one indexed lookup.
    kind = models.CharField("種類", max_length=20, choices=ImportKind.choices)
    line = models.PositiveIntegerField("行番号")
    record_id = models.CharField("レコードID", max_length=200, blank=True)
    field = models.CharField("項目", max_length=40, blank=True)
    value = models.TextField("値", blank=True)
    code = models.CharField("理由の分類", max_length=20, choices=ImportErrorCode.choices)
    reason = models.TextField("理由")
    errors = models.JSONField("すべての誤り", default=list)
    raw = models.JSONField("読み込んだ行")
    row_sha256 = models.CharField("行のSHA-256", max_length=64)
    status = models.CharField(
        "状態", max_length=12, choices=QuarantineStatus.choices, default=QuarantineStatus.OPEN
    )
    corrected = models.JSONField("修正後の行", null=True, blank=True)
    resolved_at = models.DateTimeField("処理日時", null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="処理者",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = "保留行"
        indexes = [
            models.Index(fields=["kind", "record_id"]),
            models.Index(fields=["status", "kind"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(status=QuarantineStatus.OPEN, resolved_at__isnull=True)
                    | (
                        ~models.Q(status=QuarantineStatus.OPEN)
                        & models.Q(resolved_at__isnull=False)
                    )
                ),
                name="quarantine_resolved_when_closed",
            )
        ]

    def __str__(self) -> str:
        return f"{self.file_id}:{self.line} {self.field} {self.reason}"


class ImportJobStatus(models.TextChoices):
    QUEUED = "queued", "待機中"
    RUNNING = "running", "取込中"
    DONE = "done", "完了"
    FAILED = "failed", "失敗"
    REJECTED = "rejected", "取込拒否"
    INTERRUPTED = "interrupted", "中断"


IMPORT_JOB_OPEN = (ImportJobStatus.QUEUED, ImportJobStatus.RUNNING)
IMPORT_JOB_RESUMABLE = (ImportJobStatus.INTERRUPTED, ImportJobStatus.FAILED)


class ImportJob(models.Model):
    """取込依頼: a file uploaded on screen, imported by the background worker.

    The upload is stored under `KOKUHO_UPLOAD_DIR` by its SHA-256 (`stored_name`), never by
    the name it was sent with (`file_name`, shown only). `done_rows`/`total_rows` follow the
    importer's committed chunks; `import_file` is the ledger row the run produced.
    """

    kind = models.CharField("種類", max_length=20, choices=ImportKind.choices)
    file_name = models.CharField("ファイル名", max_length=255)
    stored_name = models.CharField("保存名", max_length=64)
    sha256 = models.CharField("SHA-256", max_length=64)
    size = models.PositiveBigIntegerField("サイズ（バイト）")
    status = models.CharField(
        "状態", max_length=12, choices=ImportJobStatus.choices, default=ImportJobStatus.QUEUED
    )
    done_rows = models.PositiveIntegerField("処理済み件数", default=0)
    total_rows = models.PositiveIntegerField("全件数", default=0)
    import_file = models.ForeignKey(
        ImportFile,
        verbose_name="取込ファイル",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="jobs",
    )
    counts = models.JSONField("件数", default=dict)
    error_message = models.TextField("エラー内容", blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="依頼者",
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("依頼日時")
    started_at = models.DateTimeField("開始日時", null=True, blank=True)
    finished_at = models.DateTimeField("終了日時", null=True, blank=True)
    task_id = models.CharField("タスクID", max_length=64, blank=True)
    # 「続きから再開」: the 中断 or 失敗 job this one continues (same stored file). Its
    # 受付日 stays the first upload's: a file's date of receipt does not move on a retry.
    resumes = models.OneToOneField(
        "self",
        verbose_name="再開元の取込依頼",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="resumed_by",
    )

    class Meta:
        verbose_name = "取込依頼"
        indexes = [models.Index(fields=["-created_at"], name="import_job_recent")]
        constraints = [
            # A job is finished exactly when it has an end time, and started before that.
            models.CheckConstraint(
                condition=(
                    models.Q(status__in=IMPORT_JOB_OPEN, finished_at__isnull=True)
                    | (~models.Q(status__in=IMPORT_JOB_OPEN) & models.Q(finished_at__isnull=False))
                ),
                name="import_job_finished_when_closed",
            ),
            models.CheckConstraint(
                condition=models.Q(status=ImportJobStatus.QUEUED)
                | models.Q(started_at__isnull=False),
                name="import_job_started_unless_queued",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.file_name} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        """Still waiting for or in the worker: the screen keeps polling."""
        return self.status in IMPORT_JOB_OPEN

    @property
    def can_resume(self) -> bool:
        """Stopped part-way (中断 or 失敗) and not yet continued: 「続きから再開」 is offered."""
        return self.status in IMPORT_JOB_RESUMABLE and not hasattr(self, "resumed_by")


class ExportKind(models.TextChoices):
    """外部出力の種類. Each outbound file or feed is produced by its named job only
    (privacy.md §2 不正な提供・移転); a new feed adds its kind here."""

    DISCLOSURE = "disclosure", "保有個人情報の開示資料"
    INFO_LINKAGE_COPY = "info_linkage_copy", "中間サーバー 副本"
    ONLINE_ELIGIBILITY = "online_eligibility", "オンライン資格確認 資格履歴"
    NATIONAL_AGGREGATION = "national_aggregation", "国保情報集約システム"
    PAYMENT_TRANSFER = "payment_transfer", "口座振込ファイル（全銀 総合振込）"


class ExportRecord(models.Model):
    """外部出力記録 (export register): who produced which personal-data file, for whom, on
    which legal basis, how many records, and the file's SHA-256 — never the content.
    Append-only (trigger in 0003): the register is evidence for the 自己点検."""

    kind = models.CharField("種類", max_length=30, choices=ExportKind.choices)
    produced_at = models.DateTimeField("出力日時", db_index=True)
    produced_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="出力者",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    purpose = models.CharField("事務", max_length=40, blank=True)
    legal_basis = models.CharField("根拠", max_length=200)
    recipient = models.CharField("提供先", max_length=200)
    record_count = models.PositiveIntegerField("件数")
    file_name = models.CharField("ファイル名", max_length=200)
    file_sha256 = models.CharField("ファイルのSHA-256", max_length=64)
    reference = models.CharField("関連する記録", max_length=60, blank=True)

    class Meta:
        verbose_name = "外部出力記録"
        ordering = ["-produced_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.file_name} ({self.record_count})"
