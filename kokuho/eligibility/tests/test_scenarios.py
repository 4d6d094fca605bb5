"""Every scenario case (the spec's examples and ours) through the real services.

In-process, on the test database of the run (so on PostgreSQL too); `test_scenario_cli.py`
covers the command-line wrapper itself.
"""

import datetime as dt
import json
from pathlib import Path

import pytest

from kokuho.eligibility.scenario import scenario_load, scenario_run
from kokuho.eligibility.tests.matching import case_differences

CASES = sorted(Path(__file__).parent.joinpath("scenarios").rglob("*.yaml"))


def test_the_case_corpus_is_there():
    assert len(CASES) >= 40
    assert any(c.parent.name == "spec" for c in CASES)


@pytest.mark.django_db
@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_scenario_case(case):
    expected = json.loads(case.with_suffix("").with_suffix(".expected.json").read_text())
    got = scenario_run(scenario_load(case, today=dt.date(2026, 11, 24)))
    assert case_differences(expected, got) == []
