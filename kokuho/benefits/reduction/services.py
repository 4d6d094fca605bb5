"""減免 writes and reads: register, decide, extend, the month's claims check, the PDFs' data.

- `copay_reduction_register` keeps the head's application for one insured member, the first
  month of the period normalised to the month's first day.
- `copay_reduction_decide` runs `rules.decide` on the application (insured on the period's
  first day as eligibility knows it) and keeps the decision, with a 証明書番号 when approved.
- `copay_reduction_extend` (延長) decides the months after a standing approval on the
  household's current income and savings: a new decision naming the one it extends, at
  most the per-decision cap, and never 徴収猶予 beyond its total cap.
- `reduction_claims_check(month)`: the month's matched claims of persons with a 免除/減額
  covering it, the co-payment each claim shows against what the decision allows (免除 → 0;
  減額 → the usual co-payment × (1 − rate), 10 yen rounded as 法42条2項) — the mismatches a
  clerk returns to the provider (返戻). A fixed number of queries whatever the month's size.

A decision and an extension claim the application's version (`kokuho.core.concurrency`)
with what the clerk saw (`seen`): of two clerks deciding the same application one wins, the
other gets `StaleEdit` saying what changed — never a second decision or an extension twice.
"""

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.benefits.lifecycle.rules import FactError
from kokuho.benefits.lifecycle.services import BenefitError
from kokuho.benefits.models import Claim, ClaimMatch
from kokuho.benefits.reduction.models import (
    APPROVED,
    CopayReductionApplication,
    CopayReductionDecision,
    ReductionKind,
    ReductionReason,
    ReductionResult,
)
from kokuho.benefits.reduction.pdf import ReductionCertificate, ReductionNotice
from kokuho.benefits.reduction.rules import ReductionFacts, ReductionOutcome, decide, month_add
from kokuho.benefits.reduction.selectors import copay_reduction_application_shown
from kokuho.certificates.glyphs import printable
from kokuho.core.concurrency import EditSeen, edit_check, edit_claim, edit_mark
from kokuho.core.purposes import Purpose
from kokuho.eligibility.selectors import (
    burden_bases_load,
    household_members_on,
    insured_number_of,
    insured_period_on,
    person_state_from,
)
from kokuho.people.models import Person
from kokuho.rules.params import ParameterError, parameters


def copay_reduction_register(
    *,
    subject: Person,
    applicant: Person,
    received_on: dt.date,
    reason: str,
    monthly_income: int,
    savings: int,
    requested_kind: str,
    period_start: dt.date,
    months: int = 3,
    members: int | None = None,
    reason_detail: str = "",
    actor: Any,
) -> CopayReductionApplication:
    """申請の受付 by the head of the subject's household (see the module docstring)."""
    if reason not in ReductionReason.values:
        raise BenefitError(f"申請の事由が法第44条の特別の理由にあたりません: {reason}", "reason")
    if reason == ReductionReason.OTHER and not reason_detail.strip():
        raise BenefitError("「その他」の事由は内容を入力してください", "reason_detail")
    if requested_kind not in ReductionKind.values:
        raise BenefitError(f"申請の種類が不明です: {requested_kind}", "requested_kind")
    household = subject.household
    if applicant.household_id != household.pk or household.head_id != applicant.pk:
        raise BenefitError("申請は対象者の世帯の世帯主が行います（法第44条）", "applicant")
    if monthly_income < 0 or savings < 0:
        raise BenefitError("実収月額・預貯金は0円以上です", "monthly_income")
    if months < 1:
        raise BenefitError("希望する月数は1以上です", "months")
    if members is None:
        members = len(household_members_on(household=household, on=received_on))
    if members < 1:
        raise BenefitError("世帯の人数は1以上です", "members")
    with transaction.atomic():
        application = CopayReductionApplication.objects.create(
            household=household,
            applicant=applicant,
            subject=subject,
            received_on=received_on,
            reason=reason,
            reason_detail=reason_detail.strip(),
            monthly_income=monthly_income,
            savings=savings,
            members=members,
            requested_kind=requested_kind,
            period_start=period_start.replace(day=1),
            months=months,
            recorded_by=actor,
            recorded_at=timezone.now(),
        )
        audit_event_record(
            actor=actor,
            event_type=EventType.COPAY_REDUCTION_APPLICATION,
            purpose=Purpose.NHI_BENEFITS,
            subject_type=SubjectType.PERSON,
            subject_id=subject.atena_no,
            extra={"application": application.pk, "requested_kind": requested_kind},
        )
    return application


def _facts(
    application: CopayReductionApplication, start: dt.date, overrides: dict[str, int]
) -> ReductionFacts:
    return ReductionFacts(
        reason=application.reason,
        reason_detail=application.reason_detail,
        monthly_income=overrides.get("monthly_income", application.monthly_income),
        savings=overrides.get("savings", application.savings),
        members=overrides.get("members", application.members),
        requested_kind=application.requested_kind,
        period_start=start,
        months=overrides.get("months", application.months),
        insured=insured_period_on(person=application.subject, on=start) is not None,
        deferred_months_before=overrides.get("deferred_months_before", 0),
    )


def _outcome(facts: ReductionFacts) -> ReductionOutcome:
    try:
        return decide(facts)
    except FactError as error:
        raise BenefitError(str(error), error.field) from None


def _certificate_no(decided_on: dt.date) -> str:
    prefix = f"GM{decided_on.year}-"
    taken = CopayReductionDecision.objects.filter(certificate_no__startswith=prefix).count()
    return f"{prefix}{taken + 1:06d}"


def _record(
    *,
    application: CopayReductionApplication,
    facts: ReductionFacts,
    outcome: ReductionOutcome,
    extends: CopayReductionDecision | None,
    decided_on: dt.date,
    actor: Any,
) -> CopayReductionDecision:
    inputs = asdict(facts) | {"period_start": facts.period_start.isoformat()}
    decision = CopayReductionDecision.objects.create(
        application=application,
        extends=extends,
        result=outcome.result,
        rate_percent=outcome.rate_percent,
        reason=outcome.reason,
        period_start=outcome.period_start,
        period_end=outcome.period_end,
        months=outcome.months,
        certificate_no=_certificate_no(decided_on) if outcome.result in APPROVED else "",
        inputs=inputs,
        parameters=outcome.parameters,
        explanation=outcome.steps,
        decided_on=decided_on,
        decided_by=actor,
        created_at=timezone.now(),
    )
    audit_event_record(
        actor=actor,
        event_type=(
            EventType.COPAY_REDUCTION_EXTENDED if extends else EventType.COPAY_REDUCTION_DECIDED
        ),
        purpose=Purpose.NHI_BENEFITS,
        subject_type=SubjectType.PERSON,
        subject_id=application.subject.atena_no,
        extra={
            "decision": decision.pk,
            "result": outcome.result,
            "rate_percent": outcome.rate_percent,
            "months": outcome.months,
            **({"extends": extends.pk} if extends else {}),
            **edit_mark(application),
        },
    )
    return decision


def _edit(application: CopayReductionApplication) -> dict[str, Any]:
    return {
        "instance": application,
        "shown": copay_reduction_application_shown,
        "subject": (SubjectType.PERSON, application.subject.atena_no),
    }


def copay_reduction_decide(
    *,
    application: CopayReductionApplication,
    actor: Any,
    decided_on: dt.date | None = None,
    seen: EditSeen | None = None,
) -> CopayReductionDecision:
    """The first decision of an application; a second is an extension (`…_extend`).
    `seen`: the version the clerk decided on (`StaleEdit` when it is not the current one)."""
    edit_check(seen=seen, **_edit(application))
    if application.decisions.exists():
        raise BenefitError("この申請は決定済みです（期間の延長は延長の決定で行います）")
    facts = _facts(application, application.period_start, {})
    outcome = _outcome(facts)
    with transaction.atomic():
        edit_claim(seen=seen, **_edit(application))
        return _record(
            application=application,
            facts=facts,
            outcome=outcome,
            extends=None,
            decided_on=decided_on or timezone.localdate(),
            actor=actor,
        )


def _chain(decision: CopayReductionDecision) -> list[CopayReductionDecision]:
    """The decision and the ones it extends, newest first."""
    chain = [decision]
    while chain[-1].extends_id is not None:
        chain.append(CopayReductionDecision.objects.get(pk=chain[-1].extends_id))
    return chain


def copay_reduction_preview(
    *,
    application: CopayReductionApplication,
    extends: CopayReductionDecision | None = None,
    overrides: dict[str, int] | None = None,
) -> tuple[ReductionFacts, ReductionOutcome]:
    """What `copay_reduction_decide` (or `copay_reduction_extend` of `extends`) decides from
    these figures, with the same checks and rule; nothing is kept — the screen shows it
    before the clerk decides. `BenefitError` when it cannot be decided."""
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    start = application.period_start
    if extends is not None:
        if extends.result not in APPROVED or extends.period_start is None:
            raise BenefitError("不承認の決定は延長できません（新たに申請してください）")
        if CopayReductionDecision.objects.filter(extends=extends).exists():
            raise BenefitError("この決定はすでに延長されています（最新の決定を延長してください）")
        if given.get("months", 1) < 1:
            raise BenefitError("延長の月数は1以上です", "months")
        start = month_add(extends.period_start, extends.months)
        given["deferred_months_before"] = sum(
            d.months for d in _chain(extends) if d.result == ReductionResult.DEFERRAL
        )
    facts = _facts(application, start, given)
    try:
        return facts, _outcome(facts)
    except ParameterError as error:
        raise BenefitError(str(error)) from None


def copay_reduction_extend(
    *,
    decision: CopayReductionDecision,
    actor: Any,
    monthly_income: int | None = None,
    savings: int | None = None,
    members: int | None = None,
    months: int | None = None,
    decided_on: dt.date | None = None,
    seen: EditSeen | None = None,
) -> CopayReductionDecision:
    """延長: decide the months after `decision` on the household's figures now (unchanged
    when not given), as the same kind of application. `seen`: the application's version the
    clerk extended on."""
    edit_check(seen=seen, **_edit(decision.application))
    facts, outcome = copay_reduction_preview(
        application=decision.application,
        extends=decision,
        overrides={
            "monthly_income": monthly_income,
            "savings": savings,
            "members": members,
            "months": months,
        },
    )
    with transaction.atomic():
        edit_claim(seen=seen, **_edit(decision.application))
        return _record(
            application=decision.application,
            facts=facts,
            outcome=outcome,
            extends=decision,
            decided_on=decided_on or timezone.localdate(),
            actor=actor,
        )


# --- The month's claims against the standing decisions --------------------------------------


@dataclass(frozen=True)
class ReductionClaimRow:
    """One claim of a person with a 免除/減額 in its month: what it shows and what is due."""

    claim_id: str
    person_id: int
    provider: str
    certificate_no: str
    result: str  # exemption / reduction
    rate_percent: int
    claimed_copay: int  # 一部負担金額 on the claim
    usual_copay: int | None  # points × 10 × 負担割合, 10 yen rounded (None: not decidable)
    allowed_copay: int | None  # what the decision leaves the person to pay
    note: str = ""

    @property
    def matches(self) -> bool:
        return self.allowed_copay is not None and self.claimed_copay == self.allowed_copay


@dataclass(frozen=True)
class ReductionClaimsCheck:
    month: dt.date
    rows: list[ReductionClaimRow]

    @property
    def mismatches(self) -> list[ReductionClaimRow]:
        return [row for row in self.rows if not row.matches]


def _round(amount_times_100: int, unit: int) -> int:
    """x / 100 rounded half up to `unit` yen (x = yen × percent)."""
    return (amount_times_100 + 50 * unit) // (100 * unit) * unit


def reduction_claims_check(*, month: dt.date) -> ReductionClaimsCheck:
    """See the module docstring. Several decisions of one person covering the month (an
    overlap is not expected): the newest counts."""
    month = month.replace(day=1)
    standing: dict[int, CopayReductionDecision] = {}
    for decision in (
        CopayReductionDecision.objects.filter(
            result__in=[ReductionResult.EXEMPTION, ReductionResult.REDUCTION],
            period_start__lte=month,
            period_end__gte=month,
        )
        .select_related("application")
        .order_by("pk")
    ):
        standing[decision.application.subject_id] = decision
    if not standing:
        return ReductionClaimsCheck(month, [])
    claims = list(
        Claim.objects.filter(service_month=month, match=ClaimMatch.MATCHED, person_id__in=standing)
        .select_related("person")
        .order_by("person_id", "claim_id")
    )
    persons = list({c.person_id: c.person for c in claims if c.person is not None}.values())
    bases = burden_bases_load(persons=persons, day=month)
    unit = int(parameters().get("copay.rounding_unit").confirmed_at(month))
    rows = []
    for claim in claims:
        assert claim.person_id is not None  # matched
        decision = standing[claim.person_id]
        state = person_state_from(basis=bases[claim.person_id], on=month)
        percent = int(state.copay.value) if state.copay is not None else None
        usual = _round(claim.points * 10 * percent, unit) if percent is not None else None
        if decision.result == ReductionResult.EXEMPTION:
            allowed: int | None = 0
        else:
            allowed = None if usual is None else _round(usual * (100 - decision.rate_percent), unit)
        notes = []
        if percent is None:
            notes.append("負担割合を判定できません（資格・所得を確認）")
        if claim.limit_applied or claim.public_payer:
            notes.append("限度額適用・公費併用のレセプト（負担額を個別に確認）")
        rows.append(
            ReductionClaimRow(
                claim.claim_id, claim.person_id, claim.provider, decision.certificate_no,
                decision.result, decision.rate_percent, claim.copay, usual, allowed,
                "、".join(notes),
            )
        )  # fmt: skip
    return ReductionClaimsCheck(month, rows)


# --- The PDFs' data -------------------------------------------------------------------------


def reduction_certificate_data(decision: CopayReductionDecision) -> ReductionCertificate:
    """The 証明書 of an approval: the head as addressee, the subject with their 記号・番号."""
    if decision.result not in APPROVED or decision.period_start is None:
        raise BenefitError("不承認の決定には証明書を交付しません")
    assert decision.period_end is not None
    application = decision.application
    head, subject = application.applicant, application.subject
    branch = insured_number_of(person=subject)
    return ReductionCertificate(
        certificate_no=decision.certificate_no,
        issued_on=timezone.localdate(),
        postal_code=head.postal_code,
        address=printable(head.address)[0],
        name=printable(head.name)[0],
        subject_name=printable(subject.name)[0],
        subject_birth_date=subject.birth_date,
        insurer_no=settings.KOKUHO_INSURER_NUMBER,
        symbol=branch.household_number.symbol if branch else "",
        number=branch.household_number.number if branch else "",
        branch=branch.branch if branch else "",
        result=decision.result,
        rate_percent=decision.rate_percent,
        period_start=decision.period_start,
        period_end=decision.period_end,
    )


def reduction_notice_data(decision: CopayReductionDecision) -> ReductionNotice:
    application = decision.application
    head = application.applicant
    return ReductionNotice(
        notice_no=f"GMT{decision.decided_on:%Y%m%d}-{decision.pk:06d}",
        issued_on=timezone.localdate(),
        postal_code=head.postal_code,
        address=printable(head.address)[0],
        name=printable(head.name)[0],
        subject_name=printable(application.subject.name)[0],
        received_on=application.received_on,
        requested_kind=application.requested_kind,
        result=decision.result,
        rate_percent=decision.rate_percent,
        reason=decision.reason,
        period_start=decision.period_start,
        period_end=decision.period_end,
        certificate_no=decision.certificate_no,
        steps=list(decision.explanation),
        is_extension=decision.extends_id is not None,
    )
