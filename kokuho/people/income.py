"""所得 records from the tax system (住民税の課税情報), with 更正 handled by date."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction

from kokuho.people.models import Income, Person
from kokuho.rules.params import parameters


@dataclass(frozen=True)
class IncomeValues:
    total_income: int
    taxable: int
    tax_exempt: bool
    revenue: int
    pension_revenue: int = 0
    pension_income: int = 0
    unreported: bool = False


def first_use_of(income_year: int) -> dt.date:
    """The day an income year starts being used: August 1 of the next year (8月切替)."""
    rule = parameters().at(dt.date(income_year + 1, 12, 31)).eligibility.income_year
    return dt.date(income_year + rule["lag_years_from_switch"], rule["switch_month"], 1)


def _month_after(day: dt.date) -> dt.date:
    if day.day == 1:
        return day
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def income_record(
    *,
    person: Person,
    income_year: int,
    values: IncomeValues,
    reported_on: dt.date,
    recorded_at: dt.datetime,
) -> Income:
    """Store a person's income for a year. A later record for the same year is a 更正: it
    applies from the month after `reported_on` (that month when reported on the 1st), never
    before the year's first use."""
    with transaction.atomic(savepoint=False):
        existing = Income.objects.filter(person=person, income_year=income_year)
        applies_from = first_use_of(income_year)
        if existing.exists():
            applies_from = max(applies_from, _month_after(reported_on))
        row, _ = Income.objects.update_or_create(
            person=person,
            income_year=income_year,
            applies_from=applies_from,
            defaults={**values.__dict__, "recorded_at": recorded_at},
        )
    return row


def income_in_force(*, person: Person, income_year: int, on: dt.date) -> Income | None:
    """The record of `income_year` that decides the month of `on` (None: 未申告)."""
    rows = Income.objects.filter(person=person, income_year=income_year)
    return income_in_force_among(rows=rows, on=on)


def income_in_force_among(*, rows: Iterable[Income], on: dt.date) -> Income | None:
    """Of one person's records for one income year, the one that decides the month of `on`:
    the last to apply by the 1st of that month, else the earliest (None: 未申告).

    Pure, so that readers which load the records of many people and months at once (the
    person page's month table) choose exactly as `income_in_force` does."""
    month = on.replace(day=1)
    chosen = None
    for row in sorted(rows, key=lambda r: r.applies_from):
        if row.applies_from <= month or chosen is None:
            chosen = row
    return chosen
