"""Properties of the engine over generated households (hypothesis): the benefit is never
negative, never more than the household's counted co-payments, split to persons without
losing a yen, and independent of the order of the claims and of the members."""

import datetime as dt
import json
import random
from pathlib import Path

import duckdb
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kokuho.benefits.kogaku.calc_input import calc_input_parse
from kokuho.benefits.kogaku.engine import engine_inputs_load, engine_run
from kokuho.benefits.kogaku.household import household_compute, households_tables, person_key
from kokuho.benefits.kogaku.rules import ELDERLY, UNDER70, month_rules
from kokuho.benefits.tests.reference import reference_compute
from kokuho.eligibility.burden import is_elderly_on

PROVIDERS = ["3810000001", "3810000002", "3810000011", "3830000001"]
PHARMACY = "3840000001"


# The engine on DuckDB alone: no database of the suite's is opened.
pytestmark = pytest.mark.database_independent


def _month_index(i: int) -> dt.date:
    return dt.date(2017 + i // 12, i % 12 + 1, 1)


# Confirmed months with both age groups' limits: 2017-08 … 2026-07.
MONTHS = st.integers(7, 12 * 9 + 6)


@st.composite
def households(draw, month_index=None):
    month = _month_index(draw(MONTHS) if month_index is None else month_index)
    rules = month_rules(month)
    u70_label = draw(st.sampled_from(rules.labels(UNDER70)))
    eld_label = draw(st.sampled_from(rules.labels(ELDERLY)))
    members = []
    for n in range(draw(st.sampled_from([1, 2, 2, 3, 3, 4]))):
        kind = draw(st.sampled_from(["child", "adult", "elderly", "turning75"]))
        if kind == "child":
            birth = dt.date(month.year - draw(st.integers(0, 17)), draw(st.integers(1, 12)), 15)
        elif kind == "adult":
            birth = dt.date(month.year - draw(st.integers(20, 68)), 3, draw(st.integers(2, 28)))
        elif kind == "elderly":
            birth = dt.date(month.year - draw(st.integers(71, 74)), 1, draw(st.integers(2, 28)))
        else:
            birth = dt.date(month.year - 75, month.month, draw(st.integers(2, 28)))
        if birth > month:
            birth = birth.replace(year=birth.year - 1)
        members.append(
            {
                "id": f"P{n + 1}",
                "birth": birth.isoformat(),
                "special_75_dependent": kind == "adult" and draw(st.booleans()),
                "outpatient_year_to_date": draw(st.one_of(st.none(), st.integers(0, 200000))),
            }
        )
    claims = []
    for _ in range(draw(st.integers(0, 14))):
        person = draw(st.sampled_from([m["id"] for m in members]))
        # Realistic shares (10/20/30 % of the cost) most of the time, so that benefits and
        # splits are common; any amount up to the cost now and then.
        points = draw(st.one_of(st.integers(0, 8000), st.integers(8000, 150000)))
        copay = draw(
            st.one_of(
                st.sampled_from([1, 2, 3]).map(lambda tenth, p=points: p * tenth),
                st.integers(0, points * 10),
            )
        )
        kind = draw(st.sampled_from(["medical", "medical", "dental", "pharmacy", "visiting_nurse"]))
        claim = {
            "person": person,
            "provider": PHARMACY if kind == "pharmacy" else draw(st.sampled_from(PROVIDERS)),
            "setting": "outpatient"
            if kind in ("pharmacy", "visiting_nurse")
            else draw(st.sampled_from(["inpatient", "outpatient"])),
            "kind": kind,
            "points": points,
            "copay": copay,
            "specific_disease": draw(st.booleans()) and draw(st.booleans()),
            "limit_applied": draw(st.booleans()) and draw(st.booleans()),
        }
        if kind == "pharmacy":
            claim["prescribed_by"] = draw(st.sampled_from(PROVIDERS))
        claims.append(claim)
    prior = draw(st.lists(st.integers(1, 14), max_size=5))
    document = {
        "month": f"{month:%Y-%m}",
        "members": members,
        "claims": claims,
        "prior_high_cost_months": [
            f"{dt.date(month.year, month.month, 1) - dt.timedelta(days=31 * k):%Y-%m}"
            for k in prior
        ],
    }
    # The category follows the member's age group in the month.
    for member in members:
        elderly = is_elderly_on(dt.date.fromisoformat(member["birth"]), month)
        member["category"] = eld_label if elderly else u70_label
    return document, draw(st.randoms())


def _compute(document):
    household = calc_input_parse(document)
    return household_compute(household, month_rules(household.month))


@settings(max_examples=100, deadline=None)
@given(households())
def test_benefit_is_bounded_split_exactly_and_order_free(case):
    document, rnd = case
    outcome = _compute(document)
    counted = sum(c for c, _ in outcome.persons.values())
    assert outcome.benefit >= 0
    assert outcome.benefit <= counted
    assert sum(b for _, b in outcome.persons.values()) == outcome.benefit
    for person_counted, person_benefit in outcome.persons.values():
        assert 0 <= person_benefit <= person_counted

    shuffled = dict(document, claims=rnd.sample(document["claims"], len(document["claims"])))
    again = _compute(shuffled)
    assert again.persons == outcome.persons
    assert again.benefit == outcome.benefit

    members = list(document["members"])
    random.Random(rnd.random()).shuffle(members)
    reordered = _compute(dict(document, members=members))
    assert reordered.benefit == outcome.benefit


@settings(max_examples=150, deadline=None)
@given(households())
def test_the_engine_agrees_with_a_plain_python_reading_of_the_spec(case):
    """Differential test: the SQL engine against `reference.py`, written apart from it."""
    household = calc_input_parse(case[0])
    rules = month_rules(household.month)
    engine = household_compute(household, rules)
    oracle = reference_compute(household, rules)
    assert engine.persons == oracle.persons
    assert (engine.benefit, engine.household_limit, engine.many_times) == (
        oracle.benefit,
        oracle.household_limit,
        oracle.many_times,
    )


@settings(max_examples=15, deadline=None)
@given(MONTHS.flatmap(lambda i: st.lists(households(i), min_size=2, max_size=12)))
def test_many_households_in_one_run_equal_each_computed_alone(cases):
    """The monthly run feeds every household of a month to one engine run; the answer for
    each must be the one `kogaku calc` gives it alone."""
    parsed = [calc_input_parse(document) for document, _ in cases]
    month = parsed[0].month
    assert all(p.month == month for p in parsed)
    rules = month_rules(month)
    members, heads, claims = households_tables(parsed, rules)
    with duckdb.connect() as con:
        engine_inputs_load(con, members=members, households=heads, claims=claims)
        engine_run(con, rules)
        together = dict(con.execute("SELECT hh, benefit FROM k_results").fetchall())
        people = {
            (hh, pid): (counted, benefit)
            for hh, pid, counted, benefit in con.execute(
                "SELECT hh, pid, counted_copay, benefit FROM k_persons"
            ).fetchall()
        }
    for hh, household in enumerate(parsed, start=1):
        alone = household_compute(household, rules)
        assert together[hh] == alone.benefit
        for position, member in enumerate(household.members, start=1):
            assert people[(hh, person_key(hh, position))] == alone.persons[member.id]


def test_the_reference_itself_gives_the_spec_worked_examples():
    """The oracle is only worth its agreement if it is right on the published cases."""
    examples = Path(__file__).with_name("examples")  # copies of ../shared/spec/examples
    cases = sorted(examples.glob("kogaku-*.yaml"))
    assert cases
    for case in cases:
        expected = json.loads(case.with_name(f"{case.stem}.expected.json").read_text())
        household = calc_input_parse(yaml.safe_load(case.read_text(encoding="utf-8")))
        answer = reference_compute(household, month_rules(household.month))
        assert answer.benefit == expected["benefit"], case.name
        for person, values in expected["persons"].items():
            assert answer.persons[person][1] == values["benefit"], case.name
