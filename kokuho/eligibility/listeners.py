"""Who hears that a person's eligibility periods changed (資格の異動・遡及訂正).

Eligibility knows nothing of the contexts that rest on it; those that must act when a
person's periods change from some day (the benefits re-match the person's claims and note
the decided 高額療養費 months for re-computation) register a listener in their app's
`ready()`. A listener runs inside the change's transaction, so what it records commits or
rolls back with the change."""

import datetime as dt
from collections.abc import Callable

from kokuho.people.models import Person

Listener = Callable[[Person, dt.date], None]
_LISTENERS: list[Listener] = []


def periods_change_listen(listener: Listener) -> None:
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)


def periods_changed(person: Person, changed_from: dt.date) -> None:
    """Tell every listener that `person`'s periods differ from `changed_from` on."""
    for listener in _LISTENERS:
        listener(person, changed_from)
