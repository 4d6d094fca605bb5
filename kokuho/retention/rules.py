"""Retention rules per data class (保存期間の規則, privacy.md §3).

The periods of the resident, claims, interface and audit classes are the city's choice under
its 文書管理規程 (and, for My Number, 番号法20条: keep only while needed), so they are
settings read from the environment like `KOKUHO_AUDIT_RETENTION_YEARS` (decision 60). The
benefit decisions, payments and payee accounts are kept for periods tied to the law (時効 of
the 返還請求 and the 出納閉鎖 of the fiscal year), so theirs are dated parameters under
`rules/parameters/retention/` with the reference beside each value, read as of the run's
date. Each rule has a stable name that carries its period
(`vault.my_number.5y_after_loss`); the name is what a deletion record cites.

Counting is by calendar years from a reference date, as `audit_retention_until` does: a
record dated D is kept through the same calendar day N years later (29 February → 1 March,
never a day early) and may be erased from the day after. `keep_from(as_of=…)` turns that
around: the first reference date still kept on `as_of`; anything dated before it is past
retention.
"""

import datetime as dt
import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from kokuho.audit.selectors import audit_retention_years
from kokuho.retention.models import DataClass
from kokuho.rules.params import parameters

DAY = dt.timedelta(days=1)


def years_after(day: dt.date, years: int) -> dt.date:
    """The same calendar day `years` later; 29 February → 1 March (never a day early)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return dt.date(day.year + years, 3, 1)


def keep_from(*, as_of: dt.date, years: int) -> dt.date:
    """The earliest reference date whose retention has not ended on `as_of`: data dated
    before it were kept `years` full years and may be erased on `as_of`."""
    try:
        day = as_of.replace(year=as_of.year - years)
    except ValueError:  # as_of is 29 February
        day = dt.date(as_of.year - years, 2, 28)
    while years_after(day - DAY, years) >= as_of:
        day -= DAY
    while years_after(day, years) < as_of:
        day += DAY
    return day


def local_day_start(day: dt.date) -> dt.datetime:
    """00:00 local time on `day`, for comparing timestamps with a date cutoff."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _years(setting: str) -> int:
    years = int(getattr(settings, setting))
    if years < 1:
        raise ImproperlyConfigured(f"{setting} は1以上の年数です")
    return years


class ClaimsSource(Protocol):
    """What the benefits app provides in `kokuho/benefits/retention.py` to plug claims
    (レセプト) into the job: a count and an eraser over claims whose month of service
    (診療年月) began before `cutoff`. `erase` commits in chunks of at most `chunk` claims
    and yields, per committed chunk, the claims erased and the rows per table."""

    def claims_count(self, *, cutoff: dt.date) -> int: ...

    def claims_erase(
        self, *, cutoff: dt.date, chunk: int
    ) -> Iterator[tuple[int, dict[str, int]]]: ...


CLAIMS_APP = "kokuho.benefits"
CLAIMS_MODULE = "kokuho.benefits.retention"


def claims_source() -> ClaimsSource | None:
    """The benefits app's claims eraser, once that app is installed (None until then)."""
    if not apps.is_installed(CLAIMS_APP):
        return None
    module = importlib.import_module(CLAIMS_MODULE)
    return module  # type: ignore[return-value]


class RecordSource(Protocol):
    """The same plug as `ClaimsSource`, for the other classes an app erases itself
    (給付の決定, 支払, 振込先口座): `count` says how many `erase` would erase as of
    `as_of` (the cutoff of the class is `cutoff`; `as_of` lets a source see the cutoffs of
    the classes erased before it, whose rows no longer hold it), and `erase` works in
    chunks of at most `chunk` and yields, per chunk, the count and the rows per table —
    from inside the chunk's transaction, so that the deletion record the job writes on each
    yield commits with the deletion it records (or neither does). Each chunk's transaction
    declares itself the job's (`retention.erasure`)."""

    def count(self, *, cutoff: dt.date, as_of: dt.date) -> int: ...

    def erase(
        self, *, cutoff: dt.date, as_of: dt.date, chunk: int
    ) -> Iterator[tuple[int, dict[str, int]]]: ...


@dataclass(frozen=True)
class _SourceRef:
    app: str
    module: str
    count: str
    erase: str


SOURCES = {
    DataClass.BENEFIT_DECISIONS: _SourceRef(
        "kokuho.benefits",
        "kokuho.benefits.retention_benefits",
        "decisions_count",
        "decisions_erase",
    ),
    DataClass.PAYMENTS: _SourceRef(
        "kokuho.payments", "kokuho.payments.retention", "payments_count", "payments_erase"
    ),
    DataClass.PAYEE_ACCOUNTS: _SourceRef(
        "kokuho.payments",
        "kokuho.payments.retention",
        "payee_accounts_count",
        "payee_accounts_erase",
    ),
}


@dataclass(frozen=True)
class _Source:
    count: Callable[..., int]
    erase: Callable[..., Iterator[tuple[int, dict[str, int]]]]


def record_source(data_class: DataClass) -> RecordSource | None:
    """The app's eraser of `data_class` (as `claims_source`), None until its app is in."""
    ref = SOURCES[data_class]
    if not apps.is_installed(ref.app):
        return None
    module = importlib.import_module(ref.module)
    return _Source(getattr(module, ref.count), getattr(module, ref.erase))


def fiscal_years_ended_before(cutoff: dt.date) -> dt.date:
    """The first day of the oldest fiscal year (年度, 4/1–3/31) not wholly past: a record of
    a fiscal year counted from the year's last day (3/31) is past retention when that day
    lies before `cutoff`, i.e. when its date lies before the day returned."""
    last_end = dt.date(cutoff.year - 1, 3, 31)
    if dt.date(cutoff.year, 3, 31) < cutoff:
        last_end = dt.date(cutoff.year, 3, 31)
    return last_end + DAY


def accounts_closed_before(cutoff: dt.date) -> dt.date:
    """The first day of the oldest fiscal year whose accounts (出納閉鎖, 5/31 of the next
    year: 地方自治法 第235条の5) did not close before `cutoff`: a payment dated before the
    day returned belongs to a year closed before the cutoff. The payment is counted in the
    fiscal year of its own date (a payment of the 出納整理期間 thus counts a year later
    than its budget year: later, never earlier)."""
    closing_year = cutoff.year if dt.date(cutoff.year, 5, 31) < cutoff else cutoff.year - 1
    return dt.date(closing_year, 4, 1)


@dataclass(frozen=True)
class Rule:
    """One data class's retention rule as configured now."""

    data_class: DataClass
    name: str
    years: int
    reference: str  # what the years are counted from (基準日), for people

    def cutoff(self, *, as_of: dt.date) -> dt.date:
        return keep_from(as_of=as_of, years=self.years)

    @property
    def label(self) -> str:
        return DataClass(self.data_class).label


def _rule(data_class: DataClass, name: Callable[[int], str], years: int, reference: str) -> Rule:
    return Rule(data_class, name(years), years, reference)


def _parameter_years(name: str, on: dt.date) -> int:
    years = int(parameters().get(f"retention.{name}").confirmed_at(on))
    if years < 1:
        raise ImproperlyConfigured(f"retention.{name} は1以上の年数です")
    return years


def retention_rules(*, as_of: dt.date | None = None) -> dict[DataClass, Rule]:
    """Every data class's rule (the dated ones as in force on `as_of`, default today), in
    the order the job erases them: decisions before the claims (a decision rests on the
    高額療養費 result the claims rule erases), payments before the accounts they are paid
    to (every relation is PROTECT)."""
    on = as_of or timezone.localdate()
    records = _years("KOKUHO_RETENTION_RECORDS_YEARS")
    interface = _years("KOKUHO_RETENTION_INTERFACE_YEARS")
    rules = [
        _rule(
            DataClass.MY_NUMBER,
            lambda n: f"vault.my_number.{n}y_after_loss",
            _years("KOKUHO_RETENTION_MY_NUMBER_YEARS"),
            "最後の国保資格の喪失日",
        ),
        _rule(
            DataClass.RECORDS,
            lambda n: f"records.person.{n}y_after_last_change",
            records,
            "最後の異動・記録の日",
        ),
        _rule(
            DataClass.BENEFIT_DECISIONS,
            lambda n: f"benefits.decision.{n}y_after_fiscal_year",
            _parameter_years("benefit_decision_years", on),
            "最後の決定の年度末",
        ),
        _rule(
            DataClass.CLAIMS,
            lambda n: f"claims.receipt.{n}y_after_service_month",
            _years("KOKUHO_RETENTION_CLAIMS_YEARS"),
            "診療年月",
        ),
        _rule(
            DataClass.PAYMENTS,
            lambda n: f"payments.accounting.{n}y_after_closing",
            _parameter_years("accounting_years", on),
            "支払日の年度の出納閉鎖日",
        ),
        _rule(
            DataClass.PAYEE_ACCOUNTS,
            lambda n: f"payments.payee_account.{n}y_after_superseded",
            _parameter_years("payee_account_years", on),
            "置換え・転出の年度の出納閉鎖日",
        ),
        _rule(
            DataClass.INTERFACE_RAW,
            lambda n: f"interfaces.quarantine.{n}y_after_resolved",
            interface,
            "保留行の処理日",
        ),
        _rule(
            DataClass.INTERFACE_UPLOADS,
            lambda n: f"interfaces.upload.{n}y_after_import",
            interface,
            "取込の終了日",
        ),
        _rule(
            DataClass.INTERFACE_LEDGER,
            lambda n: f"interfaces.ledger.{n}y_after_import",
            records,
            "取込の開始日",
        ),
        _rule(
            DataClass.DOCUMENT_PRINTS,
            lambda n: f"documents.print_file.{n}y_after_print",
            interface,
            "印刷の日",
        ),
        _rule(
            DataClass.AUDIT,
            lambda n: f"audit.event.{n}y",
            audit_retention_years(),
            "記録の日",
        ),
    ]
    return {rule.data_class: rule for rule in rules}
