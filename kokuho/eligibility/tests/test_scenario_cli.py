"""`kokuho scenario run` as users call it: a subprocess, JSON out, exit 2 on bad input."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kokuho.eligibility.tests.matching import case_differences

KOKUHO = Path(sys.executable).with_name("kokuho")
# The runner always works on its own in-memory database (kokuho/cli.py), whatever the pass.
pytestmark = pytest.mark.database_independent
SPEC_CASE = Path(__file__).parent / "scenarios" / "spec" / "eligibility-001.yaml"


def _run(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(KOKUHO), "scenario", "run", str(path)], capture_output=True, text=True, timeout=120
    )


def test_it_prints_the_answer_as_json():
    run = _run(SPEC_CASE)
    assert run.returncode == 0, run.stderr
    expected = json.loads(SPEC_CASE.with_name("eligibility-001.expected.json").read_text())
    assert case_differences(expected, json.loads(run.stdout)) == []


BAD = {
    "unknown-type": (
        "events:\n  - {type: teleport, date: 2026-01-01, resident: R1}\n",
        "events[0].type",
    ),
    "bad-date": (
        "residents:\n  R1: {name: 山田 太郎, kana: ヤマダ タロウ, birth: 1960-02-30, sex: M}\n",
        "residents.R1.birth",
    ),
    "unknown-resident": (
        "residents: {}\nevents:\n  - {type: death, date: 2026-01-01, resident: R9}\n",
        "events[0].resident",
    ),
    "kanji-kana": (
        "residents:\n  R1: {name: 山田 太郎, kana: 山田, birth: 1960-01-01, sex: M}\n",
        "residents.R1.kana",
    ),
    "reported-before": (
        "residents:\n  R1: {name: 山田 太郎, kana: ヤマダ, birth: 1960-01-01, sex: M}\n"
        "events:\n  - {type: move_in, date: 2026-04-01, reported: 2026-03-01, resident: R1,"
        " household: H1, relation: head}\n",
        "events[0].reported",
    ),
    "never-arrives": (
        "residents:\n  R1: {name: 山田 太郎, kana: ヤマダ, birth: 1960-01-01, sex: M}\n"
        "events:\n  - {type: employee_insurance_join, date: 2026-04-01, resident: R1}\n",
        "events[0]",
    ),
    "bad-insurer": ("insurer_number: '389998'\n", "insurer_number"),
    "not-yaml": ("events: [\n", "(file)"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_invalid_input_exits_2_with_file_path_and_reason(tmp_path, name):
    text, where = BAD[name]
    case = tmp_path / f"{name}.yaml"
    case.write_text(text, encoding="utf-8")
    run = _run(case)
    assert run.returncode == 2
    line = run.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    assert line.startswith(f"{case}: {where}")
