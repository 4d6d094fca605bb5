"""Issue 18: every malformed input of the corpus through its format's real entry point.

For each case of `expected.CASES`: no exception escapes (a traceback fails the case), the
outcome is the expected one — refused whole with a Japanese message naming the file and
holding the expected line/field/reason, or applied with exactly the expected rows held
(line, field, code) and reported — a refused file writes nothing but its own refusal row,
the second run of the same file changes no business table, and a generated My Number is
kept nowhere. The base data is built once for the module; each case runs in its own
savepoint. `conftest.py` prints the run's tally (`corpus: N cases, …`).
"""

import json
import re

import pytest

from kokuho.interfaces.tests.corpus.expected import CASES, Case
from kokuho.interfaces.tests.corpus.formats import (
    REFUSAL_WRITES,
    REPEAT_WRITES,
    RUNNERS,
    csv_formats,
    record_formats,
)
from kokuho.interfaces.tests.corpus.generate import case_bytes, my_number
from kokuho.interfaces.tests.corpus.running import (
    base_data,
    count_changes,
    kept_anywhere,
    table_counts,
)

pytestmark = pytest.mark.django_db

FORMATS = {**csv_formats(), **record_formats()}
_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
_NOT_FOR_STAFF = re.compile(r"Traceback|[A-Z][a-z]+Error|Exception|\\x[0-9a-f]{2}")


@pytest.fixture(scope="module")
def base(django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock(), base_data(tmp_path_factory.mktemp("corpus")) as built:
        yield built


def _staff_message(text: str) -> None:
    assert _JAPANESE.search(text), f"not Japanese: {text!r}"
    assert not _NOT_FOR_STAFF.search(text), f"not a message for staff: {text!r}"


def test_every_format_is_in_the_corpus():
    assert {c.format for c in CASES} == set(FORMATS) == set(RUNNERS)
    assert len(CASES) >= 200


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, base, tmp_path, record_property):
    fmt = FORMATS[case.format]
    expect = case.expect
    path = tmp_path / fmt.file_name
    path.write_bytes(case_bytes(fmt, case.mutation, base, case.id))
    run = RUNNERS[case.format]
    tally = {"case": case.id, "traceback": False, "partial_write": False}
    record_property("corpus", tally)
    try:
        if expect.twice:
            first = run(path, base)
            assert first.refused is None, first.refused
        before = table_counts()
        outcome = run(path, base)
    except Exception:
        tally["traceback"] = True
        raise
    changes = count_changes(before, table_counts())

    if expect.refused:
        assert outcome.refused is not None, f"applied, expected a refusal: {outcome}"
        message = outcome.refused
        assert message.startswith(f"{path.name}: "), message
        for fragment in expect.refused:
            assert fragment in message, f"{fragment!r} not in {message!r}"
        _staff_message(message)
        allowed = {} if expect.twice else REFUSAL_WRITES[case.format]
        tally["partial_write"] = changes != allowed
        assert changes == allowed, f"a refused file wrote {changes}"
    else:
        assert outcome.refused is None, outcome.refused
        assert outcome.applied == expect.applied
        assert tuple(outcome.held) == expect.held
        for reason in outcome.reasons:
            _staff_message(reason)
        assert len(outcome.reported) == len(expect.reported), outcome.reported
        for got, fragment in zip(outcome.reported, expect.reported, strict=True):
            assert fragment in got, f"{fragment!r} not in {got!r}"
        if expect.twice:
            allowed = REPEAT_WRITES.get(case.format, {})
            tally["partial_write"] = changes != allowed
            assert changes == allowed, f"the second run wrote {changes}"

    if "my_number" in case.mutation:
        number = my_number(fmt.name)
        shown = [outcome.refused or "", *outcome.reasons, json.dumps(outcome.held)]
        assert not any(number in text for text in shown)
        assert kept_anywhere(number) == []
