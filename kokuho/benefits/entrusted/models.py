"""The 国保連合会's two monthly benefit files, as they were read and decided.

- `EntrustedBatch` / `EntrustedLine`: 柔道整復・はり・きゅう・あん摩マッサージ 療養費 claimed by
  the 施術所 under 受領委任, one line per 施術所 × insured × 施術年月 × 施術区分. Each matched
  line has one 療養費 decision of the life cycle; `EntrustedPayee` groups a batch's lines
  per 施術所 into the one payment made to it.
- `DirectPaymentBatch` / `DirectPaymentLine`: 出産育児一時金 births claimed by the hospital
  under 直接支払制度, one line per birth; each matched line has one decision, the hospital's
  part paid to the 国保連合会 in one payment per file, the 差額 to the household head.

A file is kept once (its SHA-256 is unique); a line whose insured is unknown is kept all
the same (`UNMATCHED`, with the reason) and listed, never dropped.
"""

from django.conf import settings
from django.db import models

from kokuho.benefits.lifecycle.models import BenefitApplication, BenefitDecision
from kokuho.payments.models import PayeeOrganisation, Payment
from kokuho.people.models import Person


class TreatmentCategory(models.TextChoices):
    """施術区分 (the file's codes 1–3)."""

    JUDO = "judo", "柔道整復"
    ACUPUNCTURE = "acupuncture", "はり・きゅう"
    MASSAGE = "massage", "あん摩マッサージ"


class LineStatus(models.TextChoices):
    DECIDED = "decided", "決定済み"
    UNMATCHED = "unmatched", "被保険者不明"
    DUPLICATE = "duplicate", "重複請求（決定済み）"


class _Batch(models.Model):
    month = models.DateField("処理年月")
    file_name = models.CharField("ファイル名", max_length=200)
    file_sha256 = models.CharField("ファイルのSHA-256", max_length=64, unique=True)
    lines_count = models.PositiveIntegerField("明細数")
    decided_count = models.PositiveIntegerField("決定数")
    unmatched_count = models.PositiveIntegerField("被保険者不明の数")
    duplicate_count = models.PositiveIntegerField("重複の数")
    claimed_total = models.PositiveBigIntegerField("請求額の合計")
    paid_total = models.PositiveBigIntegerField("支給額の合計")
    decided_on = models.DateField("決定日")
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="取込者", on_delete=models.PROTECT, related_name="+"
    )
    imported_at = models.DateTimeField("取込日時")

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.file_name}"


class _Line(models.Model):
    line_no = models.PositiveIntegerField("行番号")
    symbol = models.CharField("記号", max_length=20)
    number = models.CharField("番号", max_length=20)
    branch = models.CharField("枝番", max_length=2)
    person = models.ForeignKey(
        Person, verbose_name="被保険者", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    status = models.CharField("状態", max_length=10, choices=LineStatus.choices)
    reason = models.CharField("理由（不明・重複）", max_length=200, blank=True)
    application = models.OneToOneField(
        BenefitApplication, verbose_name="申請", null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )  # fmt: skip
    decision = models.OneToOneField(
        BenefitDecision, verbose_name="決定", null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )  # fmt: skip

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.line_no}行目 {self.get_status_display()}"


class EntrustedBatch(_Batch):
    """柔整・あはき 受領委任分の請求ファイル (one per file, by hash)."""

    class Meta:
        verbose_name = "受領委任 療養費の取込"


class EntrustedPayee(models.Model):
    """One 施術所's part of a batch: the sum of its lines decided 支給・一部支給, paid once."""

    batch = models.ForeignKey(
        EntrustedBatch, verbose_name="取込", on_delete=models.PROTECT, related_name="payees"
    )
    organisation = models.ForeignKey(
        PayeeOrganisation, verbose_name="施術所", on_delete=models.PROTECT, related_name="+"
    )
    lines_count = models.PositiveIntegerField("支給の明細数")
    amount = models.PositiveBigIntegerField("支払額")
    payment = models.OneToOneField(
        Payment, verbose_name="支払予定", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip

    class Meta:
        verbose_name = "受領委任の施術所別支払"
        constraints = [
            models.UniqueConstraint(fields=["batch", "organisation"], name="entrusted_payee_once")
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}/{self.organisation_id} {self.amount}"


class EntrustedLine(_Line):
    """One line of a 受領委任 file as read, and what became of it."""

    batch = models.ForeignKey(
        EntrustedBatch, verbose_name="取込", on_delete=models.PROTECT, related_name="lines"
    )
    category = models.CharField("施術区分", max_length=12, choices=TreatmentCategory.choices)
    organisation = models.ForeignKey(
        PayeeOrganisation, verbose_name="施術所", on_delete=models.PROTECT, related_name="+"
    )
    service_month = models.DateField("施術年月")
    days = models.PositiveSmallIntegerField("施術日数")
    cost = models.PositiveIntegerField("費用額")
    copay = models.PositiveIntegerField("一部負担金")
    claimed = models.PositiveIntegerField("請求額（保険者負担）")
    payee = models.ForeignKey(
        EntrustedPayee, verbose_name="施術所別支払", null=True, blank=True,
        on_delete=models.PROTECT, related_name="lines",
    )  # fmt: skip

    class Meta:
        verbose_name = "受領委任 療養費の明細"
        constraints = [
            models.UniqueConstraint(fields=["batch", "line_no"], name="entrusted_line_no")
        ]
        indexes = [
            models.Index(
                fields=["organisation", "person", "service_month", "category"],
                name="entrusted_line_claim",
            )
        ]


class DirectPaymentBatch(_Batch):
    """出産育児一時金 直接支払制度の請求ファイル: the hospitals' part paid to the 国保連合会."""

    federation = models.ForeignKey(
        PayeeOrganisation, verbose_name="国保連合会", on_delete=models.PROTECT, related_name="+"
    )
    institution_total = models.PositiveBigIntegerField("医療機関等への支払額の合計")
    payment = models.OneToOneField(
        Payment, verbose_name="国保連合会への支払予定", null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )  # fmt: skip

    class Meta:
        verbose_name = "直接支払制度 出産育児一時金の取込"


class DirectPaymentLine(_Line):
    """One birth of a 直接支払 file as read, and what became of it."""

    batch = models.ForeignKey(
        DirectPaymentBatch, verbose_name="取込", on_delete=models.PROTECT, related_name="lines"
    )
    institution = models.ForeignKey(
        PayeeOrganisation, verbose_name="医療機関", on_delete=models.PROTECT, related_name="+"
    )
    birth_date = models.DateField("出産日")
    cost = models.PositiveIntegerField("出産費用（請求額）")
    compensation_covered = models.BooleanField("産科医療補償制度の対象")
    gestation_weeks = models.PositiveSmallIntegerField("妊娠週数")
    institution_amount = models.PositiveIntegerField("医療機関等へ支払う額", default=0)
    difference_amount = models.PositiveIntegerField("差額（世帯へ）", default=0)
    difference_payment = models.OneToOneField(
        Payment, verbose_name="差額の支払予定", null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )  # fmt: skip

    class Meta:
        verbose_name = "直接支払制度 出産育児一時金の明細"
        constraints = [models.UniqueConstraint(fields=["batch", "line_no"], name="direct_line_no")]
