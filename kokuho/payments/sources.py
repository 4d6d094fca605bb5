"""What a payment's decision learns of it: the benefit contexts register a hook per
`source_type`, so the payments context never imports them (they import it).

`scheduled(ids, pay_date)` is called in the run's transaction for the decisions a run
carries; `returned(ids)` when the bank could not make their transfer (振込不能)."""

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class PaymentSource:
    label: str  # what the register calls such a decision (e.g. 高額療養費支給決定)
    scheduled: Callable[[list[int], dt.date], None]
    returned: Callable[[list[int]], None]


_SOURCES: dict[str, PaymentSource] = {}


def payment_source_register(source_type: str, source: PaymentSource) -> None:
    _SOURCES[source_type] = source


def payment_source(source_type: str) -> PaymentSource | None:
    return _SOURCES.get(source_type)


def sources_notify_scheduled(pairs: Iterable[tuple[str, int]], pay_date: dt.date) -> None:
    by_type: dict[str, list[int]] = {}
    for source_type, source_id in pairs:
        by_type.setdefault(source_type, []).append(source_id)
    for source_type, ids in by_type.items():
        if (source := _SOURCES.get(source_type)) is not None:
            source.scheduled(ids, pay_date)


def sources_notify_returned(pairs: Iterable[tuple[str, int]]) -> None:
    by_type: dict[str, list[int]] = {}
    for source_type, source_id in pairs:
        by_type.setdefault(source_type, []).append(source_id)
    for source_type, ids in by_type.items():
        if (source := _SOURCES.get(source_type)) is not None:
            source.returned(ids)
