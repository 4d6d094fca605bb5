"""Synthetic people for the national feeds' tests: fixed 宛名番号 so golden files are stable."""

import datetime as dt

from django.utils import timezone

from kokuho.eligibility.events import ChangeEvent, ChangeType, event_apply
from kokuho.people.models import Person
from kokuho.people.registry import ResidentData


def arrive(
    atena_no: str,
    household_no: str,
    *,
    on: dt.date = dt.date(2020, 4, 1),
    relation: str = "世帯主",
    name: str = "連携 太郎",
    kana: str = "レンケイ タロウ",
    birth: dt.date = dt.date(1970, 1, 1),
    sex: int = 1,
) -> Person:
    """転入 through the real entry point (period, 記号・番号, 枝番)."""
    resident = ResidentData(atena_no, name, kana, birth, sex, "愛媛県みかん市本町1-1", "799-0001")
    event = ChangeEvent(ChangeType.MOVE_IN, on, on, atena_no, household_no, relation, resident)
    event_apply(event, recorded_at=timezone.now(), actor=None)
    return Person.objects.get(atena_no=atena_no)


def happen(
    kind: ChangeType,
    atena_no: str,
    on: dt.date,
    reported_on: dt.date | None = None,
    **fields: object,
) -> None:
    event = ChangeEvent(kind, on, reported_on or on, atena_no, **fields)  # type: ignore[arg-type]
    event_apply(event, recorded_at=timezone.now(), actor=None)
