"""The cases' monthly report: per kind and month, opened, closed, claimed and recovered, and
the ageing of the open cases — as the CLI prints it and as CSV."""

import csv
import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from kokuho.cases.models import CaseKind, InvestigationCase
from kokuho.cases.report import cases_report, report_csv
from kokuho.cases.services import receipt_record
from kokuho.eligibility.events import ChangeEvent, ChangeType, event_apply
from kokuho.testing import make_claim, make_insured, make_staff

pytestmark = pytest.mark.django_db


def _case(points: int, copay: int) -> InvestigationCase:
    person = make_insured(birth_date=dt.date(1980, 1, 1))
    make_claim(person=person, service_month=dt.date(2026, 7, 1), points=points, copay=copay)
    event_apply(
        ChangeEvent(ChangeType.EMPLOYEE_INSURANCE_JOIN, dt.date(2026, 6, 30), dt.date(2026, 9, 1),
                    person.atena_no),
        recorded_at=timezone.now(),
        actor=None,
    )  # fmt: skip
    return InvestigationCase.objects.get(person=person)


def test_the_month_counts_what_opened_closed_claimed_and_came_in(tmp_path, capsys):
    paid, waiting = _case(10000, 30000), _case(2000, 6000)
    receipt_record(case_id=paid.pk, amount_yen=70000, received_on=timezone.localdate(),
                   actor=make_staff())  # fmt: skip
    month = timezone.localdate().replace(day=1)
    later = timezone.localdate() + dt.timedelta(days=100)
    report = cases_report(first=month, last=month, on=later)
    ((kind, _label, at, r),) = [row for row in report.rows() if row[0] == CaseKind.AFTER_LOSS]
    assert (kind, at) == ("after_loss", month)
    assert (r.opened, r.closed, r.claimed_yen, r.recovered_yen) == (2, 1, 84000, 70000)
    assert report.ageing["after_loss"] == [0, 0, 1, 0, 0]  # 100 days: 91〜180日
    rows = list(csv.reader(io.StringIO(report_csv(report).lstrip("\ufeff"))))
    assert rows[0][:3] == ["案件の種類", "月", "開始件数"]
    assert rows[1] == [
        "資格喪失後受診（不当利得の返還）",
        f"{month:%Y-%m}",
        "2",
        "1",
        "84000",
        "70000",
    ]
    assert rows[-1] == ["資格喪失後受診（不当利得の返還）", "0", "0", "1", "0", "0"]
    target = tmp_path / "report.csv"
    call_command("cases", "report", "--from", f"{month:%Y-%m}", "--to", f"{month:%Y-%m}",
                 "--date", later.isoformat(), "--csv", str(target))  # fmt: skip
    out = capsys.readouterr().out
    assert "開始 2件・終結 1件・請求 84,000円・収納 70,000円" in out
    assert "91〜180日 1件" in out
    assert target.read_bytes().decode("utf-8") == report_csv(report)  # CRLF kept
    assert waiting.status == "open"


def test_a_month_before_any_case_is_all_zero_and_bad_months_are_refused():
    from django.core.management.base import CommandError

    report = cases_report(first=dt.date(2020, 1, 1), last=dt.date(2020, 3, 1))
    assert [(r.opened, r.closed, r.claimed_yen, r.recovered_yen) for *_x, r in report.rows()] == [
        (0, 0, 0, 0)
    ] * 3
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("cases", "report", "--from", "2026-13", "--to", "2026-12")
    with pytest.raises(CommandError, match="より後"):
        call_command("cases", "report", "--from", "2026-12", "--to", "2026-01")
