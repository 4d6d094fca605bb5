"""督促 of the 返還請求 (地方自治法施行令171条): a case not paid by its 納期限, or whose 分割
missed an instalment, gets one 督促状 per missed date with a new 指定期限; a paid case, one on
保険者間調整 or one not yet due gets none."""

import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone
from pypdf import PdfReader

from kokuho.cases.models import InvestigationCase, StepKind
from kokuho.cases.reminders import cases_overdue, reminders_issue
from kokuho.cases.services import instalments_agree, receipt_record, refund_claim_issue
from kokuho.eligibility.events import ChangeEvent, ChangeType, event_apply
from kokuho.testing import make_claim, make_insured, make_staff

pytestmark = pytest.mark.django_db

OCT1, OCT31 = dt.date(2026, 10, 1), dt.date(2026, 10, 31)


@pytest.fixture(autouse=True)
def _documents_dir(settings, tmp_path):
    settings.KOKUHO_DOCUMENT_DIR = tmp_path / "documents"


def _claimed(points: int = 10000, copay: int = 30000) -> InvestigationCase:
    """A case of 70,000円 (one July claim after a 社保加入 of 2026-06-30), claimed by letter
    on 2026-10-01, payable by 2026-10-31."""
    person = make_insured(birth_date=dt.date(1980, 1, 1))
    make_claim(person=person, service_month=dt.date(2026, 7, 1), points=points, copay=copay)
    event_apply(
        ChangeEvent(ChangeType.EMPLOYEE_INSURANCE_JOIN, dt.date(2026, 6, 30), dt.date(2026, 9, 1),
                    person.atena_no),
        recorded_at=timezone.now(),
        actor=None,
    )  # fmt: skip
    case = InvestigationCase.objects.get(person=person)
    return refund_claim_issue(case_id=case.pk, issued_on=OCT1, due_on=OCT31, actor=make_staff())


def test_a_case_unpaid_after_its_due_date_is_reminded_once():
    case = _claimed()
    assert cases_overdue(on=OCT31) == []  # the due date itself is still in time
    count, path = reminders_issue(on=dt.date(2026, 11, 5), actor=None)
    assert count == 1
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(Path(path).read_bytes())).pages)
    for expected in ("返還金の督促状", "令和8年10月31日までに", "70,000円", "令和8年11月20日",
                     "地方自治法施行令", case.detail["notices"][0]["notice_no"]):  # fmt: skip
        assert expected in text, expected
    case.refresh_from_db()
    assert case.detail["reminders"][0]["missed"] == "2026-10-31"
    assert case.steps.filter(kind=StepKind.REMINDER_ISSUED).count() == 1
    # Once per missed date, whenever it runs again.
    assert reminders_issue(on=dt.date(2026, 11, 5), actor=None) == (0, "")
    assert reminders_issue(on=dt.date(2026, 12, 1), actor=None) == (0, "")


def test_a_missed_instalment_is_reminded_for_what_was_due_by_then():
    case = _claimed()
    clerk = make_staff()
    instalments_agree(case_id=case.pk, count=3, first_due=OCT31, actor=clerk)  # 23,334 + 23,333 × 2
    receipt_record(case_id=case.pk, amount_yen=23334, received_on=OCT31, actor=clerk)
    assert cases_overdue(on=dt.date(2026, 11, 30)) == []
    (overdue,) = cases_overdue(on=dt.date(2026, 12, 2))
    assert (overdue.missed, overdue.unpaid_yen) == (dt.date(2026, 11, 30), 23333)
    assert reminders_issue(on=dt.date(2026, 12, 2), actor=None)[0] == 1
    # The next instalment missed too: a new date, a new reminder for both.
    (later,) = cases_overdue(on=dt.date(2027, 1, 5))
    assert (later.missed, later.unpaid_yen) == (dt.date(2026, 12, 31), 46666)


def test_paid_and_adjusted_cases_are_not_reminded(capsys):
    paid = _claimed()
    receipt_record(case_id=paid.pk, amount_yen=70000, received_on=OCT31, actor=make_staff())
    call_command("cases", "remind", "--date", "2026-11-05")
    assert "督促する案件はありません" in capsys.readouterr().out
    unpaid = _claimed(points=2000, copay=6000)
    call_command("cases", "remind", "--date", "2026-11-05")
    out = capsys.readouterr().out
    assert "督促状 1 通を作成しました" in out
    unpaid.refresh_from_db()
    assert len(unpaid.detail["reminders"]) == 1
