"""Property: whatever small eligibility history happens between files, replaying the full
extract and every delta (新規/変更 set the key, 削除 removes it) gives the current records."""

import contextlib
import datetime as dt
import tempfile
from pathlib import Path

import pytest
from django.db import transaction
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kokuho.eligibility.events import ChangeType
from kokuho.eligibility.services import EligibilityError
from kokuho.national.feeds import feed_spec, feeds_of
from kokuho.national.layouts import descriptor, line_read
from kokuho.national.ledger import national_export
from kokuho.national.tests.builders import arrive, happen

SHUYAKU = feeds_of("shuyaku")

pytestmark = pytest.mark.django_db
START = dt.date(2026, 4, 1)
STEPS = st.lists(
    st.tuples(
        st.sampled_from(["out", "in", "join", "leave", "late_join"]),
        st.integers(0, 2),  # which person
        st.integers(1, 40),  # days after the previous file
    ),
    min_size=1,
    max_size=4,
)


def _replay(state: dict, path: Path, feed: str) -> None:
    desc = descriptor(feed)
    lines = path.read_bytes().decode("cp932").split("\r\n")[:-1]
    control = line_read(desc, "control", lines[0])
    if control["file_kind"] == "1":
        state.clear()
    for line in lines[1:-1]:
        values = line_read(desc, "data", line)
        key = "|".join(str(values[f]) for f in desc.key_fields())
        if values.pop("processing") == "3":
            state.pop(key, None)
        else:
            state[key] = values


def _current(feed: str, as_of: dt.date) -> dict:
    from kokuho.national.layouts import line_write

    desc = descriptor(feed)
    out = {}
    for chunk in feed_spec(feed).chunks()(as_of=as_of, key_fields=desc.key_fields()):
        for record in chunk.records:
            values = line_read(desc, "data", line_write(desc, "data", record.values, as_of))
            values.pop("processing")
            out["|".join(str(values[f]) for f in desc.key_fields())] = values
    return out


def _apply(kind: str, atena: str, on: dt.date) -> None:
    if kind == "out":
        happen(ChangeType.MOVE_OUT, atena, on)
    elif kind == "in":
        arrive(atena, f"5{atena[1:]}", on=on)
    elif kind == "join":
        happen(ChangeType.EMPLOYEE_INSURANCE_JOIN, atena, on)
    elif kind == "leave":
        happen(ChangeType.EMPLOYEE_INSURANCE_LEAVE, atena, on)
    else:  # reported now, from long ago: a retroactive change
        happen(ChangeType.EMPLOYEE_INSURANCE_JOIN, atena, on - dt.timedelta(days=400), on)


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=STEPS)
def test_full_plus_deltas_replay_to_the_current_records(steps):
    with (
        tempfile.TemporaryDirectory() as tmp,
        override_settings(KOKUHO_NATIONAL_DIR=Path(tmp)),
        transaction.atomic(),
    ):
        atenas = [f"20000000{n:02d}" for n in range(3)]
        for atena in atenas[:2]:
            arrive(atena, f"5{atena[1:]}", on=dt.date(2020, 4, 1))
        replayed = {feed: {} for feed in SHUYAKU}
        day = START
        for feed in SHUYAKU:
            out = national_export(feed=feed, as_of=day, full=True, actor=None)
            _replay(replayed[feed], out.path, feed.value)
        for kind, who, days in steps:
            day += dt.timedelta(days=days)
            atena = atenas[who]
            # An event the registry refuses (a move-out of someone not here …) does not
            # happen; the history stays as it was.
            with contextlib.suppress(EligibilityError), transaction.atomic():
                _apply(kind, atena, day)
            for feed in SHUYAKU:
                out = national_export(feed=feed, as_of=day, full=False, actor=None)
                _replay(replayed[feed], out.path, feed.value)
        for feed in SHUYAKU:
            assert replayed[feed] == _current(feed.value, day), feed
        transaction.set_rollback(True)
