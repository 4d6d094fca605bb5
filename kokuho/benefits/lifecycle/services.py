"""The life cycle's writes: register an application, tick its 添付書類, decide, change.

- `benefit_application_register` keeps the application with its facts, the attachments
  received and the payee account (a version of the applicant's account; 受取代理 as a
  proxy account naming the receiver).
- `benefit_decide` refuses while a required attachment is missing (the list says which),
  runs the benefit's rule (`lifecycle.rules`) with what the system knows (insured on the
  day, 負担割合), keeps the decision with its inputs, parameters and explanation, and hands
  the household's part to the payments context.
- `benefit_decision_change` (変更決定) decides again on corrected facts: a new decision
  naming the one it changes; a positive difference is paid (追加支給), a negative one is a
  返納 to reclaim (recorded on the decision; the recovery work is issue 19).

Each change of an application claims its version (`kokuho.core.concurrency`) with what the
clerk saw (`seen`): of two clerks saving the same application one wins, the other gets
`StaleEdit` saying what changed (`selectors.benefit_application_shown`).
"""

import datetime as dt
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction
from django.utils import timezone

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.benefits.lifecycle.models import (
    ApplicationStatus,
    BenefitApplication,
    BenefitDecision,
    DecisionKind,
)
from kokuho.benefits.lifecycle.rules import RULES, Context, FactError, RuleOutcome
from kokuho.core.concurrency import EditSeen, edit_check, edit_claim, edit_mark
from kokuho.core.purposes import Purpose
from kokuho.eligibility.selectors import insured_period_on, person_state_on
from kokuho.payments.models import AccountSource, Benefit, PayeeAccount
from kokuho.payments.services import AccountInput, payee_account_record, payment_schedule
from kokuho.people.models import Person

PAYMENT_SOURCE = "benefit_decision"
ATTACHMENTS_FILE = Path(__file__).with_name("attachments.yaml")
LIFECYCLE_BENEFITS = (
    Benefit.SOSAI,
    Benefit.SHUSSAN,
    Benefit.RYOYOHI,
    Benefit.KAIGAI,
    Benefit.ISOUHI,
    Benefit.GASSAN,
)


class BenefitError(ValueError):
    """A step of the life cycle that cannot be taken; `field` names the input if any."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Attachment:
    code: str
    label: str
    required: bool


@cache
def attachments_for(benefit: str) -> tuple[Attachment, ...]:
    """The 添付書類 checklist of a benefit (data: `attachments.yaml`)."""
    document = yaml.safe_load(ATTACHMENTS_FILE.read_text(encoding="utf-8"))
    return tuple(Attachment(**item) for item in document.get(benefit, []))


def attachments_missing(application: BenefitApplication) -> list[Attachment]:
    """Required attachments not yet received (the 審査's work items)."""
    return [
        item
        for item in attachments_for(application.benefit)
        if item.required and not application.attachments.get(item.code)
    ]


def benefit_application_register(
    *,
    benefit: Benefit,
    subject: Person,
    applicant: Person | None,
    applicant_name: str = "",
    received_on: dt.date,
    event_date: dt.date,
    facts: dict[str, Any],
    attachments: dict[str, bool] | None = None,
    account: AccountInput | None = None,
    proxy_name: str = "",
    actor: Any,
) -> BenefitApplication:
    """申請の受付 (see the module docstring). The account belongs to the applicant (or,
    when the registry does not know them, to the subject with the applicant named)."""
    if benefit not in LIFECYCLE_BENEFITS:
        raise BenefitError(f"{benefit} はこの手続では扱いません", "benefit")
    known = {item.code for item in attachments_for(benefit)}
    unknown = set(attachments or {}) - known
    if unknown:
        raise BenefitError(f"添付書類の種類が不明です: {', '.join(sorted(unknown))}", "attachments")
    name = applicant.name if applicant is not None else applicant_name.strip()
    if not name:
        raise BenefitError("申請者の氏名を入力してください", "applicant_name")
    if received_on < event_date and benefit != Benefit.SHUSSAN:
        raise BenefitError("受付日が支給事由の日より前です", "received_on")
    with transaction.atomic():
        kept: PayeeAccount | None = None
        if account is not None:
            owner = applicant or subject
            proxied = bool(proxy_name) or applicant is None
            kept = payee_account_record(
                person=owner,
                account=account,
                source=AccountSource.PROXY if proxied else AccountSource.APPLICATION,
                valid_from=received_on,
                actor=actor,
                source_ref=f"benefit_application:{benefit}",
                proxy_name=proxy_name or (name if applicant is None else ""),
            )
        application = BenefitApplication.objects.create(
            benefit=benefit,
            subject=subject,
            household_id=subject.household_id,
            applicant=applicant,
            applicant_name=name,
            received_on=received_on,
            event_date=event_date,
            facts=_json_facts(facts),
            attachments={code: True for code, got in (attachments or {}).items() if got},
            account=kept,
            recorded_by=actor,
            recorded_at=timezone.now(),
        )
        audit_event_record(
            actor=actor,
            event_type=EventType.BENEFIT_APPLICATION,
            purpose=Purpose.NHI_BENEFITS,
            subject_type=SubjectType.PERSON,
            subject_id=subject.atena_no,
            extra={"benefit": str(benefit), "application": application.pk},
        )
    return application


def _json_facts(facts: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in facts.items()}


def _edit(application: BenefitApplication) -> dict[str, Any]:
    from kokuho.benefits.lifecycle.selectors import benefit_application_shown

    return {
        "instance": application,
        "shown": benefit_application_shown,
        "subject": (SubjectType.PERSON, application.subject.atena_no),
    }


def benefit_attachments_receive(
    *,
    application: BenefitApplication,
    codes: list[str],
    actor: Any,
    seen: EditSeen | None = None,
) -> BenefitApplication:
    """「受領」 of 添付書類; `seen`: the version the clerk ticked them on."""
    known = {item.code for item in attachments_for(application.benefit)}
    if unknown := set(codes) - known:
        raise BenefitError(f"添付書類の種類が不明です: {', '.join(sorted(unknown))}", "codes")
    edit_check(seen=seen, **_edit(application))
    with transaction.atomic():
        edit_claim(seen=seen, **_edit(application))
        application.attachments = {**application.attachments, **dict.fromkeys(codes, True)}
        application.save(update_fields=["attachments"])
        audit_event_record(
            actor=actor,
            event_type=EventType.BENEFIT_APPLICATION,
            purpose=Purpose.NHI_BENEFITS,
            subject_type=SubjectType.PERSON,
            subject_id=application.subject.atena_no,
            extra={
                "application": application.pk,
                "attachments_received": sorted(codes),
                **edit_mark(application),
            },
        )
    return application


def _context(
    application: BenefitApplication, facts: dict[str, Any], decided_on: dt.date
) -> Context:
    subject = application.subject

    def insured(day: dt.date) -> bool:
        return insured_period_on(person=subject, on=day) is not None

    def copay(day: dt.date) -> int:
        state = person_state_on(person=subject, on=day)
        if state.copay is None:
            raise BenefitError(f"{day} の負担割合を判定できません（資格・所得を確認）")
        return int(state.copay.value)

    return Context(
        event_date=application.event_date,
        received_on=application.received_on,
        facts=facts,
        insured_on=insured,
        copay_percent=copay,
        decided_on=decided_on,
    )


def _outcome(
    application: BenefitApplication, facts: dict[str, Any], decided_on: dt.date
) -> RuleOutcome:
    try:
        return RULES[application.benefit](_context(application, facts, decided_on))
    except FactError as error:
        raise BenefitError(str(error), error.field) from None


def _household_part(decision: BenefitDecision | None) -> int:
    return 0 if decision is None else decision.amount - decision.institution_amount


def latest_decision(application: BenefitApplication) -> BenefitDecision | None:
    return application.decisions.order_by("-pk").first()


def _reason(change: str, outcome: RuleOutcome) -> str:
    return f"{change}（{outcome.reason}）" if outcome.reason else change


def _record(
    *,
    application: BenefitApplication,
    outcome: RuleOutcome,
    facts: dict[str, Any],
    previous: BenefitDecision | None,
    reason: str,
    decided_on: dt.date,
    actor: Any,
) -> BenefitDecision:
    difference = (outcome.amount - outcome.institution_amount) - _household_part(previous)
    decision = BenefitDecision.objects.create(
        application=application,
        kind=DecisionKind.CHANGE if previous else DecisionKind.INITIAL,
        changes=previous,
        outcome=outcome.outcome,
        reason=_reason(reason, outcome) if previous else outcome.reason,
        amount=outcome.amount,
        difference=difference,
        institution_amount=outcome.institution_amount,
        inputs={
            "facts": facts,
            "event_date": application.event_date.isoformat(),
            "counted_copay": outcome.counted_copay,
        },
        parameters=outcome.parameters,
        explanation=outcome.steps,
        decided_on=decided_on,
        decided_by=actor,
        created_at=timezone.now(),
    )
    if difference > 0:
        if application.account is None:
            raise BenefitError("支給額があるのに振込先口座がありません", "account")
        payment_schedule(
            benefit=Benefit(application.benefit),
            source_type=PAYMENT_SOURCE,
            source_id=decision.pk,
            person=application.account.person,
            account=application.account,
            amount=difference,
            decided_on=decided_on,
            description="追加支給" if previous else "",
        )
    application.status = ApplicationStatus.DECIDED
    application.save(update_fields=["status"])
    _kogaku_month_note(application, decision, previous)
    audit_event_record(
        actor=actor,
        event_type=EventType.BENEFIT_DECIDED,
        purpose=Purpose.NHI_BENEFITS,
        subject_type=SubjectType.PERSON,
        subject_id=application.subject.atena_no,
        extra={
            "benefit": application.benefit,
            "decision": decision.pk,
            "outcome": outcome.outcome,
            "amount": outcome.amount,
            "difference": difference,
            **edit_mark(application),
        },
    )
    return decision


def _kogaku_month_note(
    application: BenefitApplication, decision: BenefitDecision, previous: BenefitDecision | None
) -> None:
    """A 療養費 whose 一部負担金相当額 counts makes its 診療月's 高額療養費 out of date: the
    month is noted for re-computation (only a decided month is; see `kogaku.recompute`)."""
    counted = int(decision.inputs.get("counted_copay") or 0)
    before = int(previous.inputs.get("counted_copay") or 0) if previous is not None else 0
    service_date = decision.inputs["facts"].get("service_date")
    if counted == before or not service_date:
        return
    from kokuho.benefits.kogaku.recompute import kogaku_months_dirty
    from kokuho.benefits.models import RecomputeCause

    month = dt.date.fromisoformat(str(service_date)[:10]).replace(day=1)
    kogaku_months_dirty(
        [(application.household_id, month)],
        cause=RecomputeCause.RYOYOHI,
        detail=f"療養費の支給決定（自己負担相当額 {counted:,}円）",
    )


def benefit_decide(
    *,
    application: BenefitApplication,
    actor: Any,
    decided_on: dt.date | None = None,
    seen: EditSeen | None = None,
) -> BenefitDecision:
    """The first decision of an application (see the module docstring); `seen`: the version
    the clerk decided on (`StaleEdit` when the application changed since)."""
    edit_check(seen=seen, **_edit(application))
    if application.status != ApplicationStatus.RECEIVED:
        raise BenefitError("この申請は審査中ではありません（決定済み・取下げ）")
    if missing := attachments_missing(application):
        raise BenefitError(
            "添付書類が揃っていません: " + "、".join(item.label for item in missing), "attachments"
        )
    decided_on = decided_on or timezone.localdate()
    outcome = _outcome(application, application.facts, decided_on)
    with transaction.atomic():
        edit_claim(seen=seen, **_edit(application))
        return _record(
            application=application,
            outcome=outcome,
            facts=application.facts,
            previous=None,
            reason="",
            decided_on=decided_on,
            actor=actor,
        )


def benefit_decision_change(
    *,
    decision: BenefitDecision,
    facts: dict[str, Any],
    reason: str,
    actor: Any,
    decided_on: dt.date | None = None,
) -> BenefitDecision:
    """変更決定 on corrected facts (the application keeps what it first stated)."""
    if not reason.strip():
        raise BenefitError("変更の理由を入力してください", "reason")
    if latest_decision(decision.application) != decision:
        raise BenefitError("最新の決定だけを変更できます")
    merged = {**decision.inputs["facts"], **_json_facts(facts)}
    decided_on = decided_on or timezone.localdate()
    outcome = _outcome(decision.application, merged, decided_on)
    with transaction.atomic():
        edit_claim(seen=None, **_edit(decision.application))
        return _record(
            application=decision.application,
            outcome=outcome,
            facts=merged,
            previous=decision,
            reason=reason.strip(),
            decided_on=decided_on,
            actor=actor,
        )
