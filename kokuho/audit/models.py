"""The audit trail (アクセス記録・操作記録): one table, one event shape, hash-chained.

After Zulip's RealmAuditLog: `event_type` is an enum, `extra` carries structured detail.
Each row's `row_hash` covers its content and the previous row's hash, so deleting or
editing a row breaks the chain (`audit_chain_verify`). Rows are never updated; on both
SQLite and PostgreSQL a trigger refuses UPDATE and DELETE (see the migration).
"""

from django.conf import settings
from django.db import models


class EventType(models.TextChoices):
    PERSON_VIEWED = "person_viewed", "住民情報の閲覧"
    HOUSEHOLD_VIEWED = "household_viewed", "世帯情報の閲覧"
    PERSON_SEARCHED = "person_searched", "住民の検索"
    LOGIN = "login", "ログイン"
    LOGIN_FAILED = "login_failed", "ログイン失敗"
    LOGOUT = "logout", "ログアウト"
    ACCESS_DENIED = "access_denied", "権限のない操作の拒否"
    PURPOSE_REFUSED = "purpose_refused", "許可されていない事務の拒否"
    RESIDENT_CHANGED = "resident_changed", "住民記録の異動反映"
    ELIGIBILITY_CHANGED = "eligibility_changed", "資格の変更（新しい版）"
    DEMO_CITY_GENERATED = "demo_city_generated", "デモ市の生成"
    FILE_IMPORTED = "file_imported", "連携ファイルの取込"
    IMPORT_SUBMITTED = "import_submitted", "連携ファイルの取込依頼"
    QUARANTINE_RESOLVED = "quarantine_resolved", "保留行の再投入・破棄"
    QUARANTINE_VIEWED = "quarantine_viewed", "保留行の閲覧"
    STAFF_CREATED = "staff_created", "職員アカウントの作成"
    # Accounts (権限のない者による不正使用)
    LOGIN_LOCKED_OUT = "login_locked_out", "ログインの一時停止（連続失敗）"
    MFA_ENROLLED = "mfa_enrolled", "二要素認証の登録"
    MFA_VERIFIED = "mfa_verified", "二要素認証の確認"
    MFA_FAILED = "mfa_failed", "二要素認証の失敗"
    TRAINING_RECORDED = "training_recorded", "研修受講の記録"
    TRAINING_REFUSED = "training_refused", "研修未受講による拒否"
    ACCESS_REVIEW = "access_review", "アクセス権の定期点検"
    # Identity vault (個人番号)
    MY_NUMBER_REGISTERED = "my_number_registered", "個人番号の登録"
    MY_NUMBER_REVEALED = "my_number_revealed", "個人番号の表示"
    MY_NUMBER_LOOKED_UP = "my_number_looked_up", "個人番号による検索"
    MY_NUMBER_REFUSED = "my_number_refused", "個人番号の取扱いの拒否"
    VAULT_KEY_ROTATED = "vault_key_rotated", "個人番号の暗号鍵の更新"
    # Incident register (重大事故・漏えい等報告, privacy.md §4)
    INCIDENT_OPENED = "incident_opened", "重大事故等の登録"
    INCIDENT_UPDATED = "incident_updated", "重大事故等の記録の更新"
    MY_NUMBER_ERASED = "my_number_erased", "個人番号の消去（保存期間経過）"
    # Self-inspection (自己点検)
    SELF_INSPECTION_RUN = "self_inspection_run", "自己点検の実施"
    SELF_INSPECTION_SIGNED = "self_inspection_signed", "自己点検の確認"
    # Retention and erasure (保管・消去)
    RETENTION_RUN = "retention_run", "保存期間経過データの消去処理"
    RECORDS_ERASED = "records_erased", "個人情報の消去（保存期間経過）"
    RETENTION_ERASED = "retention_erased", "監査ログの消去（保存期間経過）"
    # Data-subject requests (開示・訂正・利用停止) and exports (外部出力)
    SUBJECT_REQUEST_RECEIVED = "subject_request_received", "開示等請求の受付"
    SUBJECT_REQUEST_DECIDED = "subject_request_decided", "開示等請求の決定"
    DISCLOSURE_PRODUCED = "disclosure_produced", "開示資料の作成"
    PERSONAL_DATA_EXPORTED = "personal_data_exported", "個人情報の外部出力"
    # Account administration
    ACCOUNT_UNLOCKED = "account_unlocked", "ログイン停止の解除"
    KOGAKU_RUN = "kogaku_run", "高額療養費の月次計算"
    KOGAKU_APPLICATION = "kogaku_application", "高額療養費の支給申請の受付"
    KOGAKU_SIMPLIFICATION = "kogaku_simplification", "高額療養費の申請簡素化の届出"
    KOGAKU_DECIDED = "kogaku_decided", "高額療養費の支給決定"
    KOGAKU_PAID = "kogaku_paid", "高額療養費の支払の記録"
    KOGAKU_CARRIED = "kogaku_carried", "高額療養費の該当月の引継ぎ（県内の転居）"
    MYNA_STATUS_CHANGED = "myna_status_changed", "マイナ保険証の登録状況の更新"
    CERTIFICATE_ISSUED = "certificate_issued", "資格確認書・認定証等の交付"
    CERTIFICATE_INVALIDATED = "certificate_invalidated", "資格確認書・認定証等の無効"
    CERTIFICATE_RETURNED = "certificate_returned", "資格確認書・認定証等の返還の記録"
    CERTIFICATE_APPLICATION = "certificate_application", "認定証の申請の受付・審査"
    CERTIFICATE_RENEWAL = "certificate_renewal", "資格確認書等の一斉更新"
    CERTIFICATE_PRINTED = "certificate_printed", "資格確認書・認定証等の印刷"
    PAYEE_ACCOUNT_RECORDED = "payee_account_recorded", "振込先口座の登録・変更"
    PAYMENT_RUN = "payment_run", "支払処理（全銀ファイル・支払明細の作成）"
    PAYMENT_RETURNED = "payment_returned", "振込不能の記録"
    PAYMENT_PRINTED = "payment_printed", "支払明細書・支払通知書の印刷"
    PAYMENT_FILE_FETCHED = "payment_file_fetched", "支払処理のファイルの取得（ダウンロード）"
    BENEFIT_APPLICATION = (
        "benefit_application",
        "給付の申請の受付（療養費・出産育児一時金等）",
    )
    BENEFIT_DECIDED = "benefit_decided", "給付の決定（支給・不支給・変更決定）"
    COPAY_REDUCTION_APPLICATION = (
        "copay_reduction_application",
        "一部負担金の減額・免除・徴収猶予の申請の受付",
    )
    COPAY_REDUCTION_DECIDED = (
        "copay_reduction_decided",
        "一部負担金の減額・免除・徴収猶予の決定（不承認を含む）",
    )
    COPAY_REDUCTION_EXTENDED = (
        "copay_reduction_extended",
        "一部負担金の減額・免除・徴収猶予の期間の延長の決定",
    )
    KOGAKU_REFUSED = "kogaku_refused", "高額療養費の不支給決定"
    KOGAKU_CHANGED = "kogaku_changed", "高額療養費の変更決定（追加支給・返納）"
    KOGAKU_OUTPATIENT_YEAR = (
        "kogaku_outpatient_year",
        "高額療養費（外来年間合算・70〜74歳）の精算",
    )
    CLAIM_MATCH_RESOLVED = "claim_match_resolved", "未照合レセプトの解消（再照合）"
    ENTRUSTED_BATCH = "entrusted_batch", "柔整・あはき 受領委任分の取込・決定"
    DIRECT_PAYMENT_BATCH = "direct_payment_batch", "出産育児一時金 直接支払制度分の取込・決定"
    PAYEE_ORGANISATION_RECORDED = (
        "payee_organisation_recorded",
        "施術所・国保連合会等の振込先の登録・変更",
    )
    NATIONAL_EXPORTED = "national_exported", "国・国保連合会への連携ファイルの作成"
    NATIONAL_RESULT_IMPORTED = "national_result_imported", "連携ファイルの処理結果の取込"
    API_CALLED = "api_called", "庁内システムからのAPI呼出し"
    API_REFUSED = "api_refused", "API呼出しの拒否（認証・権限・入力）"
    API_CLIENT_CHANGED = "api_client_changed", "API利用システムの登録・鍵の発行・失効"
    NATIONAL_FILE_READ = "national_file_read", "連携ファイル（暗号化）の読出し"
    MY_NUMBER_LINKAGE_READ = (
        "my_number_linkage_read",
        "連携ファイル作成のための個人番号の取得（一括処理）",
    )
    NATIONAL_WORK_ITEM_RESOLVED = "national_work_item_resolved", "連携の作業項目の解決"
    INFO_QUERY_REQUESTED = "info_query_requested", "情報照会の依頼"
    INFO_QUERY_REFUSED = "info_query_refused", "情報照会の拒否（許可されていない照会）"
    INFO_QUERY_ANSWERED = "info_query_answered", "情報照会の結果の受領"
    INFO_QUERY_RESULT_VIEWED = "info_query_result_viewed", "情報照会の結果の閲覧"
    KOGAKU_CARRY_DECIDED = "kogaku_carry_decided", "高額該当引継（世帯の継続性）の確認"
    CASE_OPENED = "case_opened", "調査・求償の案件の開始（資格喪失後受診など）"
    CASE_STEP = "case_step", "調査・求償の案件の経過（請求・収納・同意など）"
    CASE_CLOSED = "case_closed", "調査・求償の案件の終結"
    WORK_ASSIGNED = "work_assigned", "作業キューの担当・期限の変更"


def event_type_label(value: str | None) -> str:
    """The report's name for an event type — never an exception: the row being reported may
    be the one whose type was tampered with."""
    if not value:
        return "不明"
    if value in EventType.values:
        return EventType(value).label
    return f"未知の種類「{value[:40]}」"


class SubjectType(models.TextChoices):
    PERSON = "person", "住民"
    HOUSEHOLD = "household", "世帯"
    STAFF = "staff", "職員"
    SYSTEM = "system", "システム"
    INCIDENT = "incident", "重大事故等"
    INSPECTION = "inspection", "自己点検"
    SUBJECT_REQUEST = "subject_request", "開示等請求"
    EXPORT = "export", "外部出力"


class AuditEvent(models.Model):
    """監査イベント. Subjects are kept by number (宛名番号/世帯番号), not foreign key, so that
    the trail outlives the erasure of the records it describes (retention: 7 years)."""

    seq = models.BigAutoField(primary_key=True)
    event_type = models.CharField(max_length=40, choices=EventType.choices)
    occurred_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    actor_username = models.CharField(max_length=150, blank=True)
    subject_type = models.CharField(max_length=20, choices=SubjectType.choices)
    subject_id = models.CharField(max_length=40, blank=True, db_index=True)
    purpose = models.CharField("事務", max_length=40, blank=True)
    extra = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    row_hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = "監査イベント"
        indexes = [models.Index(fields=["subject_type", "subject_id", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.seq} {self.event_type} {self.subject_type}:{self.subject_id}"


class AuditChainHead(models.Model):
    """The single row that serialises appends to the chain (locked FOR UPDATE)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="audit_head_single")]

    def __str__(self) -> str:
        return f"head seq={self.last_seq}"


class AuditCheckpoint(models.Model):
    """監査ログの消去記録: the retention job removed every event up to `through_seq`
    (decision 42). `audit_chain_verify` starts from the newest checkpoint's hash, so the
    chain stays verifiable after the cut; the checkpoint is the deletion record of the
    audit class (how many, when, by which rule) and keeps none of the removed content.
    Append-only (trigger in 0009)."""

    through_seq = models.BigIntegerField("消去した最後の連番", unique=True)
    through_hash = models.CharField("その行のハッシュ", max_length=64)
    rows_removed = models.PositiveIntegerField("消去した件数")
    removed_at = models.DateTimeField("消去日時")
    rule = models.CharField("根拠（保存期間の規則）", max_length=100)

    class Meta:
        verbose_name = "監査ログの消去記録"
        ordering = ["through_seq"]

    def __str__(self) -> str:
        return f"checkpoint ≤{self.through_seq} ({self.rows_removed})"


class IncidentKind(models.TextChoices):
    """事態の種類 (privacy.md §2: 漏えい・滅失・毀損, and the access that causes them)."""

    LEAK = "leak", "漏えい"
    LOSS = "loss", "滅失"
    DAMAGE = "damage", "毀損"
    UNAUTHORIZED_ACCESS = "unauthorized_access", "不正アクセス"
    OTHER = "other", "その他"


class ReportKind(models.TextChoices):
    """The two reports to the 個人情報保護委員会 (privacy.md §4)."""

    PRELIMINARY = "preliminary", "速報"
    FINAL = "final", "確報"


class Incident(models.Model):
    """重大事故・漏えい等事案 — one row of the incident register (privacy.md §4).

    The report deadlines (速報, 確報) are computed from `discovered_at` and the dated
    parameters under `rules/parameters/privacy/`, never stored: a change of law or of the
    facts (不正の目的) moves them without a data fix. Rows change only through
    `audit.services.incident_*`, each change an audit event; the narrative is kept in
    `IncidentNote`, which is append-only."""

    title = models.CharField("件名", max_length=200)
    description = models.TextField("概要")
    discovered_at = models.DateTimeField("発覚日時")
    occurred_at = models.DateTimeField("発生日時", null=True, blank=True)
    kind = models.CharField("事態の種類", max_length=30, choices=IncidentKind.choices)
    wrongful_intent = models.BooleanField("不正の目的によるおそれ", default=False)
    persons_affected = models.PositiveIntegerField("本人の数", null=True, blank=True)
    includes_my_number = models.BooleanField("特定個人情報を含む", default=False)
    reportable = models.BooleanField("報告対象", default=False)
    preliminary_reported_at = models.DateTimeField("速報日時", null=True, blank=True)
    final_reported_at = models.DateTimeField("確報日時", null=True, blank=True)
    persons_notified_at = models.DateTimeField("本人通知日時", null=True, blank=True)
    closed_at = models.DateTimeField("終結日時", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("登録日時")

    class Meta:
        verbose_name = "重大事故等"
        constraints = [
            # 確報 follows 速報 (both are recorded when they were sent together).
            models.CheckConstraint(
                condition=models.Q(final_reported_at__isnull=True)
                | models.Q(preliminary_reported_at__isnull=False),
                name="incident_final_after_preliminary",
            ),
            models.CheckConstraint(
                condition=models.Q(occurred_at__isnull=True)
                | models.Q(occurred_at__lte=models.F("discovered_at")),
                name="incident_occurred_before_discovered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pk} {self.title}"


class IncidentNote(models.Model):
    """経過記録: one entry of an incident's timeline. Append-only (trigger in 0008)."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="notes")
    written_at = models.DateTimeField("記録日時")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField("内容")

    class Meta:
        verbose_name = "重大事故等の経過記録"
        ordering = ["written_at", "pk"]

    def __str__(self) -> str:
        return f"{self.incident_id} {self.written_at:%Y-%m-%d %H:%M}"


class SelfInspection(models.Model):
    """自己点検: one run of the month's self-inspection and, later, the 所属長's 確認.

    `findings` is the snapshot taken when it was run (what the supervisor reads and signs),
    never recomputed: the accounts and the trail go on changing. It names staff and holds
    宛名番号・世帯番号 only — no resident's name, no My Number, no free text from the
    trail. A re-run for the same month is a new row (history kept). The snapshot columns
    never change and a signed row is final (trigger in 0010)."""

    month = models.DateField("点検対象月（初日）", db_index=True)
    run_at = models.DateTimeField("実施日時")
    run_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="実施者",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    schema_version = models.PositiveSmallIntegerField("記録形式の版")
    findings = models.JSONField("点検結果（実施時点の記録）")
    counts = models.JSONField("指摘の件数")
    signed_at = models.DateTimeField("確認日時", null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="確認者（所属長）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    checklist = models.JSONField("点検項目の確認結果", default=dict)
    comment = models.TextField("所見", blank=True)

    class Meta:
        verbose_name = "自己点検"
        ordering = ["-month", "-run_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(signed_at__isnull=True, signed_by__isnull=True)
                | models.Q(signed_at__isnull=False, signed_by__isnull=False),
                name="self_inspection_signed_pair",
            ),
            # Separation of duties: whoever ran it does not confirm it.
            models.CheckConstraint(
                condition=models.Q(signed_by__isnull=True)
                | models.Q(run_by__isnull=True)
                | ~models.Q(signed_by=models.F("run_by")),
                name="self_inspection_signer_not_runner",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pk} {self.month:%Y-%m}"
