"""柔整・あはき 受領委任分 (`entrusted_import`): the golden file's eight lines, each rule and
refusal worked by hand, the whole-file check, the repeat import, grouped payments per 施術所
through the payment run, and the per-施術所 sums as a property."""

import datetime as dt
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kokuho.audit.models import AuditEvent, EventType
from kokuho.benefits.entrusted.common import BatchFileError
from kokuho.benefits.entrusted.jusei import HEADER, PAYMENT_SOURCE, entrusted_import
from kokuho.benefits.entrusted.models import (
    EntrustedBatch,
    EntrustedLine,
    EntrustedPayee,
    LineStatus,
)
from kokuho.benefits.lifecycle.models import BenefitApplication, BenefitDecision, Outcome
from kokuho.benefits.lifecycle.notice_data import benefit_notices_pdf
from kokuho.eligibility.models import BranchNumber, HouseholdNumber
from kokuho.payments.models import (
    Benefit,
    HoldReason,
    OrganisationKind,
    Payment,
    PaymentStatus,
)
from kokuho.payments.run import payment_run
from kokuho.payments.services import (
    AccountInput,
    organisation_account_record,
    payee_organisation_record,
)
from kokuho.payments.tests import zengin_reader
from kokuho.testing import make_insured, make_staff

pytestmark = pytest.mark.django_db

EXAMPLES = Path(__file__).parents[1] / "entrusted" / "tests" / "examples"
GOLDEN = EXAMPLES / "entrusted-202611.csv"
DECIDED_ON = dt.date(2026, 11, 10)
PAY = dt.date(2026, 12, 18)  # a Friday; sent on Monday 12-14 (standard profile)
SENT = dt.datetime(2026, 12, 14, 10, 0)


def numbered(person, number, symbol="38"):
    """Give the person's household the 記号・番号 the example files use."""
    HouseholdNumber.objects.filter(household_id=person.household_id).update(
        symbol=symbol, number=number
    )
    assert BranchNumber.objects.get(person=person).branch == "01"
    return person


@pytest.fixture
def city():
    """P1, P2 insured (under 70: 負担割合 3割); P3 moved out on 2026-09-15."""
    p1 = numbered(
        make_insured(birth_date=dt.date(1980, 5, 1), moved_in=dt.date(2015, 4, 1)), "100001"
    )
    p2 = numbered(
        make_insured(birth_date=dt.date(1985, 6, 1), moved_in=dt.date(2015, 4, 1)), "100002"
    )
    p3 = numbered(
        make_insured(moved_in=dt.date(2015, 4, 1), moved_out=dt.date(2026, 9, 15)), "100003"
    )
    return p1, p2, p3


@pytest.fixture
def clerk():
    return make_staff()


def _import(path=GOLDEN, clerk=None):
    return entrusted_import(path=path, actor=clerk or make_staff(), decided_on=DECIDED_ON)


def _line(batch, number):
    return EntrustedLine.objects.select_related("decision").get(batch=batch, line_no=number)


def test_the_golden_file_decides_each_line_by_its_rule(city, clerk):
    summary = _import(clerk=clerk)
    batch = summary.batch
    assert (batch.lines_count, batch.decided_count, batch.unmatched_count) == (8, 7, 1)
    expected = {
        2: (Outcome.PAID, 7000, ""),  # 10,000 − 3,000 (3割)
        3: (Outcome.PAID, 8645, ""),  # 12,345 × 30% = 3,703.5 → 3,700 (10円未満四捨五入)
        4: (Outcome.PARTIAL, 5600, "一部負担金 2,000円"),  # the right copay is 2,400
        5: (Outcome.REFUSED, 0, "被保険者ではありません"),  # moved out 2026-09-15
        7: (Outcome.REFUSED, 0, "過大に徴収"),  # 2,000 > 1,500
        8: (Outcome.REFUSED, 0, "時効"),  # 2024-09: from 2024-10-01, gone on 2026-10-01
        9: (Outcome.REFUSED, 0, "一致しません"),  # 6,000 − 1,800 ≠ 4,000
    }
    for number, (outcome, amount, reason) in expected.items():
        decision = _line(batch, number).decision
        assert (decision.outcome, decision.amount) == (outcome, amount), number
        assert reason in decision.reason, number
        # The whole amount goes to the 施術所: nothing is the household's to be paid.
        assert decision.institution_amount == amount
        assert decision.difference == 0
    unknown = _line(batch, 6)
    assert (unknown.status, unknown.person, unknown.decision) == (LineStatus.UNMATCHED, None, None)
    assert "被保険者がいません" in unknown.reason
    assert "6行目 被保険者不明: 38-999999-01" in summary.format()
    assert summary.outcomes == {"支給": 2, "一部支給": 1, "不支給": 4}


def test_each_decision_is_a_ryoyohi_decision_of_the_household(city, clerk):
    p1, _, _ = city
    batch = _import(clerk=clerk).batch
    line = _line(batch, 2)
    application = BenefitApplication.objects.get(pk=line.application_id)
    assert (application.benefit, application.subject, application.applicant) == (
        Benefit.RYOYOHI,
        p1,
        p1.household.head,
    )
    assert application.event_date == dt.date(2026, 10, 31)
    assert application.facts["practitioner_code"] == "1234567"
    decision = line.decision
    assert decision.decided_by == clerk
    assert {p["name"] for p in decision.parameters} >= {
        "benefits.entrusted_categories",
        "benefits.claim_limitation",
        "copay.rounding_unit",
    }
    # The household's 決定通知書 is the life cycle's.
    assert benefit_notices_pdf([decision]).startswith(b"%PDF")
    assert AuditEvent.objects.filter(event_type=EventType.BENEFIT_DECIDED).count() == 7
    assert AuditEvent.objects.filter(event_type=EventType.ENTRUSTED_BATCH).count() == 1


def test_payments_are_grouped_per_practitioner(city, clerk):
    batch = _import(clerk=clerk).batch
    payees = {p.organisation.code: p for p in EntrustedPayee.objects.filter(batch=batch)}
    assert {code: (p.lines_count, p.amount) for code, p in payees.items()} == {
        "1234567": (2, 12600),  # 7,000 + 5,600
        "B000001": (1, 8645),
    }
    payments = Payment.objects.filter(source_type=PAYMENT_SOURCE).order_by("amount")
    assert [(p.benefit, p.amount, p.person_id) for p in payments] == [
        (Benefit.JUSEI, 8645, None),
        (Benefit.JUSEI, 12600, None),
    ]
    # The 施術所 were not known: they are kept from the file, and their payments wait.
    assert {p.status for p in payments} == {PaymentStatus.HELD}
    assert {p.hold_reason for p in payments} == {HoldReason.NO_ACCOUNT}
    assert payees["1234567"].organisation.kind == OrganisationKind.PRACTITIONER
    assert payees["1234567"].organisation.name == "みかん接骨院"


def _account(code, name, number, holder):
    organisation = payee_organisation_record(
        kind=OrganisationKind.PRACTITIONER, code=code, name=name, actor=None
    )
    return organisation_account_record(
        organisation=organisation,
        account=AccountInput("0001", "001", 1, number, holder),
        valid_from=dt.date(2026, 4, 1),
        actor=None,
    )


def test_a_payment_run_carries_the_practitioners_payments(city, clerk, tmp_path, settings):
    settings.KOKUHO_PAYMENT_DIR = tmp_path
    _account("1234567", "みかん接骨院", "1111111", "ミカンセツコツイン")
    _account("B000001", "本町はり灸院", "2222222", "ホンマチハリキユウイン")
    _import(clerk=clerk)
    run = payment_run(pay_date=PAY, actor=None, sent_at=SENT).run
    (entry,) = [f for f in run.files if f["name"].startswith("zengin-")]
    parsed = zengin_reader.read(Path(entry["path"]).read_bytes())
    assert sorted((r.account_number, r.name, r.amount, r.new_code) for r in parsed.data) == [
        ("1111111", "ﾐｶﾝｾﾂｺﾂｲﾝ", 12600, 1),
        ("2222222", "ﾎﾝﾏﾁﾊﾘｷﾕｳｲﾝ", 8645, 1),
    ]
    assert (parsed.trailer_count, parsed.trailer_total) == (2, 21245)
    assert run.totals["benefits"]["柔整・あはき療養費"] == {"count": 2, "total": 21245}
    register = Path(next(f["path"] for f in run.files if f["name"] == "register.csv"))
    assert "施術所:1234567" in register.read_text(encoding="utf-8-sig")


def test_a_malformed_file_names_every_bad_line_and_keeps_nothing(city):
    with pytest.raises(BatchFileError) as refused:
        _import(EXAMPLES / "entrusted-malformed.csv")
    problems = refused.value.problems
    assert problems[0].startswith("3行目 施術区分:")
    assert problems[1].startswith("4行目 施術年月: 施術年月が処理年月より後です")
    assert problems[2].startswith("5行目 一部負担金: 一部負担金が費用額を超えています")
    assert len(problems) == 3
    assert not EntrustedBatch.objects.exists()
    assert not BenefitDecision.objects.exists()
    assert not Payment.objects.exists()


def test_the_same_file_is_not_imported_twice(city, tmp_path):
    _import()
    copy = tmp_path / "renamed.csv"
    shutil.copy(GOLDEN, copy)
    with pytest.raises(BatchFileError, match="取込済み"):
        _import(copy)
    assert EntrustedBatch.objects.count() == 1
    assert BenefitDecision.objects.count() == 7


def _write(path, rows):
    text = ",".join(HEADER) + "\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n"
    path.write_text(text, encoding="utf-8")
    return path


def _row(number, month="202610", cost=10000, copay=3000, claimed=7000, category=1, code="1234567"):
    return ("202611", category, code, "みかん接骨院", "38", number, "01", month, 3, cost, copay,
            claimed)  # fmt: skip


def test_a_claim_paid_before_is_a_duplicate_but_one_returned_may_come_again(city, tmp_path):
    first = _import(_write(tmp_path / "a.csv", [_row("100001"), _row("100002", claimed=6000)]))
    assert _line(first.batch, 3).decision.outcome == Outcome.REFUSED  # 返戻: claimed wrong
    # Both claimed again, and 100001 for another month: only the paid claim is a duplicate.
    second = _import(
        _write(
            tmp_path / "b.csv",
            [_row("100001"), _row("100001", month="202609"), _row("100002")],
        )
    )
    again, new_month, corrected = (_line(second.batch, n) for n in (2, 3, 4))
    assert again.status == LineStatus.DUPLICATE and again.decision is None
    assert new_month.decision.outcome == Outcome.PAID
    assert corrected.decision.outcome == Outcome.PAID
    assert "2行目 重複請求" in second.format()


def test_a_line_twice_in_one_file_refuses_the_file(city, tmp_path):
    with pytest.raises(BatchFileError, match="3行目: 2行目と同じ"):
        _import(_write(tmp_path / "twice.csv", [_row("100001"), _row("100001")]))


def test_acupuncture_before_2019_was_not_under_entrusted_payment(city, tmp_path):
    path = _write(tmp_path / "old.csv", [_row("100001", month="201812", category=2)])
    # 施術年月 2018-12 is also past 時効; the category is checked first.
    decision = _line(_import(path).batch, 2).decision
    assert decision.outcome == Outcome.REFUSED
    assert "受領委任の対象ではありません" in decision.reason


def test_the_command_imports_and_exits_2_on_a_bad_file(city, tmp_path, capsys):
    clerk = make_staff()
    call_command("entrusted", "import", str(GOLDEN), "--user", clerk.username,
                 "--decided-on", "2026-11-10")  # fmt: skip
    assert "受領委任 2026年11月処理分" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exited:
        call_command("entrusted", "import", str(EXAMPLES / "entrusted-malformed.csv"),
                     "--user", clerk.username)  # fmt: skip
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "何も記録していません" in err and "3行目 施術区分" in err


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    lines=st.lists(
        st.tuples(
            st.sampled_from(["1234567", "B000001", "C000002"]),
            st.sampled_from(["100001", "100002", "100003", "999999"]),
            st.sampled_from(["202608", "202609", "202610"]),
            st.integers(min_value=1000, max_value=50000),
            st.sampled_from([0, -100, 100]),
        ),
        min_size=1,
        max_size=12,
        unique_by=lambda x: (x[0], x[1], x[2]),
    )
)
def test_per_practitioner_payments_sum_their_lines_decided_paid(city, tmp_path_factory, lines):
    rows = []
    for code, number, month, cost, skew in lines:
        copay = max(0, (cost * 30 + 500) // 1000 * 10 + skew)
        rows.append(_row(number, month=month, cost=cost, copay=copay, claimed=cost - copay,
                         code=code))  # fmt: skip
    batch = _import(_write(tmp_path_factory.mktemp("p") / "f.csv", rows)).batch
    paid: dict[str, int] = {}
    for line in EntrustedLine.objects.filter(batch=batch).select_related(
        "decision", "organisation"
    ):
        if line.decision is not None and line.decision.outcome != Outcome.REFUSED:
            paid[line.organisation.code] = (
                paid.get(line.organisation.code, 0) + line.decision.amount
            )
    payments = {
        p.organisation.code: p.amount
        for p in EntrustedPayee.objects.filter(batch=batch).select_related("organisation")
    }
    assert payments == paid
    assert batch.paid_total == sum(paid.values())
