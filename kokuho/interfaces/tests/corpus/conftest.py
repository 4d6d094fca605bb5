"""The corpus' tally, from the run: each case records whether it raised (a traceback) and
whether a refused or repeated file wrote anything; the terminal summary adds them up (also
across xdist workers, whose reports carry the cases' user properties)."""

import pytest

_SEEN: dict[str, dict] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    for name, value in report.user_properties:
        if name == "corpus" and report.when == "call":
            _SEEN[value["case"]] = {**value, "passed": report.passed}


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # type: ignore[no-untyped-def]
    if not _SEEN:
        return
    cases = _SEEN.values()
    tracebacks = sum(1 for c in cases if c["traceback"])
    partial = sum(1 for c in cases if c["partial_write"])
    failed = sum(1 for c in cases if not c["passed"])
    terminalreporter.write_line(
        f"corpus: {len(_SEEN)} cases, {tracebacks} tracebacks, {partial} partial writes,"
        f" {failed} failed"
    )
