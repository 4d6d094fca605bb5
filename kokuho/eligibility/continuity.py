"""資格継続 — dates carried over after a move within the prefecture (県内異動).

Since 2018-04 the prefecture is an insurer with its municipalities, so a person who moves
within the prefecture keeps their 資格: the 資格取得年月日 the 国保情報集約システム holds is the
first city's, while this city's 適用開始 is the 転入 date (and, on a move out, this city's
適用終了 ends nothing at the prefecture). The 国保情報集約システム's 資格継続チェック結果 names
the carried dates; a clerk accepts them (`kokuho.national.continuity`), and they are kept
here, append-only, by this city's period (`applied_from` = the period's 適用開始).

`continuity_carried_dates` is the bulk read the 資格情報（個人） extract uses.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from kokuho.eligibility.models import ContinuityCarriedDates
from kokuho.people.models import Person


@dataclass(frozen=True)
class CarriedDates:
    acquired_on: dt.date | None
    carries_loss: bool
    lost_on: dt.date | None


def continuity_carried_dates_record(
    *,
    person: Person,
    applied_from: dt.date,
    acquired_on: dt.date | None,
    carries_loss: bool,
    lost_on: dt.date | None,
    basis: str,
    actor: Any | None,
) -> ContinuityCarriedDates:
    """Keep the carried dates of the person's period that starts on `applied_from` (the
    newest row of a period is in force). The caller audits (it knows why)."""
    return ContinuityCarriedDates.objects.create(
        person=person,
        applied_from=applied_from,
        acquired_on=acquired_on,
        carries_loss=carries_loss,
        lost_on=lost_on if carries_loss else None,
        basis=basis[:300],
        recorded_at=timezone.now(),
        recorded_by=actor,
    )


def continuity_carried_dates(*, person_ids: list[int]) -> dict[tuple[int, dt.date], CarriedDates]:
    """(person, 適用開始) → the carried dates in force, for many persons in one query.
    A later row for the same period supersedes an earlier one, field by field: a row that
    carries only the 取得日 keeps an earlier carried 喪失日, and the reverse."""
    found: dict[tuple[int, dt.date], CarriedDates] = {}
    rows = (
        ContinuityCarriedDates.objects.filter(person_id__among=person_ids)
        .order_by("person_id", "applied_from", "pk")
        .values_list("person_id", "applied_from", "acquired_on", "carries_loss", "lost_on")
    )
    for pid, applied_from, acquired_on, carries_loss, lost_on in rows:
        before = found.get((pid, applied_from))
        if before is not None:
            acquired_on = acquired_on or before.acquired_on
            if not carries_loss:
                carries_loss, lost_on = before.carries_loss, before.lost_on
        found[(pid, applied_from)] = CarriedDates(acquired_on, carries_loss, lost_on)
    return found
