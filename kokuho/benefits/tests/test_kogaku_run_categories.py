"""The month decides 所得区分 in bulk: each candidate household's (age group) category is the
one `person_state_on` decides for its member on the day that member is first insured in the
month, and deciding costs the same number of queries for a town of 4 households as for 12
(one person at a time cost ~40 ms each: hours for a city)."""

import datetime as dt
import os

import duckdb
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kokuho.benefits.kogaku import run as month_run
from kokuho.benefits.kogaku.month import candidates_find, claims_load
from kokuho.benefits.kogaku.rules import month_rules
from kokuho.eligibility.selectors import current_periods_by_person, person_state_on
from kokuho.eligibility.tests.test_eligibility_summary import _town_build
from kokuho.people.models import Person
from kokuho.testing import make_claim

pytestmark = pytest.mark.django_db

JULY = dt.date(2026, 7, 1)


def _decide(households: int, seed: int) -> tuple[dict, list, list, int]:
    """The town, a large claim for every insured member, and the month's category stage."""
    _town_build(seed, households=households)
    periods = current_periods_by_person(
        person_ids=list(Person.objects.values_list("pk", flat=True))
    )
    for person in Person.objects.order_by("pk"):
        day = month_run._insured_day(periods[person.pk], JULY)
        if person_state_on(person=person, on=day).insured:
            make_claim(person=person, service_month=JULY, setting=1, points=90000, copay=270000)
    rules = month_rules(JULY)
    with duckdb.connect() as con:
        claims_load(con, month_run._claims_read(JULY), JULY)
        candidates_find(con, rules)
        pairs = con.execute(
            "SELECT hh, grp, arg_min(pid, ord) FROM m_people "
            "WHERE hh IN (SELECT hh FROM m_candidates) GROUP BY hh, grp"
        ).fetchall()
        with CaptureQueriesContext(connection) as queries:
            categories, unknown = month_run._categories(con, JULY, rules, lambda *a: None)
    return categories, unknown, pairs, len(queries)


@pytest.mark.parametrize("seed", [7])
def test_each_category_is_the_one_person_path_s_decision(seed):
    categories, unknown, pairs, _ = _decide(10, seed)
    rules = month_rules(JULY)
    periods = current_periods_by_person(person_ids=[pid for _, _, pid in pairs])
    expected: dict = {}
    undecided = set()
    for hh, group, pid in pairs:
        day = month_run._insured_day(periods[pid], JULY)
        state = person_state_on(person=Person.objects.get(pk=pid), on=day)
        band = rules.band_for_label(group, str(state.category.value)) if state.category else None
        if band is None:
            undecided.add(hh)
        else:
            expected[(hh, group)] = band.key
    assert unknown == sorted(undecided)
    assert categories == {k: v for k, v in expected.items() if k[0] not in undecided}
    assert len(categories) >= 8 and len({v for v in categories.values()}) >= 2


def test_deciding_costs_the_same_queries_for_a_bigger_town():
    small = _decide(4, 4)
    big = _decide(12, 9)
    assert len(big[2]) > 2 * len(small[2])  # more households decided …
    assert big[3] == small[3]  # … in the same number of queries


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_categories_decided_in_worker_processes_are_those_of_one_process(
    settings, monkeypatch, tmp_path
):
    """On PostgreSQL, outside a caller's transaction, the chunks are decided in forked
    workers (each records its process id) with the same result as in this process."""
    if connection.vendor != "postgresql":
        pytest.skip("the month decides in one process on SQLite")
    monkeypatch.setattr(month_run, "CATEGORY_CHUNK", 2)
    pids = tmp_path / "pids"
    real = month_run._chunk_labels

    def recorded(task):
        with pids.open("a") as out:
            out.write(f"{os.getpid()}\n")
        return real(task)

    monkeypatch.setattr(month_run, "_chunk_labels", recorded)
    settings.KOKUHO_READ_WORKERS = 1
    alone = _decide(10, 7)
    assert set(pids.read_text().split()) == {str(os.getpid())}
    pids.unlink()
    settings.KOKUHO_READ_WORKERS = 2
    rules = month_rules(JULY)
    with duckdb.connect() as con:
        claims_load(con, month_run._claims_read(JULY), JULY)
        candidates_find(con, rules)
        forked = month_run._categories(con, JULY, rules, lambda *a: None)
    deciders = pids.read_text().split()
    assert len(deciders) >= 3 and str(os.getpid()) not in deciders
    assert forked == (alone[0], alone[1])
    assert len(alone[0]) >= 8
