"""高額該当情報 out: per household key and 診療年月 from the stored monthly results — 該当, whether
the month counts for 多数回 (not when only the 70〜74 外来（個人） step paid), 所得区分, source
city; a month computed again goes out as 変更, a household no longer paid as 削除.

a (ア, inpatient 300,000 yen) is paid by the household step; b (73, 一般, outpatient 30,000)
only by step 1 (12,000)."""

import datetime as dt
from pathlib import Path

import pytest

from kokuho.benefits.kogaku.run import kogaku_run_create, kogaku_run_execute
from kokuho.benefits.models import Claim
from kokuho.national.feeds import feed_spec, feeds_of
from kokuho.national.layouts import descriptor, line_read, line_write
from kokuho.national.ledger import national_export
from kokuho.national.models import Feed
from kokuho.national.tests.builders import arrive
from kokuho.testing import make_claim

pytestmark = pytest.mark.django_db
GOLDEN = Path(__file__).parent / "golden"
JULY = dt.date(2026, 7, 1)
MAY = dt.date(2026, 5, 1)
DAY = dt.date(2026, 9, 10)


@pytest.fixture(autouse=True)
def _national_dir(tmp_path, settings):
    settings.KOKUHO_NATIONAL_DIR = tmp_path / "national"
    settings.KOKUHO_INSURER_NUMBER = "389999"


def _run(month: dt.date):
    return kogaku_run_execute(run_id=kogaku_run_create(month=month, actor=None).pk)


def _inpatient(person, month: dt.date):
    return make_claim(
        person=person, service_month=month, provider="3810000011", setting=1,
        points=100000, copay=300000,
    )  # fmt: skip


@pytest.fixture
def city():
    a = arrive("1000000001", "5000000001", birth=dt.date(1970, 1, 10))
    b = arrive("1000000002", "5000000002", birth=dt.date(1953, 3, 2), name="高齢 花子", sex=2)
    _inpatient(a, JULY)
    _inpatient(a, MAY)
    make_claim(person=b, service_month=JULY, setting=2, points=15000, copay=30000)
    _run(MAY)
    _run(JULY)
    return a, b


def _records(path: Path) -> list[dict]:
    desc = descriptor("shuyaku_kogaku")
    lines = path.read_bytes().decode("cp932").split("\r\n")[:-1]
    return [line_read(desc, "data", line) for line in lines[1:-1]]


def test_the_feed_is_registered_for_the_kogaku_target():
    assert feeds_of("kogaku") == (Feed.SHUYAKU_KOGAKU, Feed.SHUYAKU_KOGAKU_CARRY)
    spec = feed_spec(Feed.SHUYAKU_KOGAKU)
    assert spec.purpose == "nhi_benefits" and spec.export_kind == "national_aggregation"


def test_the_full_file_matches_its_golden_file(city):
    outcome = national_export(feed=Feed.SHUYAKU_KOGAKU, as_of=DAY, full=True, actor=None)
    assert outcome.path.read_bytes() == (GOLDEN / "shuyaku_kogaku_paid.csv").read_bytes()
    assert outcome.file.assumed and outcome.file.record_count == 3


def test_household_step_months_count_for_many_times_and_outpatient_only_months_do_not(city):
    outcome = national_export(feed=Feed.SHUYAKU_KOGAKU, as_of=DAY, full=True, actor=None)
    rows = {(r["number"], r["service_month"]): r for r in _records(outcome.path)}
    a_july, a_may = rows[("000001", JULY)], rows[("000001", MAY)]
    b_july = rows[("000002", JULY)]
    assert (a_july["kogaku_flag"], a_july["many_count"], a_july["category"]) == ("1", "1", "A01")
    assert a_may["many_count"] == "1"
    # b: 70〜74 外来（個人） only — 該当, but the month does not count for 多数回.
    assert (b_july["kogaku_flag"], b_july["many_count"], b_july["category"]) == ("1", "0", "B04")
    assert {r["municipality_code"] for r in rows.values()} == {"389990"}


def test_a_month_computed_again_is_sent_whole_and_an_unpaid_household_is_deleted(city):
    _, b = city
    national_export(feed=Feed.SHUYAKU_KOGAKU, as_of=DAY, full=True, actor=None)
    Claim.objects.filter(person=b).delete()  # b's claim was withdrawn: July again
    _run(JULY)
    delta = national_export(
        feed=Feed.SHUYAKU_KOGAKU, as_of=DAY + dt.timedelta(days=30), full=False, actor=None
    )
    rows = _records(delta.path)
    assert [(r["processing"], r["number"], r["service_month"]) for r in rows] == [
        ("3", "000002", JULY)
    ]


def test_months_after_the_base_date_are_not_sent(city):
    outcome = national_export(feed=Feed.SHUYAKU_KOGAKU, as_of=MAY, full=True, actor=None)
    assert [r["service_month"] for r in _records(outcome.path)] == [MAY]  # July is after 基準日


def test_every_record_round_trips():
    desc = descriptor("shuyaku_kogaku")
    lines = (GOLDEN / "shuyaku_kogaku_paid.csv").read_bytes().decode("cp932").split("\r\n")[:-1]
    for line in lines[1:-1]:
        assert line_write(desc, "data", line_read(desc, "data", line), DAY) == line
    assert line_write(desc, "control", line_read(desc, "control", lines[0]), DAY) == lines[0]
