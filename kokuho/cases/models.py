"""調査・求償の案件 (investigation cases): the work an NHI section does after the decisions —
money paid that must come back, eligibility that must be put right — as one tracked record
instead of paper ledgers.

A case has a kind, a subject (a person, and the household at the time), the fact it is about
(`key`: the same facts never open a second case), its steps with who and when, a 期限, an
outcome, and its amounts: what is claimed back and what has come in. The kinds of this
slice: 資格喪失後受診 (不当利得, 法65条・民法703条) — the claims we paid for months a late loss
shows were not ours, each with its 保険者負担 (`CaseClaim`), recovered by 返還請求 to the
household or by 保険者間調整 through the 国保連合会 with the person's consent.

Steps are append-only; the case row is changed in place (status, amounts, 期限) with a
`version` for the counter's optimistic locking, and every change is in the audit trail.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from kokuho.people.models import Household, Person


class CaseKind(models.TextChoices):
    AFTER_LOSS = "after_loss", "資格喪失後受診（不当利得の返還）"


class CaseStatus(models.TextChoices):
    OPEN = "open", "未着手"
    IN_PROGRESS = "in_progress", "対応中"
    CLOSED = "closed", "終結"


class CaseOutcome(models.TextChoices):
    RECOVERED = "recovered", "返還済み（全額）"
    ADJUSTED = "adjusted", "保険者間調整により精算"
    NOT_DUE = "not_due", "返還不要（資格の回復・返戻など）"
    TIME_BARRED = "time_barred", "時効により消滅"


class RecoveryMethod(models.TextChoices):
    REFUND_CLAIM = "refund_claim", "返還請求（本人・世帯へ）"
    INSURER_ADJUSTMENT = "insurer_adjustment", "保険者間調整（国保連合会経由）"


class InvestigationCase(models.Model):
    """調査・求償の案件: one kind of work about one subject's facts."""

    kind = models.CharField("案件の種類", max_length=30, choices=CaseKind.choices)
    # The facts the case is about, e.g. after_loss:<person>:<version>: detection that finds
    # the same facts again finds this case, never opens a second one.
    key = models.CharField("案件の根拠", max_length=120, unique=True)
    person = models.ForeignKey(
        Person, verbose_name="対象者", on_delete=models.PROTECT, related_name="cases"
    )
    household = models.ForeignKey(
        Household,
        verbose_name="世帯（開始時）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    status = models.CharField(
        "状態", max_length=20, choices=CaseStatus.choices, default=CaseStatus.OPEN
    )
    outcome = models.CharField("結果", max_length=20, choices=CaseOutcome.choices, blank=True)
    method = models.CharField(
        "回収の方法", max_length=30, choices=RecoveryMethod.choices, blank=True
    )
    opened_at = models.DateTimeField("開始日時")
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="開始者",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    source = models.CharField("開始の契機", max_length=200)
    due_on = models.DateField("期限", null=True, blank=True)
    claimed_yen = models.PositiveBigIntegerField("請求額", default=0)
    recovered_yen = models.PositiveBigIntegerField("収納額", default=0)
    # The day the claim to the money arose (the first payment): its 時効 counts from it.
    arose_on = models.DateField("債権の発生日", null=True, blank=True)
    detail = models.JSONField("詳細", default=dict, blank=True)
    closed_at = models.DateTimeField("終結日時", null=True, blank=True)
    version = models.PositiveIntegerField("版", default=1)

    class Meta:
        verbose_name = "調査・求償の案件"
        indexes = [
            models.Index(fields=["kind", "status"], name="case_kind_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(recovered_yen__lte=models.F("claimed_yen")),
                name="case_recovered_within_claimed",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(status=CaseStatus.CLOSED, closed_at__isnull=False)
                    & ~models.Q(outcome="")
                    | ~models.Q(status=CaseStatus.CLOSED) & models.Q(closed_at__isnull=True)
                ),
                name="case_closed_with_outcome",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def outstanding_yen(self) -> int:
        return self.claimed_yen - self.recovered_yen


class StepKind(models.TextChoices):
    OPENED = "opened", "案件の開始"
    CLAIMS_ADDED = "claims_added", "対象レセプトの追加"
    CLAIMS_WITHDRAWN = "claims_withdrawn", "対象レセプトの取下げ（資格の回復など）"
    NOTICE_ISSUED = "notice_issued", "返還請求書（納入通知）の発行"
    INSTALMENTS_AGREED = "instalments_agreed", "分割納付の承認"
    REMINDER_ISSUED = "reminder_issued", "督促・催告"
    CONSENT_RECEIVED = "consent_received", "保険者間調整の同意書の受理"
    ADJUSTMENT_REQUESTED = "adjustment_requested", "保険者間調整の依頼（国保連合会へ）"
    RECEIVED = "received", "収納（消込）"
    NOTE = "note", "記録"
    CLOSED = "closed", "終結"


class CaseStep(models.Model):
    """案件の経過: one step of a case, never changed."""

    case = models.ForeignKey(
        InvestigationCase, verbose_name="案件", on_delete=models.CASCADE, related_name="steps"
    )
    kind = models.CharField("経過の種類", max_length=30, choices=StepKind.choices)
    at = models.DateTimeField("日時")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="処理者",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    on = models.DateField("事実の日", null=True, blank=True)
    amount_yen = models.BigIntegerField("金額", null=True, blank=True)
    note = models.CharField("内容", max_length=400, blank=True)

    class Meta:
        verbose_name = "案件の経過"
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.get_kind_display()}"


class CaseClaim(models.Model):
    """資格喪失後受診のレセプト: one claim we paid for a month the person was not insured, with
    the 保険者負担 it cost (費用額 = 総点数 × 10 円, less the 一部負担金). A claim is in one case
    at most while it counts (detection never counts it twice); one withdrawn (its month
    insured again) keeps its row, and a later loss of the month puts it in a case anew."""

    case = models.ForeignKey(
        InvestigationCase, verbose_name="案件", on_delete=models.CASCADE, related_name="claims"
    )
    # The claim's own items are copied here: the claims' retention may erase the claim
    # (the link is then empty) while the case, a record of its own, still shows them.
    claim = models.ForeignKey(
        "benefits.Claim",
        verbose_name="レセプト",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="case_links",
    )
    claim_no = models.CharField("レセプト管理番号", max_length=40)
    provider = models.CharField("医療機関コード", max_length=10)
    service_month = models.DateField("診療年月")
    cost_yen = models.PositiveBigIntegerField("費用額")
    copay_yen = models.PositiveBigIntegerField("一部負担金")
    insurer_share_yen = models.PositiveBigIntegerField("保険者負担額")
    withdrawn = models.BooleanField("取下げ", default=False)

    class Meta:
        verbose_name = "資格喪失後受診のレセプト"
        ordering = ["service_month", "claim_no"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(insurer_share_yen=models.F("cost_yen") - models.F("copay_yen")),
                name="case_claim_share_is_cost_less_copay",
            ),
            # Counted once: a claim is in one case at a time (a withdrawn link may stay).
            models.UniqueConstraint(
                fields=["claim"],
                condition=models.Q(withdrawn=False),
                name="case_claim_counted_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.claim_id}"
