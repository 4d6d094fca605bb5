"""高額該当引継 候補 in → 確定: a candidate file checked whole, one candidate per 候補番号 (an
unknown household reported, never guessed); confirming continuity carries the months that
count for 多数回 (not the 70〜74 外来特例 month) so the monthly run applies the 多数回 limit;
非該当 writes nothing; the decisions go out in the 高額該当引継 確定 feed.

a (ア, 世帯主) has an inpatient stay of 300,000 yen in July 2026: 45,820 without 多数回, and
159,900 with it (ア 多数回 140,100). The former city paid the household in 2025-10, 2026-01
and 2026-04 (household steps) and 2026-03 (70〜74 外来（個人） only)."""

import datetime as dt
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from kokuho.accounts.permissions import Role
from kokuho.audit.models import AuditEvent, EventType
from kokuho.benefits.kogaku.carried import kogaku_carried_month_record
from kokuho.benefits.kogaku.carry_candidates import (
    KogakuCarryError,
    kogaku_carry_candidates_import,
    kogaku_carry_confirm,
    kogaku_carry_reject,
)
from kokuho.benefits.kogaku.run import kogaku_run_create, kogaku_run_execute
from kokuho.benefits.models import (
    CarryStatus,
    KogakuCarriedMonth,
    KogakuCarryCandidate,
    KogakuCarryCandidateFile,
    KogakuResult,
)
from kokuho.national.inbound import NationalInboundRejected
from kokuho.national.layouts import descriptor, line_read, line_write
from kokuho.national.ledger import national_export
from kokuho.national.models import Feed
from kokuho.national.tests.builders import arrive
from kokuho.testing import make_claim, make_staff

pytestmark = pytest.mark.django_db
GOLDEN = Path(__file__).resolve().parents[2] / "national" / "tests" / "golden"
CANDIDATES = GOLDEN / "shuyaku_kogaku_candidate.csv"
JULY = dt.date(2026, 7, 1)
CARRIED = [dt.date(2025, 10, 1), dt.date(2026, 1, 1), dt.date(2026, 4, 1)]


@pytest.fixture(autouse=True)
def _national_dir(tmp_path, settings):
    settings.KOKUHO_NATIONAL_DIR = tmp_path / "national"
    settings.KOKUHO_INSURER_NUMBER = "389999"


@pytest.fixture
def a():
    person = arrive("1000000001", "5000000001", birth=dt.date(1970, 1, 10), name="引継 太郎")
    make_claim(
        person=person, service_month=JULY, provider="3810000011", setting=1,
        points=100000, copay=300000,
    )  # fmt: skip
    return person


@pytest.fixture
def clerk():
    return make_staff(role=Role.BENEFITS)


@pytest.fixture
def candidate(a):
    kogaku_carry_candidates_import(path=CANDIDATES, actor=None)
    return KogakuCarryCandidate.objects.get()


def _july(person) -> KogakuResult:
    run = kogaku_run_execute(run_id=kogaku_run_create(month=JULY, actor=None).pk)
    return KogakuResult.objects.get(run=run, household=person.household)


def test_the_golden_file_round_trips():
    desc = descriptor("shuyaku_kogaku_candidate")
    lines = CANDIDATES.read_bytes().decode("cp932").split("\r\n")[:-1]
    on = dt.date(2026, 8, 1)
    assert line_write(desc, "control", line_read(desc, "control", lines[0]), on) == lines[0]
    for line in lines[1:-1]:
        assert line_write(desc, "data", line_read(desc, "data", line), on) == line


def test_a_candidate_is_kept_with_its_months_and_evidence_and_an_unknown_household_reported(a):
    outcome = kogaku_carry_candidates_import(path=CANDIDATES, actor=None)
    assert outcome.created == 1
    (problem,) = outcome.problems
    assert "候補 K0000002" in problem and "99・999999 の世帯がありません" in problem
    candidate = KogakuCarryCandidate.objects.get()
    assert (candidate.candidate_no, candidate.household, candidate.status) == (
        "K0000001", a.household, CarryStatus.CANDIDATE,
    )  # fmt: skip
    assert (candidate.former_insurer_number, candidate.former_symbol) == ("380014", "20")
    assert candidate.months == [
        {"month": "2025-10-01", "counts": True},
        {"month": "2026-01-01", "counts": True},
        {"month": "2026-03-01", "counts": False},
        {"month": "2026-04-01", "counts": True},
    ]
    assert candidate.evidence["former"][0]["birth_date"] == "1970-01-10"
    assert candidate.evidence["ours"][0]["name"] == "引継 太郎"
    assert KogakuCarryCandidateFile.objects.get().counts == {"候補": 1, "反映しなかった候補": 1}


def test_confirming_carries_the_counted_months_and_the_run_applies_many_times(candidate, a, clerk):
    assert (_july(a).many_times, _july(a).benefit) == (False, 45820)
    kogaku_carry_confirm(candidate=candidate, actor=clerk, note="住記で世帯の継続を確認")
    candidate.refresh_from_db()
    assert (candidate.status, candidate.decided_by, candidate.carried_months) == (
        CarryStatus.CONTINUED, clerk, 3,
    )  # fmt: skip
    months = KogakuCarriedMonth.objects.filter(household=a.household).order_by("month")
    assert [m.month for m in months] == CARRIED  # not 2026-03 (外来特例)
    assert {m.basis for m in months} == {
        "高額該当引継 候補 K0000001(shuyaku_kogaku_candidate.csv)"  # NFKC by the service
    }
    assert {m.former_insurer_number for m in months} == {"380014"}
    result = _july(a)
    assert (result.many_times, result.household_limit, result.benefit) == (True, 140100, 159900)
    assert result.explanation["carried"] == {m.isoformat(): "380014" for m in CARRIED}
    event = AuditEvent.objects.get(event_type=EventType.KOGAKU_CARRY_DECIDED)
    assert event.subject_id == a.household.household_no
    assert event.extra["months"] == ["2025-10", "2026-01", "2026-04"]


def test_not_applicable_writes_nothing(candidate, a, clerk):
    with pytest.raises(KogakuCarryError, match="理由"):
        kogaku_carry_reject(candidate=candidate, reason="  ", actor=clerk)
    kogaku_carry_reject(candidate=candidate, reason="世帯員が異なる（別世帯）", actor=clerk)
    candidate.refresh_from_db()
    assert (candidate.status, candidate.reason) == (
        CarryStatus.NOT_APPLICABLE, "世帯員が異なる（別世帯）",
    )  # fmt: skip
    assert not KogakuCarriedMonth.objects.exists()
    assert (_july(a).many_times, _july(a).benefit) == (False, 45820)
    with pytest.raises(KogakuCarryError, match="確認済み"):
        kogaku_carry_confirm(candidate=candidate, actor=clerk)


def test_a_month_already_entered_by_hand_stays_and_is_not_doubled(candidate, a, clerk):
    kogaku_carried_month_record(
        household=a.household, month=CARRIED[1], former_insurer_number="380014",
        basis="手入力", actor=clerk,
    )  # fmt: skip
    kogaku_carry_confirm(candidate=candidate, actor=clerk)
    months = KogakuCarriedMonth.objects.filter(household=a.household).order_by("month")
    assert [(m.month, m.basis[:3]) for m in months] == [
        (CARRIED[0], "高額該"), (CARRIED[1], "手入力"), (CARRIED[2], "高額該"),
    ]  # fmt: skip
    candidate.refresh_from_db()
    assert candidate.carried_months == 2


def test_a_file_or_a_candidate_again_is_refused_or_reported(candidate, tmp_path):
    with pytest.raises(NationalInboundRejected, match="取込済み"):
        kogaku_carry_candidates_import(path=CANDIDATES, actor=None)
    again = tmp_path / "again.csv"
    again.write_bytes(CANDIDATES.read_bytes().replace(b",7,20260801", b",8,20260901"))
    outcome = kogaku_carry_candidates_import(path=again, actor=None)
    assert outcome.created == 0 and "取込済みの候補" in outcome.problems[0]


def test_rows_that_disagree_on_the_households_are_reported(a, tmp_path):
    text = CANDIDATES.read_bytes().decode("cp932")
    text = text.replace("2,K0000001,1,4,380014,20,000123", "2,K0000001,1,4,380014,20,000124")
    path = tmp_path / "mixed.csv"
    path.write_bytes(text.encode("cp932"))
    outcome = kogaku_carry_candidates_import(path=path, actor=None)
    assert outcome.created == 0 and "世帯の記号・番号が違います" in outcome.problems[0]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ((b"9,7\r\n", b"9,8\r\n"), "件数"),
        ((b"\r\n9,7\r\n", b"\r\n"), "エンドレコード"),
        ((b"C0.1,389999", b"C0.2,389999"), "未知のレイアウト"),
        ((b"C0.1,389999", b"C0.1,389998"), "他の保険者"),
        ((b",380022,", b",\x85@,"), "CP932"),
    ],
)
def test_a_bad_file_is_refused_whole(a, tmp_path, change, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(CANDIDATES.read_bytes().replace(*change))
    with pytest.raises(NationalInboundRejected, match=message):
        kogaku_carry_candidates_import(path=path, actor=None)
    assert not KogakuCarryCandidate.objects.exists()
    assert not KogakuCarryCandidateFile.objects.exists()


def test_the_decisions_go_out_in_the_carry_feed(candidate, clerk):
    kogaku_carry_confirm(candidate=candidate, actor=clerk)
    outcome = national_export(
        feed=Feed.SHUYAKU_KOGAKU_CARRY, as_of=timezone.localdate(), full=True, actor=None
    )
    desc = descriptor("shuyaku_kogaku_carry")
    lines = outcome.path.read_bytes().decode("cp932").split("\r\n")[:-1]
    (row,) = [line_read(desc, "data", line) for line in lines[1:-1]]
    assert (row["candidate_no"], row["decision"], row["carried_months"]) == ("K0000001", "1", "3")
    assert (row["former_insurer_no"], row["symbol"], row["number"]) == ("380014", "10", "000001")
    assert row["decided_by"] == clerk.username and row["decided_on"] == timezone.localdate()
    assert outcome.file.assumed


def test_the_command_dispatches_a_candidate_file_on_its_layout(a, capsys):
    call_command("national", "import-result", str(CANDIDATES))
    out = capsys.readouterr().out
    assert "高額該当引継 候補 shuyaku_kogaku_candidate.csv: 候補 1件" in out
    assert "反映しなかったレコード 1件" in out and "K0000002" in out
    with pytest.raises(SystemExit) as exit_:
        call_command("national", "import-result", str(CANDIDATES))  # the same file again
    assert exit_.value.code == 2
