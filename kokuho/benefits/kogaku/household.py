"""One household and one 診療月 through the engine — what `kokuho kogaku calc` runs and
what a notice's 計算明細 is rebuilt from. The input is the calc file's shape
(scenarios.md §2), already checked by `kokuho.benefits.kogaku.calc_input`."""

import datetime as dt
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from kokuho.benefits.kogaku.engine import (
    CLAIM_SCHEMA,
    HOUSEHOLD_SCHEMA,
    MEMBER_SCHEMA,
    engine_inputs_load,
    engine_run,
    rows_to_table,
)
from kokuho.benefits.kogaku.rules import ELDERLY, UNDER70, Band, MonthRules

SETTINGS = ("inpatient", "outpatient")
KINDS = ("medical", "dental", "pharmacy", "visiting_nurse")


@dataclass(frozen=True)
class MemberIn:
    id: str
    birth: dt.date
    group: str  # UNDER70 | ELDERLY
    band: Band
    halved: bool  # 75歳到達月 (the 75th birthday in the month, not on the 1st)
    special_75_dependent: bool
    outpatient_year_to_date: int | None = None


@dataclass(frozen=True)
class ClaimIn:
    person: str
    provider: str
    setting: str
    kind: str
    points: int
    copay: int
    prescribed_by: str = ""
    specific_disease: bool = False
    limit_applied: bool = False


@dataclass(frozen=True)
class HouseholdIn:
    month: dt.date
    members: tuple[MemberIn, ...]
    claims: tuple[ClaimIn, ...]
    prior_months: tuple[dt.date, ...]  # months in which the household was paid 高額療養費


@dataclass(frozen=True)
class Unit:
    person: str
    provider: str
    setting: str
    branch: str
    cost: int
    copay: int
    claims: int
    counted: bool
    specific_disease: bool
    limit_applied: bool


@dataclass(frozen=True)
class Step:
    step: str  # 1, 1a, 5, 2, 3
    person: str | None
    entering: int
    cost: int | None
    limit: int
    benefit: int
    many_applied: bool


@dataclass
class Outcome:
    month: dt.date
    rules: MonthRules
    household: HouseholdIn
    many_times: bool
    counted_prior: tuple[dt.date, ...]
    benefit: int
    household_limit: int | None
    persons: dict[str, tuple[int, int]]  # id → (counted co-payment, benefit)
    units: list[Unit] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    shares: dict[str, list[tuple[str, int, int]]] = field(default_factory=dict)
    # Paid months counted only as carried over from a former city of the prefecture
    # (高額該当の引継ぎ) → its 保険者番号; the calc JSON path lists every month as its own.
    carried: dict[dt.date, str] = field(default_factory=dict)


def months_back(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 - n
    return dt.date(index // 12, index % 12 + 1, 1)


def many_times_months(
    month: dt.date, prior: tuple[dt.date, ...], rules: MonthRules
) -> tuple[dt.date, ...]:
    """The paid months that count for 多数回: M−11 … M−1 (window from the parameters)."""
    first = months_back(month, rules.many_window_months - 1)
    return tuple(sorted({m for m in prior if first <= m < month}))


def person_key(hh: int, position: int) -> int:
    """The engine's `pid` of the member at `position` (1…) of household `hh`: unique across
    the households of one engine run, as the engine joins on it alone."""
    return hh * 1000 + position


def households_tables(
    households: list[HouseholdIn], rules: MonthRules
) -> tuple[pa.Table, pa.Table, pa.Table]:
    """The engine's input tables for households numbered 1…n in list order; `ord` is the
    member's position in the household (the input order, for 按分 ties)."""
    members, heads, claims = [], [], []
    for hh, household in enumerate(households, start=1):
        counted_prior = many_times_months(household.month, household.prior_months, rules)
        ids = {m.id: person_key(hh, i) for i, m in enumerate(household.members, start=1)}
        u70 = [m for m in household.members if m.group == UNDER70]
        eld = [m for m in household.members if m.group == ELDERLY]
        heads.append(
            {
                "hh": hh,
                "many": len(counted_prior) >= rules.many_min_prior_months,
                "u70_cat": u70[0].band.key if u70 else None,
                "eld_cat": eld[0].band.key if eld else None,
            }
        )
        members += [
            {
                "hh": hh,
                "pid": ids[m.id],
                "ord": ids[m.id] - person_key(hh, 0),
                "grp": m.group,
                "cat": m.band.key,
                "halved": m.halved,
                "sp75": m.special_75_dependent,
                "out_ytd": m.outpatient_year_to_date,
            }
            for m in household.members
        ]
        claims += [
            {
                "hh": hh,
                "pid": ids[c.person],
                "seq": seq,
                "provider": c.provider,
                "setting": c.setting,
                "kind": c.kind,
                "prescribed_by": c.prescribed_by or None,
                "points": c.points,
                "copay": c.copay,
                "specific_disease": c.specific_disease,
                "limit_applied": c.limit_applied,
            }
            for seq, c in enumerate(household.claims, start=1)
        ]
    return (
        rows_to_table(members, MEMBER_SCHEMA),
        rows_to_table(heads, HOUSEHOLD_SCHEMA),
        rows_to_table(claims, CLAIM_SCHEMA),
    )


def household_compute(household: HouseholdIn, rules: MonthRules) -> Outcome:
    counted_prior = many_times_months(household.month, household.prior_months, rules)
    ids = {m.id: person_key(1, i) for i, m in enumerate(household.members, start=1)}
    members, households, claims = households_tables([household], rules)
    name = {i: m for m, i in ids.items()}
    with duckdb.connect() as con:
        engine_inputs_load(con, members=members, households=households, claims=claims)
        engine_run(con, rules)
        benefit, many_applied, limit = con.execute(
            "SELECT benefit, many_times, household_limit FROM k_results"
        ).fetchall()[0]
        persons = {
            name[pid]: (int(counted), int(paid))
            for pid, counted, paid in con.execute(
                "SELECT pid, counted_copay, benefit FROM k_persons ORDER BY ord"
            ).fetchall()
        }
        units = [
            Unit(name[r[0]], *r[1:4], int(r[4]), int(r[5]), int(r[6]), *map(bool, r[7:10]))
            for r in con.execute(
                "SELECT pid, unit_provider,"
                " CASE WHEN inpatient THEN 'inpatient' ELSE 'outpatient' END,"
                " CASE WHEN dental THEN 'dental' ELSE 'medical' END,"
                " cost, copay, claims, counted, specific_disease, limit_applied"
                " FROM k_units ORDER BY first_seq"
            ).fetchall()
        ]
        order = {"1": 0, "1a": 1, "5": 2, "2": 3, "3": 4}
        steps = sorted(
            (
                Step(s, name.get(pid), int(e), c, int(lim), int(b), bool(many_s))
                for s, pid, e, c, lim, b, many_s in con.execute(
                    "SELECT step, pid, entering, cost, lim, benefit, many_applied FROM k_steps"
                ).fetchall()
            ),
            key=lambda s: (order[s.step], ids.get(s.person or "", 0)),
        )
        shares: dict[str, list[tuple[str, int, int]]] = {}
        for step, pid, amount, share in con.execute(
            "SELECT s.step, s.pid, s.amount, s.share FROM k_shares s ORDER BY s.step, s.pid"
        ).fetchall():
            shares.setdefault(step, []).append((name[pid], int(amount), int(share)))
    return Outcome(
        month=household.month,
        rules=rules,
        household=household,
        many_times=bool(many_applied) if limit is not None else False,
        counted_prior=counted_prior,
        benefit=int(benefit),
        household_limit=None if limit is None else int(limit),
        persons=persons,
        units=units,
        steps=steps,
        shares=shares,
    )
