"""Documents the NHI section issues (証・通知): 資格確認書, 資格情報のお知らせ and the 認定証.

Since 2024-12-02 no new 被保険者証 is issued; `documents.md` lists what is issued now. Each
issued document keeps the items printed on it as they were printed (`printed`, a snapshot:
what the resident holds), its validity, why and how it was issued, and its life afterwards
(有効 → 無効, with a 返還 request where the law asks for the card back, and 返還済).
"""

from django.conf import settings
from django.db import models

from kokuho.people.models import Household, Person


class DocumentType(models.TextChoices):
    """証・通知の種類."""

    KAKUNINSHO = "kakuninsho", "資格確認書"
    OSHIRASE = "oshirase", "資格情報のお知らせ"
    GENDOGAKU = "gendogaku", "限度額適用認定証"
    GENGAKU = "gengaku", "限度額適用・標準負担額減額認定証"
    TOKUTEI = "tokutei", "特定疾病療養受療証"


# The 認定証 (certificates issued on application); a 資格確認書 is one too for the 返還 rule.
CERTIFICATE_TYPES = (DocumentType.GENDOGAKU, DocumentType.GENGAKU, DocumentType.TOKUTEI)
RETURN_REQUIRED_TYPES = (DocumentType.KAKUNINSHO, *CERTIFICATE_TYPES)


class IssueReason(models.TextChoices):
    """交付事由."""

    NEW = "new", "新規"
    RENEWAL = "renewal", "更新"
    REISSUE = "reissue", "再交付"
    CHANGE = "change", "記載事項変更"


class Delivery(models.TextChoices):
    """交付方法."""

    COUNTER = "counter", "窓口交付"
    MAIL = "mail", "郵送"


class DocumentStatus(models.TextChoices):
    VALID = "valid", "有効"
    INVALID = "invalid", "無効"
    RETURNED = "returned", "返還済"


class InvalidReason(models.TextChoices):
    """無効事由."""

    LOST_ELIGIBILITY = "lost_eligibility", "資格喪失"
    CHANGE = "change", "記載事項変更による再交付"
    REISSUE = "reissue", "再交付（紛失・汚損等）"
    RENEWAL = "renewal", "更新"
    NO_LONGER_ENTITLED = "no_longer_entitled", "交付要件の非該当"


class MynaStatus(models.TextChoices):
    """マイナ保険証の利用登録の状況 (from the national side's file, per person)."""

    REGISTERED = "registered", "利用登録済み"
    UNREGISTERED = "unregistered", "未登録"
    CANCELLED = "cancelled", "利用登録の解除"
    CARD_EXPIRED = "card_expired", "電子証明書の有効期限切れ"


class MynaRegistration(models.Model):
    """マイナ保険証の登録状況 of a person, as last reported, and a 要配慮者 request for a
    資格確認書 (交付申請). One row per person, updated in place; every change is audited."""

    person = models.OneToOneField(
        Person, on_delete=models.PROTECT, primary_key=True, related_name="myna_registration"
    )
    status = models.CharField("登録状況", max_length=20, choices=MynaStatus.choices)
    status_as_of = models.DateField("状況の基準日")
    kakuninsho_requested_on = models.DateField(
        "資格確認書の交付申請日（要配慮者）", null=True, blank=True
    )
    updated_at = models.DateTimeField("更新日時", auto_now=True)

    class Meta:
        verbose_name = "マイナ保険証の登録状況"

    def __str__(self) -> str:
        return f"{self.person_id}: {self.status}"


class RenewalStatus(models.TextChoices):
    QUEUED = "queued", "待機中"
    RUNNING = "running", "処理中"
    DONE = "done", "完了"
    FAILED = "failed", "失敗"


class RenewalRun(models.Model):
    """一斉更新: one run of the yearly renewal for a date (the new validity's first day)."""

    renewal_date = models.DateField("更新日（新しい有効期間の初日）")
    status = models.CharField(
        "状態", max_length=10, choices=RenewalStatus.choices, default=RenewalStatus.QUEUED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField("依頼日時", auto_now_add=True)
    started_at = models.DateTimeField("開始日時", null=True, blank=True)
    finished_at = models.DateTimeField("終了日時", null=True, blank=True)
    stage = models.CharField("処理段階", max_length=40, blank=True)
    done = models.PositiveIntegerField("処理済み", default=0)
    total = models.PositiveIntegerField("全体", default=0)
    counts = models.JSONField("件数", default=dict)
    error = models.TextField("エラー", blank=True)
    task_id = models.CharField("タスクID", max_length=64, blank=True)
    # The process running it and its last sign of life (`kokuho.core.liveness`).
    worker = models.CharField("実行プロセス", max_length=80, blank=True)
    heartbeat_at = models.DateTimeField("最終進捗日時", null=True, blank=True)

    class Meta:
        verbose_name = "一斉更新"
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"更新 {self.renewal_date} ({self.status})"


class MailingBatch(models.Model):
    """郵送の一括印刷: one PDF of documents sorted by postal code, as written to disk."""

    renewal = models.ForeignKey(
        RenewalRun, null=True, blank=True, on_delete=models.PROTECT, related_name="batches"
    )
    seq = models.PositiveIntegerField("バッチ番号")
    created_at = models.DateTimeField("作成日時", auto_now_add=True)
    document_count = models.PositiveIntegerField("通数")
    pages = models.PositiveIntegerField("ページ数")
    postal_from = models.CharField("郵便番号（先頭）", max_length=8, blank=True)
    postal_to = models.CharField("郵便番号（末尾）", max_length=8, blank=True)
    path = models.CharField("ファイル", max_length=300)
    sha256 = models.CharField("SHA-256", max_length=64)

    class Meta:
        verbose_name = "郵送バッチ"
        constraints = [
            models.UniqueConstraint(fields=["renewal", "seq"], name="mailing_batch_seq_unique")
        ]

    def __str__(self) -> str:
        return f"{self.renewal_id}/{self.seq}"


class ApplicationStatus(models.TextChoices):
    APPROVED = "approved", "交付（承認）"
    REFUSED = "refused", "却下"


class Disease(models.TextChoices):
    """特定疾病 (国保法施行令第29条の3第8項、施行規則)."""

    DIALYSIS = "dialysis", "人工透析を要する慢性腎不全"
    HEMOPHILIA = (
        "hemophilia",
        "血漿分画製剤を投与している先天性血液凝固第Ⅷ因子障害又は第Ⅸ因子障害（血友病）",
    )
    HIV = "hiv", "抗ウイルス剤を投与している後天性免疫不全症候群（HIV感染を含む）"


class CertificateApplication(models.Model):
    """認定証の交付申請 and its decision (the eligibility check is `rules.py`)."""

    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="certificate_applications"
    )
    doc_type = models.CharField("種類", max_length=20, choices=DocumentType.choices)
    applied_on = models.DateField("申請日")
    long_stay_days = models.PositiveSmallIntegerField(
        "過去12か月の入院日数（減額認定の長期入院）", null=True, blank=True
    )
    long_stay_from = models.DateField("長期入院該当年月日", null=True, blank=True)
    disease = models.CharField("認定疾病", max_length=20, choices=Disease.choices, blank=True)
    opinion_received = models.BooleanField("医師の意見書", default=False)
    status = models.CharField("審査結果", max_length=10, choices=ApplicationStatus.choices)
    refusal_reason = models.CharField("却下の理由", max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField("受付日時", auto_now_add=True)

    class Meta:
        verbose_name = "認定証の交付申請"
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(doc_type__in=["kakuninsho", "oshirase"]),
                name="certificate_application_types",
            ),
            models.CheckConstraint(
                condition=models.Q(status="approved") | ~models.Q(refusal_reason=""),
                name="certificate_application_refusal_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.doc_type} {self.person_id} {self.applied_on}"


class IssuedDocument(models.Model):
    """交付した証・通知. `printed` is what was printed, exactly (the resident holds it)."""

    serial = models.CharField("交付番号", max_length=20, unique=True)
    doc_type = models.CharField("種類", max_length=20, choices=DocumentType.choices)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="documents")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+")
    valid_from = models.DateField("有効期間の初日")
    valid_until = models.DateField("有効期限", null=True, blank=True)
    issued_on = models.DateField("交付日")
    reason = models.CharField("交付事由", max_length=10, choices=IssueReason.choices)
    delivery = models.CharField("交付方法", max_length=10, choices=Delivery.choices)
    printed = models.JSONField("記載事項")
    status = models.CharField(
        "状態", max_length=10, choices=DocumentStatus.choices, default=DocumentStatus.VALID
    )
    invalid_from = models.DateField("無効となる日", null=True, blank=True)
    invalid_reason = models.CharField(
        "無効事由", max_length=20, choices=InvalidReason.choices, blank=True
    )
    return_requested_on = models.DateField("返還を求めた日", null=True, blank=True)
    return_letter_on = models.DateField("返還のお願いの送付日", null=True, blank=True)
    returned_on = models.DateField("返還日", null=True, blank=True)
    # SET_NULL: erasing an old document at the end of its retention leaves its successor.
    replaces = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replaced_by"
    )
    application = models.ForeignKey(
        CertificateApplication,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="documents",
    )
    renewal = models.ForeignKey(
        RenewalRun, null=True, blank=True, on_delete=models.PROTECT, related_name="documents"
    )
    batch = models.ForeignKey(
        MailingBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="documents"
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("記録日時", auto_now_add=True)

    class Meta:
        verbose_name = "交付した証・通知"
        indexes = [
            models.Index(fields=["person", "doc_type", "status"]),
            models.Index(fields=["status", "return_requested_on"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_until__isnull=True)
                | models.Q(valid_until__gte=models.F("valid_from")),
                name="document_validity_ordered",
            ),
            models.CheckConstraint(
                condition=models.Q(status="valid")
                | (models.Q(invalid_from__isnull=False) & ~models.Q(invalid_reason="")),
                name="document_invalid_has_reason",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="returned") | models.Q(returned_on__isnull=False),
                name="document_returned_has_date",
            ),
            # One renewal issues a person's document of a type once (the idempotence rule).
            models.UniqueConstraint(
                fields=["renewal", "person", "doc_type"],
                condition=models.Q(renewal__isnull=False),
                name="document_once_per_renewal",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.serial} {self.doc_type}"


class DocumentSerial(models.Model):
    """The last 交付番号 taken per type prefix and year (e.g. "KA2026")."""

    key = models.CharField(max_length=10, primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "交付番号の採番"

    def __str__(self) -> str:
        return f"{self.key}: {self.last}"


class DailyRun(models.Model):
    """日次処理 of documents: which day it covered and what it found since the one before."""

    on = models.DateField("処理日")
    ran_at = models.DateTimeField("実行日時")
    since = models.DateTimeField("前回の実行日時", null=True, blank=True)
    counts = models.JSONField("件数", default=dict)

    class Meta:
        verbose_name = "証・通知の日次処理"
        ordering = ["-ran_at"]

    def __str__(self) -> str:
        return f"日次 {self.on}"
