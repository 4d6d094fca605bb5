"""Named selectors that fill the 副本 items (the catalogue names them; no SQL in YAML).

A chunk of persons is read in bulk once (`kokuho.national.extract.person_chunks`: the
eligibility history, numbers and burden decisions, a fixed number of queries per chunk);
each selector then picks one item's value for one person from what was read, in memory.
A selector returns the value, or None when the person has none (the item then carries its
未設定事由, never NULL).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PersonFacts:
    """What the bulk read knows of one person: their periods' canonical values, oldest first."""

    person_id: int
    atena_no: str
    periods: list[dict[str, Any]]

    @property
    def latest(self) -> dict[str, Any]:
        return self.periods[-1]


def _latest(field: str) -> Callable[[PersonFacts, dt.date], Any]:
    def select(facts: PersonFacts, as_of: dt.date) -> Any:
        value = facts.latest.get(field)
        return None if value in (None, "") else value

    select.__doc__ = f"the latest period's {field}"
    return select


def _head_or_member(facts: PersonFacts, as_of: dt.date) -> str:
    """本人・家族の別: 1 世帯主, 2 世帯員 (the same rule as オンライン資格確認, national.md §1)."""
    return "1" if facts.latest.get("relation") == "世帯主" else "2"


SELECTORS: dict[str, Callable[[PersonFacts, dt.date], Any]] = {
    "insurer_no": _latest("insurer_no"),
    "symbol": _latest("symbol"),
    "number": _latest("number"),
    "branch": _latest("branch"),
    "acquired_on": _latest("acquired_on"),
    "lost_on": _latest("lost_on"),
    "loss_reason": _latest("loss_reason"),
    "head_or_member": _head_or_member,
    # Burden items are decided on the 基準日 for the period in force; empty otherwise.
    "copay_rate": _latest("copay_rate"),
    "elderly": _latest("elderly"),
    "preschool": _latest("preschool"),
}
