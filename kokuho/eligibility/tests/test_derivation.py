"""Interval arithmetic and the reason shown at each boundary (no database)."""

import datetime as dt

from kokuho.eligibility.derivation import (
    Interval,
    Period,
    anniversary,
    derive_periods,
    first_difference,
)
from kokuho.eligibility.facts import (
    CoverageFact,
    KeptFact,
    RegistryFact,
    basis_intervals,
    exclusion_intervals,
    residence_intervals,
)

D = dt.date


def _periods(events, coverages=(), kept=(), birth=D(1980, 1, 1), death=None, as_of=D(2030, 1, 1)):
    residence = residence_intervals(events)
    exclusions = exclusion_intervals(
        birth_date=birth, coverages=coverages, residence=residence, late_elderly_age=75
    )
    return derive_periods(
        basis=basis_intervals(residence=residence, kept=kept, death=death),
        exclusions=[x for x in exclusions if x.start <= as_of],
    )


def test_a_domestic_move_out_ends_the_day_before():
    periods = _periods([RegistryFact("A01", D(2026, 4, 1)), RegistryFact("B01", D(2026, 10, 20))])
    assert periods == [Period(D(2026, 4, 1), D(2026, 10, 19), "move_in", "move_out")]


def test_abroad_and_death_end_on_the_day():
    abroad = _periods(
        [RegistryFact("A01", D(2026, 4, 1)), RegistryFact("B01", D(2026, 6, 30), True)]
    )
    death = _periods([RegistryFact("A02", D(2026, 4, 1)), RegistryFact("B02", D(2026, 7, 15))])
    assert abroad[0].end == D(2026, 6, 30)
    assert death == [Period(D(2026, 4, 1), D(2026, 7, 15), "birth", "death")]


def test_employee_insurance_overlaps_one_day_and_resumes_on_its_loss_date():
    periods = _periods(
        [RegistryFact("A01", D(2026, 1, 1))],
        [CoverageFact("employee_insurance", D(2026, 3, 10), D(2026, 6, 30))],
    )
    assert periods == [
        Period(D(2026, 1, 1), D(2026, 3, 10), "move_in", "employee_insurance_join"),
        Period(D(2026, 7, 1), None, "employee_insurance_leave", None),
    ]


def test_welfare_ends_nhi_the_day_before_it_starts():
    periods = _periods(
        [RegistryFact("A01", D(2026, 1, 1))], [CoverageFact("welfare", D(2026, 5, 1), None)]
    )
    assert periods == [Period(D(2026, 1, 1), D(2026, 4, 30), "move_in", "welfare_start")]


def test_a_resident_already_covered_elsewhere_is_never_insured():
    periods = _periods(
        [RegistryFact("A01", D(2026, 4, 1))],
        [CoverageFact("employee_insurance", D(2020, 4, 1), None)],
    )
    assert periods == []


def test_the_75th_birthday_ends_the_period_the_day_before():
    periods = _periods([RegistryFact("A01", D(2020, 1, 1))], birth=D(1951, 9, 10))
    assert periods == [Period(D(2020, 1, 1), D(2026, 9, 9), "move_in", "age_75")]


def test_a_leap_day_birthday_reaches_75_on_march_first_in_a_common_year():
    assert anniversary(D(1952, 2, 29), 75) == D(2027, 3, 1)
    assert anniversary(D(1952, 2, 29), 72) == D(2024, 2, 29)


def test_facility_move_out_keeps_the_period_open():
    periods = _periods(
        [RegistryFact("A01", D(2020, 1, 1)), RegistryFact("B01", D(2026, 5, 1))],
        kept=[KeptFact("facility", D(2026, 5, 1), None)],
    )
    assert periods == [Period(D(2020, 1, 1), None, "move_in", None)]


def test_death_ends_a_kept_period():
    periods = _periods(
        [RegistryFact("A01", D(2020, 1, 1)), RegistryFact("B01", D(2026, 5, 1))],
        kept=[KeptFact("student", D(2026, 5, 1), None)],
        death=D(2026, 8, 1),
    )
    assert periods == [Period(D(2020, 1, 1), D(2026, 8, 1), "move_in", "death")]


def test_short_stay_on_arrival_means_never_insured_but_later_means_the_next_day():
    arrival = _periods(
        [RegistryFact("A01", D(2026, 4, 1))], [CoverageFact("short_stay", D(2026, 4, 1), None)]
    )
    later = _periods(
        [RegistryFact("A01", D(2026, 4, 1))], [CoverageFact("short_stay", D(2026, 6, 1), None)]
    )
    assert arrival == []
    assert later == [Period(D(2026, 4, 1), D(2026, 6, 1), "move_in", "foreign_short_stay")]


def test_moving_back_gives_a_second_period():
    periods = _periods(
        [
            RegistryFact("A01", D(2020, 1, 1)),
            RegistryFact("B01", D(2022, 1, 1)),
            RegistryFact("A01", D(2024, 1, 1)),
        ]
    )
    assert [(p.start, p.end) for p in periods] == [
        (D(2020, 1, 1), D(2021, 12, 31)),
        (D(2024, 1, 1), None),
    ]


def test_overlapping_exclusions_do_not_split_a_gap():
    periods = derive_periods(
        basis=[Interval(D(2026, 1, 1), None, "move_in")],
        exclusions=[
            Interval(D(2026, 3, 1), D(2026, 5, 31), "welfare_start", "welfare_end"),
            Interval(D(2026, 5, 1), D(2026, 7, 31), "union_join", "union_leave"),
        ],
    )
    assert periods == [
        Period(D(2026, 1, 1), D(2026, 2, 28), "move_in", "welfare_start"),
        Period(D(2026, 8, 1), None, "union_leave", None),
    ]


def test_first_difference_finds_the_earliest_changed_day():
    old = [Period(D(2026, 4, 1), None, "move_in", None)]
    new = [Period(D(2026, 4, 1), D(2026, 6, 15), "move_in", "employee_insurance_join")]
    assert first_difference(old, new) == D(2026, 6, 16)
    assert first_difference(old, old) is None
    assert first_difference([], old) == D(2026, 4, 1)
