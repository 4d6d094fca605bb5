"""The cases' monthly report (案件の月次報告): per kind and month, the cases opened and closed
and the amounts claimed and recovered; and the ageing of the cases still open on a day (how
long each has been open, in bands). Read in a fixed number of grouped queries, whatever the
number of cases; `report_csv` writes the same figures for the city's own spreadsheets.

Amounts claimed count in the month a case was opened (its 請求額 as it stands now: claims
withdrawn since are out of it), amounts recovered in the month each 収納 was recorded.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from kokuho.cases.models import CaseKind, CaseStatus, CaseStep, InvestigationCase, StepKind

# Days open: the bands of the ageing table (the last is open-ended).
AGEING_BANDS: tuple[tuple[int, int | None, str], ...] = (
    (0, 30, "30日以内"),
    (31, 90, "31〜90日"),
    (91, 180, "91〜180日"),
    (181, 365, "181日〜1年"),
    (366, None, "1年超"),
)


@dataclass
class MonthRow:
    opened: int = 0
    closed: int = 0
    claimed_yen: int = 0
    recovered_yen: int = 0


@dataclass
class CasesReport:
    first: dt.date
    last: dt.date
    on: dt.date
    months: dict[tuple[str, dt.date], MonthRow] = field(default_factory=dict)
    ageing: dict[str, list[int]] = field(default_factory=dict)  # kind → count per band

    def rows(self) -> list[tuple[str, str, dt.date, MonthRow]]:
        """(kind, its label, month, figures) for every kind and month of the period."""
        out = []
        for kind in CaseKind:
            month = self.first
            while month <= self.last:
                figures = self.months.get((kind.value, month), MonthRow())
                out.append((kind.value, kind.label, month, figures))
                month = (month + dt.timedelta(days=32)).replace(day=1)
        return out


def _month(day: dt.date | dt.datetime) -> dt.date:
    if isinstance(day, dt.datetime):
        day = timezone.localtime(day).date()
    return day.replace(day=1)


def cases_report(*, first: dt.date, last: dt.date, on: dt.date | None = None) -> CasesReport:
    """The figures of the months `first`..`last` (any day of each) and the ageing on `on`."""
    on = on or timezone.localdate()
    first, last = first.replace(day=1), last.replace(day=1)
    report = CasesReport(first, last, on)
    end = (last + dt.timedelta(days=32)).replace(day=1)
    window = {"gte": first, "lt": end}

    def row(kind: str, month: dt.date) -> MonthRow:
        return report.months.setdefault((kind, _month(month)), MonthRow())

    for kind, month, n, claimed in (
        InvestigationCase.objects.filter(
            opened_at__date__gte=window["gte"], opened_at__date__lt=window["lt"]
        )
        .annotate(month=TruncMonth("opened_at"))
        .values_list("kind", "month")
        .annotate(n=Count("id"), claimed=Sum("claimed_yen"))
        .values_list("kind", "month", "n", "claimed")
    ):
        r = row(kind, month)
        r.opened, r.claimed_yen = n, claimed or 0
    for kind, month, n in (
        InvestigationCase.objects.filter(
            closed_at__date__gte=window["gte"], closed_at__date__lt=window["lt"]
        )
        .annotate(month=TruncMonth("closed_at"))
        .values_list("kind", "month")
        .annotate(n=Count("id"))
        .values_list("kind", "month", "n")
    ):
        row(kind, month).closed = n
    for kind, month, total in (
        CaseStep.objects.filter(
            kind=StepKind.RECEIVED, at__date__gte=window["gte"], at__date__lt=window["lt"]
        )
        .annotate(month=TruncMonth("at"))
        .values_list("case__kind", "month")
        .annotate(total=Sum("amount_yen"))
        .values_list("case__kind", "month", "total")
    ):
        row(kind, month).recovered_yen = total or 0
    ageing: dict[str, list[int]] = defaultdict(lambda: [0] * len(AGEING_BANDS))
    for kind, opened_at in InvestigationCase.objects.exclude(status=CaseStatus.CLOSED).values_list(
        "kind", "opened_at"
    ):
        days = (on - timezone.localtime(opened_at).date()).days
        for i, (low, high, _label) in enumerate(AGEING_BANDS):
            if days >= low and (high is None or days <= high):
                ageing[kind][i] += 1
                break
    report.ageing = {kind.value: ageing[kind.value] for kind in CaseKind}
    return report


def report_csv(report: CasesReport) -> str:
    """The report as CSV (UTF-8 with a BOM, for spreadsheets): the months, then the ageing."""
    out = io.StringIO()
    out.write("\ufeff")
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(["案件の種類", "月", "開始件数", "終結件数", "請求額（円）", "収納額（円）"])
    for _kind, label, month, r in report.rows():
        w.writerow([label, f"{month:%Y-%m}", r.opened, r.closed, r.claimed_yen, r.recovered_yen])
    w.writerow([])
    w.writerow(
        [f"未終結の案件の経過日数（{report.on.isoformat()} 現在）", *[b[2] for b in AGEING_BANDS]]
    )
    for kind in CaseKind:
        w.writerow([kind.label, *report.ageing[kind.value]])
    return out.getvalue()
