"""照合 (matching) of レセプト to insured persons, and 未照合レセプト worked off by a clerk.

`claims_match_bulk` is the one matching code: the claims import (`interfaces.claims`) and
the 再照合 here both call it. 記号・番号 → `HouseholdNumber`, 枝番 → `BranchNumber` →
person; the person counts as insured in the 診療月 when one of their current eligibility
periods overlaps it. A chunk of claims costs three queries whatever its size.

A claim that matched no one (番号不明, 資格喪失後受診・資格なし) stays on the 未照合 list
until one of:

* `claims_rematch` — the same matching, run again once the cause is fixed (the registry
  change that gives the number arrived, the 資格 was corrected retroactively);
* `claim_person_assign` — the clerk names the insured person (a 記号・番号 that changed);
  the claim must fall inside that person's 資格 on its 診療月;
* `claim_return` — 返戻: sent back to the 国保連合会 with a reason; it keeps its 照合結果
  (so the 高額療養費 run still leaves it out) but leaves the list.

Each writes a `ClaimResolution` (append-only) and a `claim_match_resolved` audit event in
the same transaction. A claim that becomes matched adds to its household's month: the
(household, 診療月) pairs are returned and handed to the re-computation
(`_recompute_notify`).
"""

import datetime as dt
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, QuerySet
from django.utils import timezone

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import AuditEntry, audit_event_record, audit_events_record
from kokuho.benefits.models import (
    UNMATCHED,
    Claim,
    ClaimMatch,
    ClaimResolution,
    ClaimResolutionKind,
    RecomputeCause,
)
from kokuho.core.purposes import Purpose
from kokuho.core.wareki import format_wareki
from kokuho.eligibility.derivation import Period
from kokuho.eligibility.models import BranchNumber, HouseholdNumber
from kokuho.eligibility.selectors import current_periods_by_person
from kokuho.people.models import Person

# Claims re-matched per chunk (their numbers, 枝番 and periods in three queries).
REMATCH_CHUNK = 2000
# A claim that joins its month after 照合 reaches the month as a claim arriving late would.
RECOMPUTE_CAUSE = RecomputeCause.LATE_CLAIM
RECOMPUTE_DETAIL = "未照合レセプトの照合（再照合・被保険者の指定）"
REASON_MAX_LENGTH = 200

Pair = tuple[int, dt.date]  # (household id, 診療月)


# --- 照合 ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimKey:
    """What a claim says about whose it is: 記号・番号・枝番 and the 診療月 (its 1st)."""

    symbol: str
    number: str
    branch: str
    month: dt.date


@dataclass(frozen=True)
class ClaimFound:
    """What the key led to: the number (and its household), the person, the 照合結果."""

    household_number_id: int | None
    household_id: int | None
    person_id: int | None
    match: ClaimMatch


def _month_end(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def insured_in_month(periods: list[Period], month: dt.date) -> bool:
    """Insured on any day of the month: a period starting by its last day and not ended
    before its first."""
    last = _month_end(month)
    return any(p.start <= last and (p.end is None or p.end >= month) for p in periods)


def claim_match(
    *, household_number_id: int | None, person_id: int | None, periods: list[Period], month: dt.date
) -> ClaimMatch:
    """照合結果 of a claim from what its number led to (pure)."""
    if household_number_id is None or person_id is None:
        return ClaimMatch.UNKNOWN_NUMBER
    if insured_in_month(periods, month):
        return ClaimMatch.MATCHED
    return ClaimMatch.NOT_INSURED


def claims_match_bulk(keys: Sequence[ClaimKey]) -> list[ClaimFound]:
    """照合 of a chunk of claims, in the keys' order: numbers, 枝番 and current periods of the
    whole chunk in three queries (none for an empty chunk)."""
    pairs = {(k.symbol, k.number) for k in keys}
    numbers: dict[tuple[str, str], tuple[int, int]] = {}
    if pairs:
        rows = HouseholdNumber.objects.filter(
            symbol__among=sorted({s for s, _n in pairs}),
            number__among=sorted({n for _s, n in pairs}),
        ).values_list("symbol", "number", "pk", "household_id")
        numbers = {(s, n): (pk, hh) for s, n, pk, hh in rows if (s, n) in pairs}
    branches: dict[tuple[int, str], int] = {}
    if numbers:
        rows = BranchNumber.objects.filter(
            household_number_id__among=sorted(pk for pk, _hh in numbers.values())
        ).values_list("household_number_id", "branch", "person_id")
        branches = {(number, branch): person for number, branch, person in rows}
    found: list[tuple[int | None, int | None, int | None]] = []
    for key in keys:
        number_id, household_id = numbers.get((key.symbol, key.number), (None, None))
        person_id = branches.get((number_id, key.branch)) if number_id is not None else None
        found.append((number_id, household_id, person_id))
    persons = sorted({person for _n, _h, person in found if person is not None})
    periods = current_periods_by_person(person_ids=persons) if persons else {}
    return [
        ClaimFound(
            household_number_id=number_id,
            household_id=household_id,
            person_id=person_id,
            match=claim_match(
                household_number_id=number_id,
                person_id=person_id,
                periods=periods[person_id] if person_id is not None else [],
                month=key.month,
            ),
        )
        for key, (number_id, household_id, person_id) in zip(keys, found, strict=True)
    ]


# --- 未照合レセプトの一覧 --------------------------------------------------------------------


def claims_unmatched_open(
    *, month: dt.date | None = None, reason: ClaimMatch | None = None
) -> QuerySet[Claim]:
    """未照合レセプト still to work off: 番号不明 and 資格喪失後受診・資格なし not returned
    (返戻), of a 診療月 (any day of it) and of one reason when given; newest month first, then
    by reason and レセプト管理番号."""
    claims = Claim.objects.filter(match__in=UNMATCHED).filter(
        ~Exists(ClaimResolution.objects.filter(claim=OuterRef("pk")))
    )
    if month is not None:
        claims = claims.filter(service_month=month.replace(day=1))
    if reason is not None:
        claims = claims.filter(match=reason)
    return claims.order_by("-service_month", "match", "claim_id")


@dataclass(frozen=True)
class UnmatchedSummary:
    """Counts for the list's filters: per reason (of the month when one is chosen), per
    month (all months with open claims, newest first), and 返戻 of the same scope."""

    by_reason: dict[ClaimMatch, int]
    by_month: list[tuple[dt.date, int]]
    returned: int

    @property
    def total(self) -> int:
        return sum(self.by_reason.values())


def claims_unmatched_summary(*, month: dt.date | None = None) -> UnmatchedSummary:
    """The counts of `claims_unmatched_open`, in three queries whatever the number of claims."""
    scoped = claims_unmatched_open(month=month).order_by()
    by_reason = {
        ClaimMatch(row["match"]): row["n"]
        for row in scoped.values("match").annotate(n=Count("pk")).order_by("match")
    }
    by_month = [
        (row["service_month"], row["n"])
        for row in claims_unmatched_open()
        .order_by()
        .values("service_month")
        .annotate(n=Count("pk"))
        .order_by("-service_month")
    ]
    returned = ClaimResolution.objects.filter(kind=ClaimResolutionKind.RETURNED)
    if month is not None:
        returned = returned.filter(claim__service_month=month.replace(day=1))
    return UnmatchedSummary(by_reason=by_reason, by_month=by_month, returned=returned.count())


# --- 解消 -----------------------------------------------------------------------------------


class ClaimMatchError(ValueError):
    """A resolution that cannot be made; `field` names the input if any."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class RematchOutcome:
    """再照合: how many claims were looked at, which became matched, which only changed
    reason (the number is now known but the person was not insured that month), and the
    (household, 診療月) pairs that gained claims — for the re-computation."""

    examined: int
    matched: list[str]  # レセプト管理番号
    reason_changed: list[str]
    pairs: list[Pair]

    @property
    def still_unmatched(self) -> int:
        return self.examined - len(self.matched)


def _recompute_notify(pairs: Iterable[Pair]) -> None:
    """Hand the months that gained claims to the 高額療養費 re-computation. The one call site:
    `kogaku.recompute` may not be installed yet, and then nothing is handed over (the months
    are still shown to the clerk as 再計算の対象)."""
    pairs = sorted(set(pairs))
    if not pairs:
        return
    try:
        from kokuho.benefits.kogaku.recompute import kogaku_months_dirty
    except ModuleNotFoundError as error:
        if error.name != "kokuho.benefits.kogaku.recompute":
            raise  # the module is there but broken: never hide that
        return
    kogaku_months_dirty(pairs, cause=RECOMPUTE_CAUSE.value, detail=RECOMPUTE_DETAIL)


def _event_extra(claim_row: dict[str, Any], action: str, **more: Any) -> dict[str, Any]:
    return {
        "action": action,
        "claim_id": claim_row["claim_id"],
        "service_month": claim_row["service_month"].isoformat(),
        "number_on_claim": f"{claim_row['symbol']}-{claim_row['number']}-{claim_row['branch']}",
        "match_before": claim_row["match"],
        **more,
    }


_ROW_FIELDS = (
    "pk",
    "claim_id",
    "symbol",
    "number",
    "branch",
    "service_month",
    "match",
    "person_id",
    "household_number_id",
)


def claims_rematch(
    *,
    claim_ids: Iterable[int] | None = None,
    month: dt.date | None = None,
    reason: ClaimMatch | None = None,
    actor: Any,
) -> RematchOutcome:
    """再照合 of the open unmatched claims given (by id, and/or of a 診療月 and reason; all of
    them when nothing narrows it) with the import's matching. Claims that now match are
    updated and resolved; claims whose number is now known but whose person was not insured
    that month change reason and stay on the list. One transaction; a fixed number of
    queries per chunk of `REMATCH_CHUNK` claims."""
    scope = claims_unmatched_open(month=month, reason=reason)
    if claim_ids is not None:
        scope = scope.filter(pk__in=sorted(set(claim_ids)))
    now = timezone.now()
    matched: list[str] = []
    changed: list[str] = []
    pairs: set[Pair] = set()
    examined = 0
    with transaction.atomic():
        ids = list(scope.order_by("pk").values_list("pk", flat=True))
        for chunk in itertools.batched(ids, REMATCH_CHUNK):
            # Locked, and checked again: a clerk may have resolved one meanwhile.
            rows = list(
                claims_unmatched_open()
                .filter(pk__in=chunk)
                .select_for_update()
                .order_by("pk")
                .values(*_ROW_FIELDS)
            )
            examined += len(rows)
            found = claims_match_bulk(
                [ClaimKey(r["symbol"], r["number"], r["branch"], r["service_month"]) for r in rows]
            )
            updates: list[Claim] = []
            resolutions: list[ClaimResolution] = []
            events: list[tuple[dict[str, Any], ClaimFound, str]] = []
            for row, result in zip(rows, found, strict=True):
                if (result.match, result.person_id) == (row["match"], row["person_id"]):
                    continue  # nothing new about whose it is
                updates.append(
                    Claim(
                        pk=row["pk"],
                        person_id=result.person_id,
                        household_number_id=result.household_number_id,
                        match=result.match,
                    )
                )
                if result.match == ClaimMatch.MATCHED:
                    assert result.household_id is not None
                    matched.append(row["claim_id"])
                    pairs.add((result.household_id, row["service_month"]))
                    resolutions.append(
                        ClaimResolution(
                            claim_id=row["pk"],
                            kind=ClaimResolutionKind.REMATCHED,
                            match_before=row["match"],
                            person_id=result.person_id,
                            household_number_id=result.household_number_id,
                            resolved_by=actor,
                            resolved_at=now,
                        )
                    )
                    events.append((row, result, "rematched"))
                else:
                    changed.append(row["claim_id"])
                    events.append((row, result, "reason_changed"))
            if updates:
                Claim.objects.bulk_update(
                    updates, ["person", "household_number", "match"], batch_size=REMATCH_CHUNK
                )
            ClaimResolution.objects.bulk_create(resolutions)
            _rematch_events(events, actor=actor)
        _recompute_notify(pairs)
    return RematchOutcome(
        examined=examined, matched=matched, reason_changed=changed, pairs=sorted(pairs)
    )


def _rematch_events(events: list[tuple[dict[str, Any], ClaimFound, str]], *, actor: Any) -> None:
    """One event per claim that changed, on the person it now names (one query for their
    宛名番号, one batch write)."""
    if not events:
        return
    atena = dict(
        Person.objects.filter(
            pk__in={found.person_id for _r, found, _a in events if found.person_id}
        ).values_list("pk", "atena_no")
    )
    audit_events_record(
        [
            AuditEntry(
                event_type=EventType.CLAIM_MATCH_RESOLVED,
                subject_type=SubjectType.PERSON if found.person_id else SubjectType.SYSTEM,
                subject_id=atena.get(found.person_id, "") if found.person_id else "",
                purpose=Purpose.NHI_BENEFITS,
                extra=_event_extra(row, action, match_after=str(found.match)),
            )
            for row, found, action in events
        ],
        actor=actor,
    )


def _locked_open_claim(claim: Claim) -> dict[str, Any]:
    """The claim, locked, as it stands — refused unless it is still on the unmatched list."""
    row = Claim.objects.filter(pk=claim.pk).select_for_update().values(*_ROW_FIELDS).first()
    if row is None:
        raise ClaimMatchError("レセプトが見つかりません")
    resolution = ClaimResolution.objects.filter(claim_id=claim.pk).first()
    if resolution is not None:
        raise ClaimMatchError(
            f"レセプト {row['claim_id']} は既に処理済みです（{resolution.get_kind_display()}、"
            f"{timezone.localtime(resolution.resolved_at):%Y-%m-%d %H:%M}）"
        )
    if row["match"] == ClaimMatch.MATCHED:
        raise ClaimMatchError(f"レセプト {row['claim_id']} は既に照合済みです")
    return row


def _number_for(person: Person, month: dt.date) -> BranchNumber:
    """The person's 記号・番号・枝番 of the 診療月: the newest assigned by the month's last day,
    else their newest (numbered later, e.g. a retroactive 資格)."""
    numbers = list(
        BranchNumber.objects.filter(person=person)
        .select_related("household_number")
        .order_by("-assigned_on", "-id")
    )
    if not numbers:
        raise ClaimMatchError(
            f"{person.name}（宛名番号 {person.atena_no}）には記号・番号が付番されていません",
            "person",
        )
    last = _month_end(month)
    return next((n for n in numbers if n.assigned_on <= last), numbers[0])


def _periods_text(periods: list[Period]) -> str:
    if not periods:
        return "国保の資格期間はありません"
    spans = "、".join(
        f"{format_wareki(p.start)}〜{format_wareki(p.end) if p.end else ''}" for p in periods
    )
    return f"資格期間: {spans}"


def claim_person_assign(
    *, claim: Claim, person: Person, actor: Any, note: str = ""
) -> ClaimResolution:
    """被保険者を指定: the clerk names the insured person of an unmatched claim (their 記号・
    番号 changed, the provider wrote an old one). The person must be insured here on a day
    of the claim's 診療月; the claim keeps the number it was sent with and is matched to the
    person's number of that month. Refused, changing nothing, otherwise."""
    note = note.strip()
    if len(note) > REASON_MAX_LENGTH:
        raise ClaimMatchError(f"備考は{REASON_MAX_LENGTH}文字以内で入力してください", "note")
    with transaction.atomic():
        row = _locked_open_claim(claim)
        month = row["service_month"]
        periods = current_periods_by_person(person_ids=[person.pk])[person.pk]
        if not insured_in_month(periods, month):
            raise ClaimMatchError(
                f"{person.name}（宛名番号 {person.atena_no}）は診療月 {month:%Y年%m月} に国保の"
                f"資格がありません（{_periods_text(periods)}）。資格を訂正してから再照合するか、"
                "返戻してください",
                "person",
            )
        number = _number_for(person, month)
        Claim.objects.filter(pk=row["pk"]).update(
            person=person, household_number=number.household_number, match=ClaimMatch.MATCHED
        )
        resolution = ClaimResolution.objects.create(
            claim_id=row["pk"],
            kind=ClaimResolutionKind.ASSIGNED,
            match_before=row["match"],
            person=person,
            household_number=number.household_number,
            reason=note,
            resolved_by=actor,
            resolved_at=timezone.now(),
        )
        hn = number.household_number
        audit_event_record(
            event_type=EventType.CLAIM_MATCH_RESOLVED,
            actor=actor,
            subject_type=SubjectType.PERSON,
            subject_id=person.atena_no,
            purpose=Purpose.NHI_BENEFITS,
            extra=_event_extra(
                row,
                "assigned",
                match_after=str(ClaimMatch.MATCHED),
                number_assigned=f"{hn.symbol}-{hn.number}-{number.branch}",
                note=note,
            ),
        )
        _recompute_notify([(hn.household_id, month)])
    claim.refresh_from_db()
    return resolution


def claim_return(*, claim: Claim, reason: str, actor: Any) -> ClaimResolution:
    """返戻: the claim goes back to the 国保連合会 with the reason; it keeps its 照合結果 (the
    高額療養費 run leaves it out) and leaves the unmatched list."""
    reason = reason.strip()
    if not reason:
        raise ClaimMatchError("返戻の理由を入力してください", "reason")
    if len(reason) > REASON_MAX_LENGTH:
        raise ClaimMatchError(
            f"返戻の理由は{REASON_MAX_LENGTH}文字以内で入力してください", "reason"
        )
    with transaction.atomic():
        row = _locked_open_claim(claim)
        resolution = ClaimResolution.objects.create(
            claim_id=row["pk"],
            kind=ClaimResolutionKind.RETURNED,
            match_before=row["match"],
            reason=reason,
            resolved_by=actor,
            resolved_at=timezone.now(),
        )
        person_id = row["person_id"]
        atena_no = (
            Person.objects.filter(pk=person_id).values_list("atena_no", flat=True).first()
            if person_id is not None
            else None
        )
        audit_event_record(
            event_type=EventType.CLAIM_MATCH_RESOLVED,
            actor=actor,
            subject_type=SubjectType.PERSON if atena_no else SubjectType.SYSTEM,
            subject_id=atena_no or "",
            purpose=Purpose.NHI_BENEFITS,
            extra=_event_extra(row, "returned", reason=reason),
        )
    return resolution
