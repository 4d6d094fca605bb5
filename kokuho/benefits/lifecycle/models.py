"""One decision life cycle for the benefits other than 高額療養費 (payments.md §1).

申請 (`BenefitApplication`: who applies, for whom, the facts the benefit's rule needs, the
添付書類 checklist, the account) → 審査 (missing required attachments block the decision)
→ 決定 (`BenefitDecision`: 支給 / 一部支給 / 不支給 with the reason, the inputs and the
parameter values it rested on, and an explanation a clerk can read aloud) → 支払予定.

Decisions are append-only (a database trigger refuses UPDATE): a change is a new decision
naming the one it changes (`changes`), with the new amount owed and the difference, paid
(追加支給) or reclaimed (返納). The latest decision of an application is what is owed.
"""

from django.conf import settings
from django.db import models

from kokuho.payments.models import PayeeAccount
from kokuho.people.models import Household, Person


class ApplicationStatus(models.TextChoices):
    RECEIVED = "received", "審査中"
    DECIDED = "decided", "決定済み"
    WITHDRAWN = "withdrawn", "取下げ"


class BenefitApplication(models.Model):
    """給付の申請: one application for one benefit (療養費, 出産育児一時金, 葬祭費 …).

    `subject` is the insured person the benefit is about (the patient, the mother, the
    deceased); `applicant` the person applying when the registry knows them (世帯主, 喪主),
    else only `applicant_name`. `facts` are the benefit's inputs as the application states
    them (dates, amounts, declarations), checked by the benefit's rule when decided."""

    benefit = models.CharField("給付", max_length=10)
    subject = models.ForeignKey(
        Person, verbose_name="対象の被保険者", on_delete=models.PROTECT, related_name="+"
    )
    household = models.ForeignKey(
        Household, verbose_name="世帯", on_delete=models.PROTECT, related_name="+"
    )
    applicant = models.ForeignKey(
        Person,
        verbose_name="申請者",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    applicant_name = models.CharField("申請者氏名", max_length=60)
    received_on = models.DateField("受付日")
    event_date = models.DateField("支給事由の日（出産日・葬祭日・支払日など）")
    facts = models.JSONField("申請の内容", default=dict)
    attachments = models.JSONField("添付書類（受領済みのもの）", default=dict)
    account = models.ForeignKey(
        PayeeAccount,
        verbose_name="振込先口座",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        "状態", max_length=10, choices=ApplicationStatus.choices, default=ApplicationStatus.RECEIVED
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="受付者", on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField("記録日時")
    # 版: +1 with each change at the counter (kokuho.core.concurrency)
    version = models.PositiveIntegerField("版", default=1)

    class Meta:
        verbose_name = "給付の申請"
        indexes = [
            models.Index(fields=["benefit", "status"], name="benefit_app_status"),
            models.Index(fields=["subject", "benefit"], name="benefit_app_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.benefit} {self.subject_id} {self.event_date}"


class DecisionKind(models.TextChoices):
    INITIAL = "initial", "決定"
    CHANGE = "change", "変更決定"


class Outcome(models.TextChoices):
    PAID = "paid", "支給"
    PARTIAL = "partial", "一部支給"
    REFUSED = "refused", "不支給"


class BenefitDecision(models.Model):
    """支給決定 (append-only). `amount` is what is owed after this decision; `difference`
    what this decision pays (> 0: 支給・追加支給) or reclaims (< 0: 返納)."""

    application = models.ForeignKey(
        BenefitApplication,
        verbose_name="申請",
        on_delete=models.PROTECT,
        related_name="decisions",
    )
    kind = models.CharField("決定の種類", max_length=10, choices=DecisionKind.choices)
    changes = models.OneToOneField(
        "self",
        verbose_name="変更する決定",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="changed_by",
    )
    outcome = models.CharField("決定の内容", max_length=10, choices=Outcome.choices)
    reason = models.CharField("理由（不支給・一部支給・変更）", max_length=300, blank=True)
    amount = models.PositiveIntegerField("支給額（この決定の後）")
    difference = models.IntegerField("差額（支給 + / 返納 −）")
    institution_amount = models.PositiveIntegerField(
        "医療機関等へ直接支払う額（直接支払制度）", default=0
    )
    inputs = models.JSONField("計算に用いた内容")
    parameters = models.JSONField("適用した法令パラメータ")
    explanation = models.JSONField("計算の説明")
    decided_on = models.DateField("決定日")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="決定者", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("記録日時")

    class Meta:
        verbose_name = "給付の決定"
        constraints = [
            # A change names the decision it changes; a first decision names none.
            models.CheckConstraint(
                condition=(
                    models.Q(kind="initial", changes__isnull=True)
                    | models.Q(kind="change", changes__isnull=False)
                ),
                name="benefit_decision_changes",
            ),
            models.CheckConstraint(
                condition=~models.Q(outcome="refused") | models.Q(amount=0),
                name="benefit_decision_refused_zero",
            ),
            models.CheckConstraint(
                condition=models.Q(outcome="paid") | ~models.Q(reason=""),
                name="benefit_decision_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application_id} {self.get_kind_display()} {self.amount}"
