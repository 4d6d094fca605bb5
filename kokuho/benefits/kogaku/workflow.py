"""高額療養費 after the computation: 申請勧奨, applications, 申請簡素化, decisions, payment.

After each monthly run (`kogaku_followups`), every household the current run pays that has
no decision for the month yet is either decided at once — when its head has consented to
申請簡素化 — or invited to apply (申請勧奨; the first invitation of a household also explains
申請簡素化). Staff then register the application (`kogaku_application_register`, which can
carry the consent) and decide it (`kogaku_decide`); decisions wait for payment
(`kogaku_decisions_awaiting_payment`) until the transfer is recorded (`kogaku_paid_record`).
A decision copies the account it pays to and keeps the 計算明細 as decided.
"""

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.benefits.kogaku.explain import outcome_steps
from kokuho.benefits.kogaku.recompute import decision_steps, refusal_reason
from kokuho.benefits.kogaku.stored import result_outcome
from kokuho.benefits.models import (
    DecisionKind,
    DecisionOutcome,
    KogakuApplication,
    KogakuDecision,
    KogakuInvitation,
    KogakuResult,
    KogakuRun,
    KogakuRunStatus,
    KogakuSimplification,
)
from kokuho.core.purposes import Purpose
from kokuho.core.wareki import format_wareki_month
from kokuho.payments.models import AccountSource, Benefit
from kokuho.payments.services import (
    AccountError,
    AccountInput,
    payee_account_preview,
    payee_account_record,
    payment_schedule,
    payments_settle,
)
from kokuho.people.models import Household, Person


class KogakuError(ValueError):
    """A workflow step that cannot be taken; the message is shown to staff as is."""


@dataclass(frozen=True)
class AccountIn:
    """振込先 as typed at the counter."""

    bank_code: str
    branch_code: str
    account_type: int
    account_number: str
    holder_kana: str


def _account(account: AccountIn) -> dict[str, Any]:
    checks = (
        ("bank_code", r"\d{4}", "金融機関コードは4桁の数字です"),
        ("branch_code", r"\d{3}", "店舗コードは3桁の数字です"),
        ("account_number", r"\d{7}", "口座番号は7桁の数字です"),
    )
    for field, pattern, reason in checks:
        if not re.fullmatch(pattern, getattr(account, field)):
            raise KogakuError(reason)
    if account.account_type not in (1, 2):
        raise KogakuError("預金種目は普通（1）か当座（2）です")
    try:
        # Bank and branch exist (zengin-code data); the name is kept in full-width kana.
        preview = payee_account_preview(
            AccountInput(
                bank_code=account.bank_code,
                branch_code=account.branch_code,
                account_type=account.account_type,
                account_number=account.account_number,
                holder_kana=account.holder_kana,
            )
        )
    except AccountError as error:
        raise KogakuError(str(error)) from None
    return {
        "bank_code": preview.bank_code,
        "branch_code": preview.branch_code,
        "account_type": preview.account_type,
        "account_number": preview.account_number,
        "holder_kana": preview.holder_kana,
    }


def _account_of(source: KogakuSimplification | KogakuApplication) -> dict[str, Any]:
    return {
        f: getattr(source, f)
        for f in ("bank_code", "branch_code", "account_type", "account_number", "holder_kana")
    }


def _finished_runs() -> QuerySet[KogakuRun]:
    # The current run of a month is its newest finished one: last to finish, then last made.
    return KogakuRun.objects.filter(status=KogakuRunStatus.DONE).order_by(
        "month", "-finished_at", "-pk"
    )


def kogaku_current_run(*, month: dt.date) -> KogakuRun | None:
    """The month's current run: the one decisions, screens and 多数回 read."""
    return _finished_runs().filter(month=month.replace(day=1)).first()


def kogaku_current_runs(*, first: dt.date, last: dt.date) -> dict[dt.date, int]:
    """The current run of every month from `first` to `last` that has one (month → run id)."""
    current: dict[dt.date, int] = {}
    for month, run_id in (
        _finished_runs().filter(month__range=(first, last)).values_list("month", "pk")
    ):
        current.setdefault(month, run_id)
    return current


def kogaku_current_result(*, household: Household, month: dt.date) -> KogakuResult | None:
    """The household's result in the month's current run."""
    run = kogaku_current_run(month=month)
    if run is None:
        return None
    return KogakuResult.objects.filter(run=run, household=household).first()


def kogaku_open_simplification(*, household: Household) -> KogakuSimplification | None:
    return KogakuSimplification.objects.filter(
        household=household, withdrawn_on__isnull=True
    ).first()


def _decision_create(
    *,
    result: KogakuResult,
    kind: DecisionKind,
    account: dict[str, Any],
    decided_on: dt.date,
    actor: Any | None,
    application: KogakuApplication | None = None,
    simplification: KogakuSimplification | None = None,
) -> KogakuDecision:
    if result.benefit <= 0:
        raise KogakuError(f"{result.month:%Y-%m} の計算結果に支給額がありません")
    decision = KogakuDecision.objects.create(
        household_id=result.household_id,
        month=result.month,
        result=result,
        kind=kind,
        application=application,
        simplification=simplification,
        amount=result.benefit,
        decided_on=decided_on,
        decided_by=actor,
        steps=outcome_steps(result_outcome(result)),
        created_at=timezone.now(),
        **account,
    )
    _payment_schedule(decision, application=application, simplification=simplification)
    audit_event_record(
        actor=actor,
        event_type=EventType.KOGAKU_DECIDED,
        purpose=Purpose.NHI_BENEFITS,
        subject_type=SubjectType.HOUSEHOLD,
        subject_id=result.household.household_no,
        extra={"month": f"{result.month:%Y-%m}", "amount": result.benefit, "kind": kind.value},
    )
    return decision


PAYMENT_SOURCE = "kogaku_decision"


def _payment_schedule(
    decision: KogakuDecision,
    *,
    application: KogakuApplication | None,
    simplification: KogakuSimplification | None,
) -> None:
    """The decision's 支払予定, to the head's account as the application or consent gives it
    (a new version of the head's payee account when it differs from the current one)."""
    if application is not None:
        head, ref = application.applicant, f"kogaku_application:{application.pk}"
    else:
        assert simplification is not None
        head, ref = simplification.head, f"kogaku_simplification:{simplification.pk}"
    account = payee_account_record(
        person=head,
        account=AccountInput(**_account_of(decision)),
        source=AccountSource.APPLICATION,
        valid_from=decision.decided_on,
        actor=decision.decided_by,
        source_ref=ref,
    )
    payment_schedule(
        benefit=Benefit.KOGAKU,
        source_type=PAYMENT_SOURCE,
        source_id=decision.pk,
        person=head,
        account=account,
        amount=decision.amount,
        decided_on=decision.decided_on,
        description=f"{format_wareki_month(decision.month)}診療分",
    )


def kogaku_followups(*, run: KogakuRun, on: dt.date | None = None) -> dict[str, int]:
    """申請勧奨 and 申請簡素化 decisions for the households `run` pays (see the module
    docstring). Households already decided for the month are left alone."""
    on = on or timezone.localdate()
    paid = (
        KogakuResult.objects.filter(run=run, benefit__gt=0)
        .order_by("household_id")
        .prefetch_related("persons__person")  # the 計算明細 names members
    )
    decided = set(
        KogakuDecision.objects.filter(month=run.month).values_list("household_id", flat=True)
    )
    invited = set(
        KogakuInvitation.objects.filter(month=run.month).values_list("household_id", flat=True)
    )
    consents = {
        s.household_id: s for s in KogakuSimplification.objects.filter(withdrawn_on__isnull=True)
    }
    known = set(KogakuApplication.objects.values_list("household_id", flat=True)) | set(
        KogakuInvitation.objects.values_list("household_id", flat=True)
    )
    counts = {"decided": 0, "invited": 0, "already_decided": 0, "already_invited": 0}
    invitations = []
    now = timezone.now()
    with transaction.atomic():
        for result in paid.iterator(chunk_size=2000):
            hh = result.household_id
            if hh in decided:
                counts["already_decided"] += 1
            elif (consent := consents.get(hh)) is not None:
                _decision_create(
                    result=result,
                    kind=DecisionKind.SIMPLIFIED,
                    account=_account_of(consent),
                    decided_on=on,
                    actor=None,
                    simplification=consent,
                )
                counts["decided"] += 1
            elif hh in invited:
                counts["already_invited"] += 1
            else:
                invitations.append(
                    KogakuInvitation(
                        result=result,
                        household_id=hh,
                        month=run.month,
                        first_time=hh not in known,
                        created_at=now,
                    )
                )
        KogakuInvitation.objects.bulk_create(invitations, batch_size=2000)
    counts["invited"] = len(invitations)
    return counts


def kogaku_application_register(
    *,
    household: Household,
    month: dt.date,
    applicant: Person,
    received_on: dt.date,
    account: AccountIn,
    simplify: bool,
    actor: Any,
) -> KogakuApplication:
    """支給申請の受付; with `simplify`, the head's 申請簡素化 consent too (to the same
    account), replacing an earlier one."""
    month = month.replace(day=1)
    values = _account(account)
    if applicant.household_id != household.pk:
        raise KogakuError("申請者はその世帯の世帯員（世帯主）である必要があります")
    if KogakuApplication.objects.filter(household=household, month=month).exists():
        raise KogakuError(f"{month:%Y-%m} 診療分の申請は受付済みです")
    now = timezone.now()
    with transaction.atomic():
        consent = None
        if simplify:
            KogakuSimplification.objects.filter(
                household=household, withdrawn_on__isnull=True
            ).update(withdrawn_on=received_on)
            consent = KogakuSimplification.objects.create(
                household=household,
                head=applicant,
                consented_on=received_on,
                recorded_by=actor,
                recorded_at=now,
                **values,
            )
            audit_event_record(
                actor=actor,
                event_type=EventType.KOGAKU_SIMPLIFICATION,
                purpose=Purpose.NHI_BENEFITS,
                subject_type=SubjectType.HOUSEHOLD,
                subject_id=household.household_no,
            )
        application = KogakuApplication.objects.create(
            household=household,
            month=month,
            applicant=applicant,
            received_on=received_on,
            simplification=consent,
            recorded_by=actor,
            recorded_at=now,
            **values,
        )
        audit_event_record(
            actor=actor,
            event_type=EventType.KOGAKU_APPLICATION,
            purpose=Purpose.NHI_BENEFITS,
            subject_type=SubjectType.HOUSEHOLD,
            subject_id=household.household_no,
            extra={"month": f"{month:%Y-%m}"},
        )
    return application


def kogaku_decide(
    *, application: KogakuApplication, actor: Any, decided_on: dt.date | None = None
) -> KogakuDecision:
    """支給決定 of an application, on the household's result in the month's current run;
    不支給決定 (with the reason) when that run pays the household nothing. A month not yet
    computed cannot be decided."""
    month = application.month
    if kogaku_current_run(month=month) is None:
        raise KogakuError(f"{month:%Y-%m} 診療分の月次計算がまだありません（月次計算を確認）")
    if KogakuDecision.objects.filter(household=application.household, month=month).exists():
        raise KogakuError(f"{month:%Y-%m} 診療分は決定済みです")
    result = kogaku_current_result(household=application.household, month=month)
    decided_on = decided_on or timezone.localdate()
    with transaction.atomic():
        if result is None or result.benefit <= 0:
            return _refusal_create(
                application=application, result=result, decided_on=decided_on, actor=actor
            )
        return _decision_create(
            result=result,
            kind=DecisionKind.APPLICATION,
            account=_account_of(application),
            decided_on=decided_on,
            actor=actor,
            application=application,
        )


def _refusal_create(
    *,
    application: KogakuApplication,
    result: KogakuResult | None,
    decided_on: dt.date,
    actor: Any,
) -> KogakuDecision:
    reason = refusal_reason(result)
    decision = KogakuDecision.objects.create(
        household_id=application.household_id,
        month=application.month,
        result=result,
        kind=DecisionKind.APPLICATION,
        outcome=DecisionOutcome.REFUSED,
        reason=reason,
        application=application,
        amount=0,
        decided_on=decided_on,
        decided_by=actor,
        steps=decision_steps(result),
        created_at=timezone.now(),
        **_account_of(application),
    )
    audit_event_record(
        actor=actor,
        event_type=EventType.KOGAKU_REFUSED,
        purpose=Purpose.NHI_BENEFITS,
        subject_type=SubjectType.HOUSEHOLD,
        subject_id=application.household.household_no,
        extra={"month": f"{application.month:%Y-%m}", "reason": reason},
    )
    return decision


def kogaku_decisions_awaiting_payment() -> QuerySet[KogakuDecision]:
    """支払待ち: decided, not yet recorded as paid, oldest first."""
    return (
        KogakuDecision.objects.filter(paid_on__isnull=True, amount__gt=0)
        .select_related("household")
        .order_by("decided_on", "month", "pk")
    )


def kogaku_paid_record(*, decisions: Iterable[KogakuDecision], paid_on: dt.date, actor: Any) -> int:
    """The transfer of these decisions was made on `paid_on` (one audit event per batch)."""
    ids = [d.pk for d in decisions]
    with transaction.atomic():
        marked = list(
            KogakuDecision.objects.filter(pk__in=ids, paid_on__isnull=True).values_list(
                "pk", flat=True
            )
        )
        done = KogakuDecision.objects.filter(pk__in=marked).update(paid_on=paid_on)
        # Paid some other way: the payment run must never pay these again.
        payments_settle(source_type=PAYMENT_SOURCE, source_ids=marked)
        audit_event_record(
            actor=actor,
            event_type=EventType.KOGAKU_PAID,
            purpose=Purpose.NHI_BENEFITS,
            subject_type=SubjectType.SYSTEM,
            subject_id=f"kogaku-paid:{paid_on.isoformat()}",
            extra={"decisions": done},
        )
    return done
