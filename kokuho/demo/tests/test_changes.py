"""The demo's month of registry changes goes through the real importer cleanly."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_month_of_changes_imports_without_quarantine(var_dir):
    import datetime as dt

    from kokuho.demo.changes import changes_generate
    from kokuho.demo.city import city_generate, city_load
    from kokuho.interfaces.services import import_residents_changes

    on = dt.date(2026, 11, 24)
    city_load(city_generate(households=300, seed=3, on=on), source="test")
    change_file = changes_generate(month=dt.date(2026, 10, 1), seed=3, directory=var_dir, today=on)
    summary = import_residents_changes(path=change_file.path, actor=None)
    assert change_file.rows > 0
    assert summary.applied == change_file.rows and summary.quarantined_total == 0
