"""Who hears that a person's eligibility periods changed (資格の異動・遡及訂正).

Eligibility knows nothing of the contexts that rest on it; those that must act when a
person's periods change from some day (the benefits re-match the person's claims and note
the decided 高額療養費 months for re-computation; the cases find the claims paid for months
now lost) register a listener in their app's `ready()`. A listener runs inside the change's
transaction, so what it records commits or rolls back with the change.

The per-event path (`services`) tells of one person; the file batches (`bulk`) of every
person whose periods the batch changed, at once: a listener that gives its `many` form reads
for them all in a fixed number of queries, one that does not hears of each in turn."""

import datetime as dt
from collections.abc import Callable, Sequence

from kokuho.people.models import Person

Listener = Callable[[Person, dt.date], None]
ManyListener = Callable[[Sequence[tuple[Person, dt.date]]], None]
_LISTENERS: list[tuple[Listener, ManyListener | None]] = []


def periods_change_listen(listener: Listener, *, many: ManyListener | None = None) -> None:
    if all(known is not listener for known, _ in _LISTENERS):
        _LISTENERS.append((listener, many))


def periods_changed(person: Person, changed_from: dt.date) -> None:
    """Tell every listener that `person`'s periods differ from `changed_from` on."""
    for listener, _many in _LISTENERS:
        listener(person, changed_from)


def periods_changed_many(changes: Sequence[tuple[Person, dt.date]]) -> None:
    """Tell every listener of many persons' changes (each person once: the earliest day)."""
    earliest: dict[int, tuple[Person, dt.date]] = {}
    for person, day in changes:
        known = earliest.get(person.pk)
        if known is None or day < known[1]:
            earliest[person.pk] = (person, day)
    if not earliest:
        return
    pairs = list(earliest.values())
    for listener, many in _LISTENERS:
        if many is not None:
            many(pairs)
        else:
            for person, day in pairs:
                listener(person, day)
