"""高額療養費 after a decision: 不支給, re-computation and 変更決定 (payments.md §3).

A decided month is never edited. When something changes what the month should pay — a late
claim (月遅れ請求), a 過誤 correction, a claim matched after the clerk resolved it, a
retroactive 所得区分 (更正) or 資格, a 療養費 whose 自己負担相当額 counts — the month is
computed again by a new monthly run, and each household whose standing decision no longer
equals the new result gets a 変更決定 that replaces it (`KogakuDecision.replaces`):

* more than decided → 追加支給: the difference is a new 支払予定 to the same 世帯主;
* less → 返納: the difference is recorded on the decision as money to come back (the 返還
  請求 itself is the recovery work's, payments.md §7), and nothing more is paid;
* a 不支給 that now pays → a 変更決定 that pays the whole amount.

Where a change happens, its context notes the month (`kogaku_months_dirty`); the run takes
the open notes as the change's cause (`KogakuRecomputeRequest`) and closes them. Late claims
need no note: a claim recorded after the decision's computation is found by its 記録日時.
The re-determination is part of every run of a month (`kogaku_redetermine`, called by the
run after the 申請勧奨), so a month computed again from the screen or the CLI is decided
again the same way; `kogaku_recompute` is the one-call path for a month.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count, Max, QuerySet
from django.utils import timezone

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.benefits.kogaku.explain import outcome_steps
from kokuho.benefits.kogaku.stored import result_outcome
from kokuho.benefits.models import (
    Claim,
    ClaimMatch,
    DecisionKind,
    DecisionOutcome,
    KogakuDecision,
    KogakuRecomputeRequest,
    KogakuResult,
    KogakuRun,
    RecomputeCause,
)
from kokuho.core.purposes import Purpose
from kokuho.core.wareki import format_wareki_month
from kokuho.payments.models import AccountSource, Benefit
from kokuho.payments.services import (
    AccountInput,
    payee_account_record,
    payee_current_account,
    payment_schedule,
)
from kokuho.people.models import Household, Person

PAYMENT_SOURCE = "kogaku_decision"  # the same source as a first decision: one hook
# 不支給の理由 of a household whose month pays nothing (payments.md §3).
REFUSAL_BELOW_LIMIT = "世帯合算の対象となる自己負担額が自己負担限度額以下のため"
REFUSAL_NOTHING_COUNTED = "この月に高額療養費の対象となる一部負担金がないため"
NOTHING_COUNTED_STEP = "この診療月に合算の対象となる一部負担金はありません。"
# Which cause a change names when several notes are open for it: the most specific first.
_CAUSE_ORDER = [
    RecomputeCause.ELIGIBILITY_CHANGE,
    RecomputeCause.INCOME_CORRECTION,
    RecomputeCause.CLAIM_CORRECTION,
    RecomputeCause.RYOYOHI,
    RecomputeCause.LATE_CLAIM,
    RecomputeCause.OTHER,
]
_ACCOUNT_FIELDS = ("bank_code", "branch_code", "account_type", "account_number", "holder_kana")


def refusal_reason(result: KogakuResult | None) -> str:
    return REFUSAL_NOTHING_COUNTED if result is None else REFUSAL_BELOW_LIMIT


def decision_steps(result: KogakuResult | None) -> list[str]:
    """計算明細 as a decision keeps it (a household the run has no row for: one line)."""
    if result is None:
        return [NOTHING_COUNTED_STEP]
    if result.explanation is None:  # the run keeps the 内訳 of paid households only
        counted = sum(p.counted_copay for p in result.persons.all())
        limit = (
            f"世帯の自己負担限度額 {result.household_limit:,}円"
            if result.household_limit is not None
            else "自己負担限度額"
        )
        return [f"合算の対象となる一部負担金は {counted:,}円 で、{limit}を超えていません。"]
    return outcome_steps(result_outcome(result))


# --- Notes: what made a decided month out of date ------------------------------------------


def kogaku_months_dirty(
    pairs: Iterable[tuple[int, dt.date]], *, cause: str, detail: str = ""
) -> int:
    """Note (household id, 診療月) pairs for re-computation; a pair already noted open for
    the same cause is left as it is. Only months with a decision are noted: an undecided
    month is simply computed by its next run. Returns how many notes were made."""
    RecomputeCause(cause)  # a wrong cause is a programming error, raised here
    wanted = {(hh, month.replace(day=1)) for hh, month in pairs}
    if not wanted:
        return 0
    months = sorted({m for _hh, m in wanted})
    decided = set(
        KogakuDecision.objects.filter(
            month__in=months, household_id__in=sorted({hh for hh, _m in wanted})
        ).values_list("household_id", "month")
    )
    open_ = set(
        KogakuRecomputeRequest.objects.filter(
            month__in=months, cause=cause, done_at__isnull=True
        ).values_list("household_id", "month")
    )
    now = timezone.now()
    notes = [
        KogakuRecomputeRequest(
            household_id=hh, month=month, cause=cause, detail=detail[:200], noted_at=now
        )
        for hh, month in sorted(wanted & decided - open_)
    ]
    KogakuRecomputeRequest.objects.bulk_create(notes, batch_size=2000)
    return len(notes)


def kogaku_recompute_pending(*, month: dt.date | None = None) -> QuerySet[KogakuRecomputeRequest]:
    """再計算待ち: the open notes, oldest month first."""
    notes = KogakuRecomputeRequest.objects.filter(done_at__isnull=True)
    if month is not None:
        notes = notes.filter(month=month.replace(day=1))
    return notes.select_related("household").order_by("month", "household_id", "cause")


def kogaku_recompute_months() -> list[tuple[dt.date, int]]:
    """The months with open notes and how many households each (the batch's work list)."""
    return list(
        KogakuRecomputeRequest.objects.filter(done_at__isnull=True)
        .values("month")
        .annotate(households=Count("household", distinct=True))
        .order_by("month")
        .values_list("month", "households")
    )


# --- The chain of a month ------------------------------------------------------------------


def kogaku_standing_decision(*, household: Household, month: dt.date) -> KogakuDecision | None:
    """The decision of the month that stands: the last of its chain."""
    return (
        KogakuDecision.objects.filter(
            household=household, month=month.replace(day=1), replaced_by__isnull=True
        )
        .select_related("result")
        .first()
    )


def kogaku_decision_chain(decision: KogakuDecision) -> list[KogakuDecision]:
    """The month's decisions from the first to `decision` (one query: the month's all)."""
    by_pk = {
        d.pk: d
        for d in KogakuDecision.objects.filter(
            household_id=decision.household_id, month=decision.month
        ).select_related("result", "application", "simplification")
    }
    chain = [by_pk.get(decision.pk, decision)]
    while chain[-1].replaces_id is not None:
        chain.append(by_pk[chain[-1].replaces_id])
    return chain[::-1]


def chain_payee(chain: list[KogakuDecision]) -> Person:
    """Who the month pays: the applicant of its first decision, or the consenting head."""
    first = chain[0]
    if first.application_id is not None:
        return first.application.applicant
    assert first.simplification is not None
    return first.simplification.head


# --- Re-determination ----------------------------------------------------------------------


@dataclass(frozen=True)
class Redetermined:
    changed: int  # 変更決定 made
    additional: int  # of which 追加支給 (yen total)
    refund: int  # 返納 (yen total, positive)
    unchanged: int  # standing decisions the new run confirms
    notes_closed: int


def _causes(run: KogakuRun, households: list[int]) -> dict[int, list[KogakuRecomputeRequest]]:
    notes: dict[int, list[KogakuRecomputeRequest]] = defaultdict(list)
    for note in KogakuRecomputeRequest.objects.filter(
        month=run.month, done_at__isnull=True, household_id__in=households
    ).order_by("noted_at", "pk"):
        notes[note.household_id].append(note)
    return notes


def _late_claims(month: dt.date, households: list[int]) -> dict[int, dt.datetime]:
    """The newest matched claim of each household's month (one grouped query)."""
    return dict(
        Claim.objects.filter(
            service_month=month,
            match=ClaimMatch.MATCHED,
            household_number__household_id__in=households,
        )
        .values_list("household_number__household_id")
        .annotate(newest=Max("recorded_at"))
        .values_list("household_number__household_id", "newest")
    )


def _decided_basis_time(decision: KogakuDecision) -> dt.datetime:
    """When the standing decision's computation read its claims."""
    if decision.result_id is not None and decision.result.run.started_at is not None:
        return decision.result.run.started_at
    return decision.created_at


def _cause_of(
    decision: KogakuDecision,
    notes: list[KogakuRecomputeRequest],
    newest_claim: dt.datetime | None,
) -> tuple[str, str]:
    if notes:
        note = min(notes, key=lambda n: _CAUSE_ORDER.index(RecomputeCause(n.cause)))
        return note.cause, note.detail or RecomputeCause(note.cause).label
    if newest_claim is not None and newest_claim > _decided_basis_time(decision):
        return RecomputeCause.LATE_CLAIM, RecomputeCause.LATE_CLAIM.label
    return RecomputeCause.OTHER, "月次計算のやり直しにより支給額が変わりました"


def _change_create(
    *,
    decision: KogakuDecision,
    result: KogakuResult | None,
    cause: str,
    detail: str,
    on: dt.date,
    actor: Any | None,
) -> KogakuDecision:
    amount = result.benefit if result is not None else 0
    difference = amount - decision.amount
    paid = amount > 0
    change = KogakuDecision.objects.create(
        household_id=decision.household_id,
        month=decision.month,
        result=result,
        kind=DecisionKind.CHANGE,
        outcome=DecisionOutcome.PAID if paid else DecisionOutcome.REFUSED,
        reason=detail if paid else f"{detail}（{refusal_reason(result)}）"[:200],
        replaces=decision,
        cause=cause,
        difference=difference,
        amount=amount,
        decided_on=on,
        decided_by=actor,
        steps=decision_steps(result),
        created_at=timezone.now(),
        **{f: getattr(decision, f) for f in _ACCOUNT_FIELDS},
    )
    if difference > 0:
        _additional_payment(change)
    audit_event_record(
        actor=actor,
        event_type=EventType.KOGAKU_CHANGED,
        purpose=Purpose.NHI_BENEFITS,
        subject_type=SubjectType.HOUSEHOLD,
        subject_id=decision.household.household_no,
        extra={
            "month": f"{decision.month:%Y-%m}",
            "before": decision.amount,
            "after": amount,
            "difference": difference,
            "cause": cause,
        },
    )
    return change


def _additional_payment(change: KogakuDecision) -> None:
    """追加支給 to the month's payee: their current account, else the decision's own."""
    payee = chain_payee(kogaku_decision_chain(change))
    account = payee_current_account(person=payee)
    if account is None:
        account = payee_account_record(
            person=payee,
            account=AccountInput(**{f: getattr(change, f) for f in _ACCOUNT_FIELDS}),
            source=AccountSource.APPLICATION,
            valid_from=change.decided_on,
            actor=change.decided_by,
            source_ref=f"kogaku_decision:{change.replaces_id}",
        )
    payment_schedule(
        benefit=Benefit.KOGAKU,
        source_type=PAYMENT_SOURCE,
        source_id=change.pk,
        person=payee,
        account=account,
        amount=change.difference,
        decided_on=change.decided_on,
        description=f"{format_wareki_month(change.month)}診療分（追加支給）",
    )


def kogaku_redetermine(*, run: KogakuRun, on: dt.date | None = None) -> Redetermined:
    """Decide again every decided household of `run`'s month whose standing decision differs
    from its result in `run` (a 変更決定 each), and close the month's open notes.

    Loads the standing decisions, the run's results for them, the notes and the newest
    claims in a fixed number of queries; only the changes are written one by one."""
    on = on or timezone.localdate()
    standing = list(
        KogakuDecision.objects.filter(month=run.month, replaced_by__isnull=True)
        .select_related("household", "result__run")
        .order_by("household_id")
    )
    households = [d.household_id for d in standing]
    results = {
        r.household_id: r
        for r in KogakuResult.objects.filter(run=run, household_id__in=households)
        .select_related("household")
        .prefetch_related("persons__person")
    }
    differing = [
        d for d in standing if (results[d.household_id].benefit if d.household_id in results
                                else 0) != d.amount
    ]  # fmt: skip
    changed_households = [d.household_id for d in differing]
    notes = _causes(run, changed_households)
    newest = _late_claims(run.month, changed_households)
    additional = refund = 0
    with transaction.atomic():
        for decision in differing:
            cause, detail = _cause_of(
                decision, notes.get(decision.household_id, []), newest.get(decision.household_id)
            )
            change = _change_create(
                decision=decision,
                result=results.get(decision.household_id),
                cause=cause,
                detail=detail,
                on=on,
                actor=run.requested_by,
            )
            if change.difference > 0:
                additional += change.difference
            else:
                refund -= change.difference
        closed = KogakuRecomputeRequest.objects.filter(
            month=run.month, done_at__isnull=True
        ).update(done_at=timezone.now(), done_run=run)
    return Redetermined(
        changed=len(differing),
        additional=additional,
        refund=refund,
        unchanged=len(standing) - len(differing),
        notes_closed=closed,
    )


def kogaku_recompute(*, month: dt.date, actor: Any | None) -> KogakuRun:
    """Compute `month` again now (a new run; its re-determination makes the 変更決定)."""
    from kokuho.benefits.kogaku.run import kogaku_run_create, kogaku_run_execute

    run = kogaku_run_create(month=month, actor=actor)
    return kogaku_run_execute(run_id=run.pk)


def kogaku_eligibility_changed(person: Person, changed_from: dt.date) -> None:
    """A person's 資格 changed from `changed_from` on (an eligibility listener): see
    `kogaku_eligibility_changed_many`. Two indexed reads when the person has nothing claimed
    or decided in those months."""
    kogaku_eligibility_changed_many([(person, changed_from)])


def kogaku_eligibility_changed_many(changes: Sequence[tuple[Person, dt.date]]) -> None:
    """Persons' 資格 changed, each from its day on (the eligibility listener of a batch).
    Their claims of those months are matched again against the new periods: an open
    資格喪失後受診 claim of a period now gained goes through 再照合 (`claims_rematch`: resolved,
    audited, its month noted); a matched claim of a period now lost is 資格喪失後受診 again,
    back on the unmatched list. The decided months of the persons' households from then on,
    and of the claims that changed, are noted for re-computation. A fixed number of indexed
    reads, whatever the number of persons."""
    from kokuho.benefits.claims_match import claims_rematch, insured_in_month
    from kokuho.eligibility.selectors import current_periods_by_person

    since = {person.pk: changed_from for person, changed_from in changes}
    first = {pk: day.replace(day=1) for pk, day in since.items()}
    if not first:
        return
    claims = [
        row
        for row in Claim.objects.filter(
            person_id__among=sorted(first), service_month__gte=min(first.values())
        )
        .exclude(match=ClaimMatch.UNKNOWN_NUMBER)
        .values_list("pk", "person_id", "service_month", "match", "household_number__household_id")
        if row[2] >= first[row[1]]
    ]
    pairs: dict[dt.date, set[tuple[int, dt.date]]] = defaultdict(set)  # by day changed from
    if claims:
        periods = current_periods_by_person(person_ids=sorted({row[1] for row in claims}))
        gained, lost = [], []
        for pk, person_id, month, match, household_id in claims:
            insured = insured_in_month(periods[person_id], month)
            if insured and match == ClaimMatch.NOT_INSURED:
                gained.append(pk)
            elif not insured and match == ClaimMatch.MATCHED:
                lost.append(pk)
                pairs[since[person_id]].add((household_id, month))
        if gained:
            claims_rematch(claim_ids=gained, actor=None)
        if lost:
            Claim.objects.filter(pk__in=lost).update(match=ClaimMatch.NOT_INSURED)
    households: dict[int, dt.date] = {}
    for person, day in changes:
        if person.household_id is not None:
            households[person.household_id] = min(day, households.get(person.household_id, day))
    if households:
        for household_id, month in (
            KogakuDecision.objects.filter(
                household_id__among=sorted(households),
                month__gte=min(households.values()).replace(day=1),
            )
            .values_list("household_id", "month")
            .distinct()
        ):
            if month >= households[household_id].replace(day=1):
                pairs[households[household_id]].add((household_id, month))
    for day, noted in sorted(pairs.items()):
        kogaku_months_dirty(
            sorted(noted),
            cause=RecomputeCause.ELIGIBILITY_CHANGE,
            detail=f"資格の異動（{day.isoformat()} から）",
        )
