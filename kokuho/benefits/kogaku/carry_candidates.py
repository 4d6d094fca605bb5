"""高額該当引継 候補 in → 確定: the 国保情報集約システム proposes households that moved within the
prefecture; a clerk confirms the household's continuity (世帯の継続性) with the evidence side
by side, and the former city's months that count for 多数回 become carried months.

`kogaku_carry_candidates_import` reads a candidate file whole (`national.inbound`: CP932, not
cut short, our layout and version, our 保険者番号; a repeat by SHA-256 refused) and keeps one
`KogakuCarryCandidate` per 候補番号. A candidate whose household key is not this city's, whose
rows disagree on the households, or that was imported before is reported, never guessed.

`kogaku_carry_confirm` records each counted month through `kogaku_carried_month_record` (basis
= the candidate and its file), so the monthly run counts it for 多数回 like the manual entry
(which stays as the fallback); a month already standing is left as it is. 70〜74 外来特例
months (not counted for 多数回 at the former city) are shown but not carried.
`kogaku_carry_reject` marks 非該当 with a reason and writes nothing. The decisions go out in
the `shuyaku_kogaku_carry` feed (`national.kogaku_feed.carry_chunks`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.benefits.kogaku.carried import kogaku_carried_month_record
from kokuho.benefits.kogaku.workflow import KogakuError
from kokuho.benefits.models import (
    CarryStatus,
    KogakuCarriedMonth,
    KogakuCarryCandidate,
    KogakuCarryCandidateFile,
)
from kokuho.core.purposes import Purpose
from kokuho.eligibility.models import HouseholdNumber
from kokuho.national.inbound import NationalInboundRejected, inbound_read
from kokuho.national.layouts import code_list
from kokuho.people.models import Person

CANDIDATE_LAYOUT = "shuyaku_kogaku_candidate"
DETAIL_MONTH, DETAIL_FORMER, DETAIL_OURS = "1", "2", "3"
_SKIPPED = "（反映していません）"
_HOUSEHOLD_FIELDS = (
    "former_insurer_no", "former_symbol", "former_number", "insurer_no", "symbol", "number",
)  # fmt: skip


class KogakuCarryErrorCode(StrEnum):
    ALREADY_DECIDED = "already_decided"
    REASON_REQUIRED = "reason_required"


class KogakuCarryError(KogakuError):
    """A decision that cannot be made (`code` for programs, the message for staff)."""

    def __init__(self, code: KogakuCarryErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class CarryImportOutcome:
    file: KogakuCarryCandidateFile
    created: int
    problems: list[str] = field(default_factory=list)


def _member(row: dict[str, Any]) -> dict[str, Any]:
    birth = row["birth_date"]
    return {
        "name": row["name"] or "",
        "kana": row["kana"] or "",
        "birth_date": birth.isoformat() if birth else None,
        "sex": row["sex"] or "",
        "relation": row["relation"] or "",
    }


def _candidate(
    number: str, rows: list[tuple[int, dict[str, Any]]], households: dict, on: dt.date
) -> dict[str, Any] | str:
    """The fields of one candidate, or the problem that keeps it out (a str)."""
    first_line = rows[0][0]
    keys = {tuple(r[f] for f in _HOUSEHOLD_FIELDS) for _, r in rows}
    if len(keys) != 1:
        return f"{first_line}行目 候補 {number}: 明細ごとに世帯の記号・番号が違います{_SKIPPED}"
    former_insurer, former_symbol, former_number, insurer, symbol, number_ = keys.pop()
    if insurer != settings.KOKUHO_INSURER_NUMBER:
        return f"{first_line}行目 候補 {number}: 転入先が他の保険者（{insurer}）です{_SKIPPED}"
    household_id = households.get((symbol, number_))
    if household_id is None:
        return (
            f"{first_line}行目 候補 {number}: 当市の記号・番号 {symbol}・{number_} の世帯が"
            f"ありません{_SKIPPED}"
        )
    kinds, flags = code_list("shuyaku_kogaku_detail_kind", on), code_list("flag", on)
    months, former, ours = [], [], []
    for line_no, row in rows:
        kind = row["detail_kind"]
        if kind not in kinds:
            return f"{line_no}行目 候補 {number}: 明細区分 {kind!r} は不明です{_SKIPPED}"
        if kind == DETAIL_MONTH:
            if row["service_month"] is None or (row["many_count"] or "") not in flags:
                return f"{line_no}行目 候補 {number}: 診療年月・多数回の区分がありません"
            month = row["service_month"].isoformat()
            months.append({"month": month, "counts": row["many_count"] == "1"})
        else:
            (former if kind == DETAIL_FORMER else ours).append(_member(row))
    return {
        "candidate_no": number,
        "former_insurer_number": former_insurer or "",
        "former_symbol": former_symbol or "",
        "former_number": former_number or "",
        "household_id": household_id,
        "symbol": symbol,
        "number": number_,
        "months": sorted(months, key=lambda m: m["month"]),
        "evidence": {"former": former, "ours": ours},
    }


def kogaku_carry_candidates_import(*, path: Path, actor: Any | None) -> CarryImportOutcome:
    """Import one 高額該当引継 候補 file (see the module docstring)."""
    parsed = inbound_read(data=path.read_bytes(), name=path.name, layout=CANDIDATE_LAYOUT)
    if KogakuCarryCandidateFile.objects.filter(sha256=parsed.sha256).exists():
        raise NationalInboundRejected(f"{path.name}: この高額該当引継 候補ファイルは取込済みです")
    on = parsed.control["created_on"] or timezone.localdate()
    groups: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    for line_no, row in parsed.rows:
        groups[row["candidate_no"] or ""].append((line_no, row))
    wanted = {(r["symbol"], r["number"]) for _, r in parsed.rows}
    households = {
        (s, n): hh
        for s, n, hh in HouseholdNumber.objects.filter(
            symbol__in={s for s, _ in wanted}, number__in={n for _, n in wanted}
        ).values_list("symbol", "number", "household_id")
    }
    known = set(
        KogakuCarryCandidate.objects.filter(candidate_no__in=list(groups)).values_list(
            "candidate_no", flat=True
        )
    )
    problems: list[str] = []
    made: list[dict[str, Any]] = []
    for number, rows in groups.items():
        if number in known:
            problems.append(f"{rows[0][0]}行目 候補 {number}: 取込済みの候補です{_SKIPPED}")
            continue
        found = _candidate(number, rows, households, on)
        (problems.append if isinstance(found, str) else made.append)(found)  # type: ignore[arg-type]
    now = timezone.now()
    counts = {"候補": len(made), "反映しなかった候補": len(problems)}
    with transaction.atomic():
        file = KogakuCarryCandidateFile.objects.create(
            file_name=path.name, sha256=parsed.sha256, imported_at=now, counts=counts,
            problems=problems,
        )  # fmt: skip
        KogakuCarryCandidate.objects.bulk_create(
            [KogakuCarryCandidate(file=file, created_at=now, **fields) for fields in made]
        )
        audit_event_record(
            event_type=EventType.NATIONAL_RESULT_IMPORTED,
            actor=actor,
            subject_type=SubjectType.SYSTEM,
            subject_id=f"national:{CANDIDATE_LAYOUT}:{file.pk}",
            purpose=Purpose.NHI_BENEFITS,
            extra={"file": path.name, "sha256": parsed.sha256, "counts": counts},
        )
    return CarryImportOutcome(file, len(made), problems)


# --- the decision ------------------------------------------------------------------------


def _locked_candidate(candidate: KogakuCarryCandidate) -> KogakuCarryCandidate:
    locked = (
        KogakuCarryCandidate.objects.select_for_update()
        .select_related("file", "household")
        .get(pk=candidate.pk)
    )
    if locked.status != CarryStatus.CANDIDATE:
        raise KogakuCarryError(
            KogakuCarryErrorCode.ALREADY_DECIDED,
            f"候補 {locked.candidate_no} は確認済みです（{locked.get_status_display()}）",
        )
    return locked


def _decided(candidate: KogakuCarryCandidate, actor: Any, **extra: Any) -> None:
    audit_event_record(
        event_type=EventType.KOGAKU_CARRY_DECIDED,
        actor=actor,
        subject_type=SubjectType.HOUSEHOLD,
        subject_id=candidate.household.household_no,
        purpose=Purpose.NHI_BENEFITS,
        extra={
            "candidate_id": candidate.pk,
            "candidate_no": candidate.candidate_no,
            "status": candidate.status,
            "former_insurer_number": candidate.former_insurer_number,
            **extra,
        },
    )


def carry_months_counted(candidate: KogakuCarryCandidate) -> list[dt.date]:
    """The former city's months that count for 多数回 (70〜74 外来特例 months do not)."""
    return [dt.date.fromisoformat(m["month"]) for m in candidate.months if m["counts"]]


def kogaku_carry_confirm(
    *, candidate: KogakuCarryCandidate, actor: Any, note: str = ""
) -> KogakuCarryCandidate:
    """確認（継続）: the household continues; each counted month is carried (one
    `KogakuCarriedMonth` per month not already standing), all or nothing."""
    with transaction.atomic():
        candidate = _locked_candidate(candidate)
        standing = set(
            KogakuCarriedMonth.objects.filter(
                household=candidate.household, withdrawn_at__isnull=True
            ).values_list("month", flat=True)
        )
        basis = f"高額該当引継 候補 {candidate.candidate_no}（{candidate.file.file_name}）"[:200]
        carried = []
        for month in carry_months_counted(candidate):
            if month in standing:
                continue
            kogaku_carried_month_record(
                household=candidate.household,
                month=month,
                former_insurer_number=candidate.former_insurer_number,
                basis=basis,
                actor=actor,
            )
            carried.append(month)
        candidate.status = CarryStatus.CONTINUED
        candidate.decided_at, candidate.decided_by = timezone.now(), actor
        candidate.reason = note.strip()[:300]
        candidate.carried_months = len(carried)
        candidate.save(
            update_fields=["status", "decided_at", "decided_by", "reason", "carried_months"]
        )
        _decided(candidate, actor, months=[f"{m:%Y-%m}" for m in carried], note=candidate.reason)
    return candidate


def kogaku_carry_reject(
    *, candidate: KogakuCarryCandidate, reason: str, actor: Any
) -> KogakuCarryCandidate:
    """非該当: the household does not continue; nothing is carried."""
    reason = reason.strip()
    if not reason:
        raise KogakuCarryError(
            KogakuCarryErrorCode.REASON_REQUIRED, "非該当の理由を入力してください"
        )
    with transaction.atomic():
        candidate = _locked_candidate(candidate)
        candidate.status = CarryStatus.NOT_APPLICABLE
        candidate.decided_at, candidate.decided_by = timezone.now(), actor
        candidate.reason = reason[:300]
        candidate.save(update_fields=["status", "decided_at", "decided_by", "reason"])
        _decided(candidate, actor, reason=candidate.reason)
    return candidate


# --- selectors ---------------------------------------------------------------------------


def kogaku_carry_candidates(*, status: str | None = CarryStatus.CANDIDATE) -> QuerySet:
    """Candidates for the list, oldest first (household and 世帯主 joined)."""
    rows = KogakuCarryCandidate.objects.select_related("household__head", "decided_by")
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("created_at", "pk")


@dataclass(frozen=True)
class CandidateView:
    candidate: KogakuCarryCandidate
    members: list[Person]  # this city's household members as our records have them
    months: list[tuple[dt.date, bool]]


def kogaku_carry_candidate_view(*, candidate_id: int, actor: Any, screen: str) -> CandidateView:
    """One candidate with this city's members for comparison; the access is recorded
    (世帯情報の閲覧)."""
    with transaction.atomic():
        candidate = get_object_or_404(
            KogakuCarryCandidate.objects.select_related(
                "file", "household__head", "household__nhi_number", "decided_by__staff_profile"
            ),
            pk=candidate_id,
        )
        members = list(
            Person.objects.filter(household=candidate.household).order_by("birth_date", "pk")
        )
        audit_event_record(
            event_type=EventType.HOUSEHOLD_VIEWED,
            actor=actor,
            subject_type=SubjectType.HOUSEHOLD,
            subject_id=candidate.household.household_no,
            purpose=Purpose.NHI_BENEFITS,
            extra={"screen": screen, "members_shown": [p.atena_no for p in members]},
        )
    months = [(dt.date.fromisoformat(m["month"]), m["counts"]) for m in candidate.months]
    return CandidateView(candidate, members, months)
