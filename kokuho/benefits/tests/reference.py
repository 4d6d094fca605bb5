"""A second, plain-Python reading of benefits.md §4 — the oracle the SQL engine is checked
against (differential tests) and the row-by-row comparator of `bench/kogaku_month.py`.

Written from the spec's text, one household at a time, with no code shared with the engine
but the input dataclasses and the month's rules. Slow by design; never used by the product.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from kokuho.benefits.kogaku.household import HouseholdIn, MemberIn, many_times_months
from kokuho.benefits.kogaku.rules import ELDERLY, Band, MonthRules


@dataclass(frozen=True)
class Answer:
    benefit: int
    many_times: bool
    household_limit: int | None
    persons: dict[str, tuple[int, int]]  # id → (counted co-payment, benefit)


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _limit(band: Band, cost: int, many: bool, rate: Decimal, ratio: Decimal) -> int:
    if many and band.many is not None:
        return _round(band.many * ratio)
    extra = Decimal(0)
    if band.threshold is not None:
        extra = max(Decimal(0), cost - band.threshold * ratio) * rate
    return _round(band.base * ratio + extra)


def _split(benefit: int, amounts: list[tuple[str, int]]) -> dict[str, int]:
    """按分: proportional, rounded down; the rest to the largest (first on a tie)."""
    total = sum(a for _, a in amounts)
    if total == 0:
        return {p: 0 for p, _ in amounts}
    shares = {p: benefit * a // total for p, a in amounts}
    largest = max(amounts, key=lambda pa: pa[1])[0]  # max() keeps the first of equals
    shares[largest] += benefit - sum(shares.values())
    return shares


def reference_compute(household: HouseholdIn, rules: MonthRules) -> Answer:
    many = len(many_times_months(household.month, household.prior_months, rules)) >= (
        rules.many_min_prior_months
    )
    rate, half = rules.formula_rate, rules.birthday_75_ratio
    members: dict[str, MemberIn] = {m.id: m for m in household.members}

    # Units: person × provider (the prescriber for a pharmacy) × setting × 医科/歯科.
    units: dict[tuple[str, str, str, str], list[int]] = {}
    for c in household.claims:
        member = members[c.person]
        provider = c.prescribed_by if c.kind == "pharmacy" else c.provider
        setting = "outpatient" if c.kind in ("pharmacy", "visiting_nurse") else c.setting
        dental = c.kind == "dental" or (c.kind == "pharmacy" and c.prescribed_by[2] == "3")
        copay = c.copay
        if c.specific_disease:
            cap = (
                rules.specific_disease_dialysis_upper
                if member.group != ELDERLY and member.band.dialysis_upper
                else rules.specific_disease
            )
            copay = min(copay, cap)
        key = (c.person, provider, setting, "dental" if dental else "medical")
        cost_copay = units.setdefault(key, [0, 0])
        cost_copay[0] += c.points * 10
        cost_copay[1] += copay

    outpatient: dict[str, int] = dict.fromkeys(members, 0)
    inpatient: dict[str, int] = dict.fromkeys(members, 0)
    counted: dict[str, int] = dict.fromkeys(members, 0)
    cost: dict[str, int] = dict.fromkeys(members, 0)
    for (person, _, setting, _), (unit_cost, unit_copay) in units.items():
        member = members[person]
        if member.group == ELDERLY:
            (outpatient if setting == "outpatient" else inpatient)[person] += unit_copay
        else:
            floor = rules.aggregation_threshold
            if member.special_75_dependent:
                floor = _round(floor * half)
            if unit_copay < floor:
                continue
        counted[person] += unit_copay
        cost[person] += unit_cost

    benefit = dict.fromkeys(members, 0)
    remaining: dict[str, int] = {}
    for person, member in members.items():
        ratio = half if member.halved else Decimal(1)
        if member.group == ELDERLY:
            out = outpatient[person]
            if member.band.outpatient is not None:
                paid = max(0, out - _round(member.band.outpatient * ratio))
                benefit[person] += paid
                out -= paid
                if member.band.outpatient_annual is not None and (
                    member.outpatient_year_to_date is not None
                ):
                    room = max(0, member.band.outpatient_annual - member.outpatient_year_to_date)
                    extra = max(0, out - room)
                    benefit[person] += extra
                    out -= extra
            amount = out + inpatient[person]
        else:
            amount = counted[person]
        if member.halved:
            paid = max(0, amount - _limit(member.band, cost[person], many, rate, half))
            benefit[person] += paid
            amount -= paid
        remaining[person] = amount

    elderly = [m for m in household.members if m.group == ELDERLY]
    young = [m for m in household.members if m.group != ELDERLY]
    household_limit = None
    if elderly:
        entering = [(m.id, remaining[m.id]) for m in elderly]
        step_cost = sum(cost[m.id] for m in elderly)
        household_limit = _limit(elderly[0].band, step_cost, many, rate, Decimal(1))
        paid = max(0, sum(a for _, a in entering) - household_limit)
        for person, share in _split(paid, entering).items():
            benefit[person] += share
            remaining[person] -= share
    if young:
        entering = [(m.id, remaining[m.id]) for m in household.members]
        step_cost = sum(cost[m.id] for m in household.members)
        household_limit = _limit(young[0].band, step_cost, many, rate, Decimal(1))
        paid = max(0, sum(a for _, a in entering) - household_limit)
        for person, share in _split(paid, entering).items():
            benefit[person] += share
    last_band = (young or elderly)[0].band
    many_applied = many and last_band.many is not None
    return Answer(
        benefit=sum(benefit.values()),
        many_times=bool(many_applied),
        household_limit=household_limit,
        persons={p: (counted[p], benefit[p]) for p in members},
    )
