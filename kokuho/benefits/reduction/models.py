"""一部負担金の減額・免除・徴収猶予 (国民健康保険法第44条; benefits.md §7).

申請 (`CopayReductionApplication`: the head applies for one insured member of the household,
with the reason, the household's actual monthly income and savings as declared and evidenced,
the members counted, the kind asked for and the first month) → 決定
(`CopayReductionDecision`: 免除 / 減額 (rate %) / 徴収猶予 / 不承認 with the reason, the
period in whole months, the inputs, the criteria and the explanation, and a 証明書番号 when
approved). An extension (延長) is a new decision for the following months naming the one it
extends (`extends`). Decisions are append-only (a database trigger refuses UPDATE).
"""

from django.conf import settings
from django.db import models

from kokuho.people.models import Household, Person


class ReductionReason(models.TextChoices):
    """The 特別の理由 of 法44条 as the 2010 通知 lists them."""

    DISASTER = "disaster", "震災・風水害・火災その他の災害"
    BUSINESS = "business", "事業の休止・廃止"
    UNEMPLOYMENT = "unemployment", "失業"
    CROP = "crop", "干ばつ・冷害等による農作物の不作・不漁"
    OTHER = "other", "その他これらに類する事由"


class ReductionKind(models.TextChoices):
    """What the application asks for (法44条1項1号〜3号)."""

    REDUCTION = "reduction", "減額"
    EXEMPTION = "exemption", "免除"
    DEFERRAL = "deferral", "徴収猶予"


class ReductionResult(models.TextChoices):
    EXEMPTION = "exemption", "免除"
    REDUCTION = "reduction", "減額"
    DEFERRAL = "deferral", "徴収猶予"
    REFUSED = "refused", "不承認"


APPROVED = (ReductionResult.EXEMPTION, ReductionResult.REDUCTION, ReductionResult.DEFERRAL)


class CopayReductionApplication(models.Model):
    """一部負担金減額・免除・徴収猶予申請: the head's application for one insured person."""

    household = models.ForeignKey(
        Household, verbose_name="世帯", on_delete=models.PROTECT, related_name="+"
    )
    applicant = models.ForeignKey(
        Person, verbose_name="申請者（世帯主）", on_delete=models.PROTECT, related_name="+"
    )
    subject = models.ForeignKey(
        Person, verbose_name="対象の被保険者", on_delete=models.PROTECT, related_name="+"
    )
    received_on = models.DateField("受付日")
    reason = models.CharField("申請の事由", max_length=20, choices=ReductionReason.choices)
    reason_detail = models.CharField("事由の内容", max_length=300, blank=True)
    monthly_income = models.PositiveIntegerField("世帯の実収月額（円）")
    savings = models.PositiveIntegerField("世帯の預貯金（円）")
    members = models.PositiveSmallIntegerField("世帯の人数")
    requested_kind = models.CharField("申請の種類", max_length=10, choices=ReductionKind.choices)
    period_start = models.DateField("希望する期間の初月")  # the first day of the month
    months = models.PositiveSmallIntegerField("希望する月数")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="受付者", on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField("記録日時")
    # 版: +1 with each decision or extension (kokuho.core.concurrency)
    version = models.PositiveIntegerField("版", default=1)

    class Meta:
        verbose_name = "一部負担金減免の申請"
        indexes = [models.Index(fields=["subject", "period_start"], name="copay_red_app_subject")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_start__day=1), name="copay_red_app_month_start"
            ),
            models.CheckConstraint(
                condition=models.Q(members__gte=1, months__gte=1), name="copay_red_app_counts"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject_id} {self.get_requested_kind_display()} {self.period_start:%Y-%m}"


class CopayReductionDecision(models.Model):
    """減免の決定 (append-only). `rate_percent` is 100 for 免除, the band's rate for 減額 and
    0 otherwise; an approval has a period of whole months and a 証明書番号, a 不承認 neither."""

    application = models.ForeignKey(
        CopayReductionApplication,
        verbose_name="申請",
        on_delete=models.PROTECT,
        related_name="decisions",
    )
    extends = models.OneToOneField(
        "self",
        verbose_name="延長する決定",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="extended_by",
    )
    result = models.CharField("決定の内容", max_length=10, choices=ReductionResult.choices)
    rate_percent = models.PositiveSmallIntegerField("減額の割合（%）", default=0)
    reason = models.CharField("理由（不承認）", max_length=300, blank=True)
    period_start = models.DateField("期間の開始日", null=True, blank=True)
    period_end = models.DateField("期間の終了日", null=True, blank=True)
    months = models.PositiveSmallIntegerField("月数", default=0)
    certificate_no = models.CharField("証明書番号", max_length=20, blank=True)
    inputs = models.JSONField("判定に用いた内容")
    parameters = models.JSONField("適用した基準（パラメータ）")
    explanation = models.JSONField("判定の説明")
    decided_on = models.DateField("決定日")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="決定者", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("記録日時")

    class Meta:
        verbose_name = "一部負担金減免の決定"
        indexes = [
            models.Index(fields=["period_start", "period_end"], name="copay_red_dec_period"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(result="refused", period_start__isnull=True, period_end__isnull=True)
                    & ~models.Q(reason="")
                    & models.Q(certificate_no="", months=0, rate_percent=0)
                    | ~models.Q(result="refused")
                    & models.Q(period_start__day=1, period_end__gte=models.F("period_start"))
                    & ~models.Q(certificate_no="")
                    & models.Q(months__gte=1)
                ),
                name="copay_red_dec_period_when_approved",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(result="exemption", rate_percent=100)
                    | models.Q(result="reduction", rate_percent__gte=1, rate_percent__lte=99)
                    | models.Q(result__in=["deferral", "refused"], rate_percent=0)
                ),
                name="copay_red_dec_rate",
            ),
            models.UniqueConstraint(
                fields=["certificate_no"],
                condition=~models.Q(certificate_no=""),
                name="copay_red_dec_certificate_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application_id} {self.get_result_display()} {self.period_start}"
