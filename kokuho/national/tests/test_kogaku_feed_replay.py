"""Property: whatever months are computed again with other claims between files, replaying
the full 高額該当情報 file and every delta gives the current records (a household no longer
paid is deleted, a month whose 多数回 flag changed is sent whole)."""

import datetime as dt
import tempfile
from pathlib import Path

import pytest
from django.db import transaction
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kokuho.benefits.kogaku.run import kogaku_run_create, kogaku_run_execute
from kokuho.benefits.models import Claim
from kokuho.national.ledger import national_export
from kokuho.national.models import Feed
from kokuho.national.tests.builders import arrive
from kokuho.national.tests.test_national_replay import _current, _replay
from kokuho.testing import make_claim

pytestmark = pytest.mark.django_db
FEED = Feed.SHUYAKU_KOGAKU
MONTHS = [dt.date(2026, 5, 1), dt.date(2026, 6, 1), dt.date(2026, 7, 1)]
STEPS = st.lists(
    st.tuples(st.sampled_from(MONTHS), st.booleans(), st.booleans()),  # a inpatient, b outpatient
    min_size=1,
    max_size=3,
)


def _month(a, b, month: dt.date, a_paid: bool, b_paid: bool) -> None:
    Claim.objects.filter(service_month=month).delete()
    if a_paid:
        make_claim(
            person=a, service_month=month, provider="3810000011", setting=1,
            points=100000, copay=300000,
        )  # fmt: skip
    if b_paid:
        make_claim(person=b, service_month=month, setting=2, points=15000, copay=30000)
    kogaku_run_execute(run_id=kogaku_run_create(month=month, actor=None).pk)


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=STEPS)
def test_full_plus_deltas_replay_to_the_current_records(steps):
    with (
        tempfile.TemporaryDirectory() as tmp,
        override_settings(KOKUHO_NATIONAL_DIR=Path(tmp), KOKUHO_INSURER_NUMBER="389999"),
        transaction.atomic(),
    ):
        a = arrive("3000000001", "5300000001", birth=dt.date(1970, 1, 10))
        b = arrive("3000000002", "5300000002", birth=dt.date(1953, 3, 2))
        _month(a, b, MONTHS[0], True, True)
        day = dt.date(2026, 8, 10)
        replayed: dict = {}
        _replay(replayed, national_export(feed=FEED, as_of=day, full=True, actor=None).path, FEED)
        for month, a_paid, b_paid in steps:
            _month(a, b, month, a_paid, b_paid)
            day += dt.timedelta(days=1)
            out = national_export(feed=FEED, as_of=day, full=False, actor=None)
            _replay(replayed, out.path, FEED)
        assert replayed == _current(FEED.value, day)
        transaction.set_rollback(True)
