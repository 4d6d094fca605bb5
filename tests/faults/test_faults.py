"""The fault harness in its short form: each job killed once (SIGKILL) at a random point
and run again, compared with its uninterrupted run (`tests.faults.harness`; the long form,
`python -m tests.faults.harness --kills 20`, is run on demand and its figures reported).

It builds its own city in its own databases (SQLite files, or PostgreSQL databases named
kokuho_fault_<pid>_*) and runs every job as a separate `kokuho` process, so it needs no test
database. It runs in the PostgreSQL pass of `make test` — the production database — and is
skipped in the SQLite pass, which would only repeat it at the suite's cost;
`python -m tests.faults.harness --backend sqlite` runs it there."""

import os

import pytest

from tests.faults import harness

SHORT_JOBS = ["residents", "claims", "kogaku", "renewal"]


@pytest.mark.skipif(
    not os.environ.get("KOKUHO_DATABASE_URL", "").startswith("postgres"),
    reason="the short fault run is part of the PostgreSQL pass",
)
def test_killed_jobs_run_again_lose_and_duplicate_nothing(capsys):
    reports = harness.run(
        kills=1, households=24, seed=7, backend="postgresql", jobs=SHORT_JOBS, quiet=True
    )
    with capsys.disabled():
        for report in reports:
            print(harness.line(report))
    assert [r.job for r in reports] == SHORT_JOBS
    assert all(r.kills == 1 for r in reports)
    for report in reports:
        assert report.ok, harness.line(report)
