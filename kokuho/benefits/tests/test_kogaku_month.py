"""The monthly run's bulk derivations: age group and 75歳到達月 in SQL equal the eligibility
rules in Python, and the candidate filter never drops a household that is owed anything."""

import datetime as dt

import duckdb
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from kokuho.benefits.kogaku.calc_input import calc_input_parse
from kokuho.benefits.kogaku.engine import engine_inputs_load, engine_run
from kokuho.benefits.kogaku.household import households_tables
from kokuho.benefits.kogaku.month import RAW_SCHEMA, candidates_find, claims_load
from kokuho.benefits.kogaku.rules import month_rules
from kokuho.benefits.tests.test_kogaku_properties import MONTHS, households
from kokuho.eligibility.burden import is_elderly_on
from kokuho.eligibility.derivation import anniversary


def _raw(births: list[dt.date]) -> pa.Table:
    n = len(births)
    return pa.table(
        {
            "claim": list(range(n)),
            "hh": list(range(n)),
            "pid": list(range(n)),
            "birth": births,
            "provider": ["3810000001"] * n,
            "setting": [2] * n,
            "kind": [1] * n,
            "prescribed_by": [""] * n,
            "points": [100] * n,
            "copay": [300] * n,
            "specific_disease": [False] * n,
            "limit_applied": [False] * n,
        },
        schema=RAW_SCHEMA,
    )


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 12 * 12 - 1),
    st.lists(
        st.one_of(
            st.dates(dt.date(1940, 1, 1), dt.date(1960, 12, 31)),
            # the edge days: 1st of a month, 29 February, month ends
            st.builds(
                dt.date,
                st.integers(1940, 1960),
                st.integers(1, 12),
                st.sampled_from([1, 2, 28]),
            ),
            st.sampled_from([dt.date(1952, 2, 29), dt.date(1956, 2, 29), dt.date(1948, 2, 29)]),
        ),
        min_size=1,
        max_size=30,
    ),
)
def test_sql_age_groups_equal_the_eligibility_rules(month_index, births):
    month = dt.date(2015 + month_index // 12, month_index % 12 + 1, 1)
    with duckdb.connect() as con:
        claims_load(con, _raw(births), month)
        got = {
            pid: (grp, halved)
            for pid, grp, halved in con.execute("SELECT pid, grp, halved FROM m_people").fetchall()
        }
    for pid, birth in enumerate(births):
        turns = anniversary(birth, 75)
        expected_halved = (turns.year, turns.month) == (month.year, month.month) and turns.day != 1
        expected_group = "elderly" if is_elderly_on(birth, month) else "under70"
        assert got[pid] == (expected_group, expected_halved), (birth, month)


@settings(max_examples=60, deadline=None)
@given(MONTHS.flatmap(lambda i: st.lists(households(i), min_size=1, max_size=10)))
def test_no_household_owed_anything_is_left_out_of_the_candidates(cases):
    parsed = [calc_input_parse(document) for document, _ in cases]
    # The monthly run knows no special_75_dependent and leaves the outpatient annual cap to
    # the yearly settlement (decision 77): leave them out here too.
    parsed = [
        p.__class__(
            month=p.month,
            members=tuple(
                m.__class__(
                    **{
                        **m.__dict__,
                        "special_75_dependent": False,
                        "outpatient_year_to_date": None,
                    }
                )
                for m in p.members
            ),
            claims=p.claims,
            prior_months=p.prior_months,
        )
        for p in parsed
    ]
    rules = month_rules(parsed[0].month)
    members, heads, claims = households_tables(parsed, rules)
    with duckdb.connect() as con:
        engine_inputs_load(con, members=members, households=heads, claims=claims)
        engine_run(con, rules)
        owed = {
            hh for (hh,) in con.execute("SELECT hh FROM k_results WHERE benefit > 0").fetchall()
        }
        con.execute("CREATE TEMP TABLE m_people AS SELECT hh, pid, grp FROM k_members")
        con.execute("CREATE TEMP TABLE m_claims AS SELECT * FROM k_claims")
        candidates = set(candidates_find(con, rules))
    assert owed <= candidates
