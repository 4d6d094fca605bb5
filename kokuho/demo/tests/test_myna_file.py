"""The demo マイナ保険証 status file: one row per insured person, imported without a 保留."""

import datetime as dt

import pytest

from kokuho.certificates.models import MynaRegistration
from kokuho.demo.myna_file import demo_myna_file_write
from kokuho.interfaces.services import import_myna_status
from kokuho.testing import make_insured

pytestmark = pytest.mark.django_db

ON = dt.date(2026, 11, 1)


def test_it_writes_a_file_the_importer_takes_whole(tmp_path):
    persons = [make_insured() for _ in range(4)]
    make_insured(moved_out=dt.date(2026, 6, 30))  # not insured on the day: no row
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    assert demo_myna_file_write(path=first, on=ON, seed=3) == 4
    demo_myna_file_write(path=second, on=ON, seed=3)
    assert first.read_bytes() == second.read_bytes()
    summary = import_myna_status(path=first, actor=None, reported_on=ON)
    assert (summary.applied, summary.quarantined_total) == (4, 0)
    assert set(MynaRegistration.objects.values_list("person_id", flat=True)) == {
        p.pk for p in persons
    }
