"""出産育児一時金 直接支払制度 (`childbirth_import`): the golden file's births worked by hand
(500,000 / 488,000, the hospital's cost up to the amount, the 差額), the 差額 waiting for the
head's account, the former insurer's exclusion when the counter knows it, the whole-file
check, the repeat import, and the 国保連's payment in a run's 全銀 file."""

import datetime as dt
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.management import call_command

from kokuho.audit.models import AuditEvent, EventType
from kokuho.benefits.entrusted.childbirth import HEADER, PAYMENT_SOURCE, childbirth_import
from kokuho.benefits.entrusted.common import BatchFileError
from kokuho.benefits.entrusted.models import DirectPaymentBatch, DirectPaymentLine, LineStatus
from kokuho.benefits.lifecycle.models import (
    ApplicationStatus,
    BenefitApplication,
    BenefitDecision,
    Outcome,
)
from kokuho.benefits.lifecycle.services import (
    PAYMENT_SOURCE as DECISION_SOURCE,
)
from kokuho.benefits.lifecycle.services import (
    attachments_for,
    benefit_application_register,
)
from kokuho.eligibility.models import BranchNumber, HouseholdNumber
from kokuho.payments.models import (
    AccountSource,
    Benefit,
    HoldReason,
    OrganisationKind,
    Payment,
    PaymentStatus,
)
from kokuho.payments.printing import payment_run_print
from kokuho.payments.run import payment_run
from kokuho.payments.services import (
    AccountInput,
    organisation_account_record,
    payee_account_record,
    payee_organisation_record,
)
from kokuho.payments.tests import zengin_reader
from kokuho.testing import make_insured, make_staff

pytestmark = pytest.mark.django_db

EXAMPLES = Path(__file__).parents[1] / "entrusted" / "tests" / "examples"
GOLDEN = EXAMPLES / "direct-payment-202611.csv"
DECIDED_ON = dt.date(2026, 11, 10)
PAY = dt.date(2026, 12, 18)
SENT = dt.datetime(2026, 12, 14, 10, 0)


def numbered(person, number, branch="01"):
    HouseholdNumber.objects.filter(household_id=person.household_id).update(
        symbol="38", number=number
    )
    assert BranchNumber.objects.get(person=person).branch == branch
    return person


def _account(person, number="1234567"):
    return payee_account_record(
        person=person,
        account=AccountInput("0001", "001", 1, number, "キュウフ タロウ"),
        source=AccountSource.APPLICATION,
        valid_from=dt.date(2026, 4, 1),
        actor=None,
    )


@pytest.fixture
def city():
    """M1 is the wife of H1 (who has an account); M2, M3, M4 head their own households,
    only M2 with an account."""
    h1 = numbered(make_insured(birth_date=dt.date(1990, 1, 1)), "200001")
    m1 = make_insured(birth_date=dt.date(1993, 3, 3), household_no=h1.household.household_no,
                      relation="妻")  # fmt: skip
    numbered(m1, "200001", branch="02")
    m2 = numbered(make_insured(birth_date=dt.date(1994, 4, 4)), "200002")
    m3 = numbered(make_insured(birth_date=dt.date(1995, 5, 5)), "200003")
    m4 = numbered(make_insured(birth_date=dt.date(1996, 6, 6)), "200004")
    _account(h1)
    _account(m2, "7654321")
    return SimpleNamespace(h1=h1, m1=m1, m2=m2, m3=m3, m4=m4)


def _file(tmp_path, rows, name="f.csv"):
    path = tmp_path / name
    path.write_text(
        ",".join(HEADER) + "\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n",
        encoding="utf-8",
    )
    return path


def _golden(tmp_path):
    # The golden file names M1 by 枝番 01; she holds 02 in her husband's household.
    text = GOLDEN.read_text(encoding="utf-8").replace("38,200001,01", "38,200001,02")
    path = tmp_path / GOLDEN.name
    path.write_text(text, encoding="utf-8")
    return path


def _import(path, clerk=None):
    return childbirth_import(path=path, actor=clerk or make_staff(), decided_on=DECIDED_ON)


def _line(batch, number):
    return DirectPaymentLine.objects.select_related("decision", "application").get(
        batch=batch, line_no=number
    )


def test_the_golden_file_decides_each_birth(city, tmp_path):
    summary = _import(_golden(tmp_path))
    batch = summary.batch
    expected = {
        2: (Outcome.PAID, 500000, 480000, 20000),  # cost below the amount: 差額 20,000
        3: (Outcome.PAID, 500000, 500000, 0),  # cost 520,000: the amount, no 差額
        4: (Outcome.PAID, 488000, 470000, 18000),  # not covered by 産科医療補償制度
        6: (Outcome.REFUSED, 0, 0, 0),  # 11 weeks: the 78th day, under 85 days
    }
    for number, (outcome, amount, institution, difference) in expected.items():
        line = _line(batch, number)
        assert (line.decision.outcome, line.decision.amount) == (outcome, amount), number
        assert (line.institution_amount, line.difference_amount) == (institution, difference)
        assert line.decision.institution_amount == institution
    assert "85日未満" in _line(batch, 6).decision.reason
    assert _line(batch, 5).status == LineStatus.UNMATCHED
    assert batch.institution_total == 1450000
    application = _line(batch, 2).application
    assert (application.subject, application.applicant) == (city.m1, city.h1)  # the 世帯主 applies
    assert application.facts["delivery_cost"] == 480000
    assert summary.differences == 2 and summary.differences_waiting == 1
    assert AuditEvent.objects.filter(event_type=EventType.DIRECT_PAYMENT_BATCH).count() == 1


def test_the_federation_is_paid_once_per_file_and_the_difference_goes_to_the_head(city, tmp_path):
    batch = _import(_golden(tmp_path)).batch
    (federation,) = Payment.objects.filter(source_type=PAYMENT_SOURCE, source_id=batch.pk)
    assert (federation.benefit, federation.amount) == (Benefit.SHUSSAN, 1450000)
    assert federation.organisation.kind == OrganisationKind.FEDERATION
    assert federation.organisation.name == "愛媛県国民健康保険団体連合会"
    difference = Payment.objects.get(
        source_type=DECISION_SOURCE, source_id=_line(batch, 2).decision_id
    )
    assert (difference.person, difference.amount, difference.status) == (
        city.h1,
        20000,
        PaymentStatus.DUE,
    )


def test_a_difference_waits_for_the_heads_account_and_is_never_dropped(city, tmp_path):
    batch = _import(_golden(tmp_path)).batch
    waiting = Payment.objects.get(
        source_type=DECISION_SOURCE, source_id=_line(batch, 4).decision_id
    )
    assert (waiting.person, waiting.account, waiting.status) == (city.m3, None, PaymentStatus.HELD)
    assert waiting.hold_reason == HoldReason.NO_ACCOUNT
    assert "振込先口座の届出" in waiting.hold_detail
    kept = _account(city.m3, "3333333")
    waiting.refresh_from_db()
    assert (waiting.account, waiting.status, waiting.hold_reason) == (kept, PaymentStatus.DUE, "")


def test_a_former_insurer_claim_stated_at_the_counter_excludes_the_benefit(city, tmp_path):
    waiting = benefit_application_register(
        benefit=Benefit.SHUSSAN,
        subject=city.m2,
        applicant=city.m2,
        received_on=dt.date(2026, 10, 1),
        event_date=dt.date(2026, 10, 20),
        facts={
            "gestation_days": 280,
            "former_insurer_left_on": "2026-06-30",
            "former_insurer_years": 3,
            "former_insurer_claimed": True,
        },
        attachments={i.code: True for i in attachments_for(Benefit.SHUSSAN)},
        actor=make_staff(),
    )
    batch = _import(_golden(tmp_path)).batch
    line = _line(batch, 3)
    assert line.application_id == waiting.pk
    waiting.refresh_from_db()
    assert waiting.status == ApplicationStatus.DECIDED
    assert line.decision.outcome == Outcome.REFUSED
    assert "前の保険者" in line.decision.reason
    assert batch.institution_total == 950000  # 480,000 + 470,000


def test_a_birth_decided_before_is_a_duplicate(city, tmp_path):
    first = _import(_golden(tmp_path)).batch
    again = ("202611", "3811234567", "みかん市民病院", "38", "200002", "01", "2026-10-20",
             "520000", "1", "40")  # fmt: skip
    second = _import(_file(tmp_path, [again]))
    line = _line(second.batch, 2)
    assert (line.status, line.decision) == (LineStatus.DUPLICATE, None)
    assert BenefitDecision.objects.count() == first.decided_count


def test_twins_are_two_lines_and_two_decisions(city, tmp_path):
    row = ("202611", "3811234567", "みかん市民病院", "38", "200003", "01", "2026-10-11",
           "600000", "1", "36")  # fmt: skip
    batch = _import(_file(tmp_path, [row, row])).batch
    assert batch.decided_count == 2
    assert batch.institution_total == 1000000


def test_a_malformed_file_names_every_bad_line_and_keeps_nothing(city, tmp_path):
    rows = [
        ("202611", "3811234567", "病院", "38", "200002", "01", "2026-10-20", "520000", "1", "40"),
        ("202611", "3811234567", "病院", "38", "200003", "01", "2026-12-01", "520000", "1", "40"),
        ("202611", "3811234567", "病院", "38", "200004", "01", "2026-10-01", "52万", "2", "40"),
    ]
    with pytest.raises(BatchFileError) as refused:
        _import(_file(tmp_path, rows))
    assert refused.value.problems == [
        "3行目 出産日: 出産日が処理年月より後です",
        "4行目 出産費用: 出産費用: 8桁以内の0以上の整数（円）で入力してください: '52万'",
        "4行目 産科医療補償制度: 産科医療補償制度: '2' は使えない値です"
        "（1, 0, 対象, 対象外 のいずれか）",
    ]
    assert not DirectPaymentBatch.objects.exists()
    assert not BenefitApplication.objects.exists()
    assert not Payment.objects.exists()


def test_the_same_file_is_not_imported_twice(city, tmp_path):
    path = _golden(tmp_path)
    _import(path)
    copy = tmp_path / "again.csv"
    shutil.copy(path, copy)
    with pytest.raises(BatchFileError, match="取込済み"):
        _import(copy)
    assert DirectPaymentBatch.objects.count() == 1


def test_the_run_pays_the_federation_and_the_heads(city, tmp_path, settings):
    settings.KOKUHO_PAYMENT_DIR = tmp_path / "payments"
    federation = payee_organisation_record(
        kind=OrganisationKind.FEDERATION, code="38", name="愛媛県国民健康保険団体連合会",
        actor=None,
    )  # fmt: skip
    organisation_account_record(
        organisation=federation,
        account=AccountInput("0001", "001", 2, "0038000", "エヒメケン コクホレン"),
        valid_from=dt.date(2026, 4, 1),
        actor=None,
    )
    _import(_golden(tmp_path))
    run = payment_run(pay_date=PAY, actor=None, sent_at=SENT).run
    (entry,) = [f for f in run.files if f["name"].startswith("zengin-")]
    parsed = zengin_reader.read(Path(entry["path"]).read_bytes())
    assert sorted((r.account_type, r.account_number, r.name, r.amount) for r in parsed.data) == [
        (1, "1234567", "ｷﾕｳﾌ ﾀﾛｳ", 20000),  # H1: the 差額 of M1's birth
        (2, "0038000", "ｴﾋﾒｹﾝ ｺｸﾎﾚﾝ", 1450000),
    ]
    # M3's 差額 waits for an account; it is not in the file and stays held.
    assert Payment.objects.filter(hold_reason=HoldReason.NO_ACCOUNT).count() == 1
    printed = payment_run_print(run=run, actor=None)  # the 国保連 fits the register's column
    assert all(Path(p["path"]).read_bytes().startswith(b"%PDF") for p in printed)
    register = Path(next(f["path"] for f in run.files if f["name"] == "register.csv"))
    assert "国保連:38" in register.read_text(encoding="utf-8-sig")


def test_the_command_imports_a_file(city, tmp_path, capsys):
    clerk = make_staff()
    call_command("childbirth", "import", str(_golden(tmp_path)), "--user", clerk.username)
    out = capsys.readouterr().out
    assert "直接支払制度 2026年11月処理分" in out
    assert "世帯主の振込先口座の届出待ち" in out
    assert "5行目 被保険者不明" in out
