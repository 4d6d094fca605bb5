"""Retention rules per data class (保存期間の規則, privacy.md §3).

The periods are the city's choice under its 文書管理規程 (and, for My Number, 番号法20条:
keep only while needed), so they are settings read from the environment like
`KOKUHO_AUDIT_RETENTION_YEARS`, not dated legal parameters (docs/decisions.md). Each rule has
a stable name that carries its period (`vault.my_number.5y_after_loss`); the name is what
a deletion record cites.

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


def retention_rules() -> dict[DataClass, Rule]:
    """Every data class's rule, in the order the job erases them."""
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
            DataClass.CLAIMS,
            lambda n: f"claims.receipt.{n}y_after_service_month",
            _years("KOKUHO_RETENTION_CLAIMS_YEARS"),
            "診療年月",
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
