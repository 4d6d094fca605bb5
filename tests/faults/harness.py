"""Fault harness (issue 18): kill a job with SIGKILL at a random point, run it again, and
compare what is left with an uninterrupted run of the same job from the same state.

    .venv/bin/python -m tests.faults.harness [--kills 20] [--households 60] [--seed 1]
                                             [--backend sqlite|postgresql] [--jobs a,b]

A base city is built once (`kokuho demo`), then each job runs from the state the previous
job's uninterrupted run left (a chain: 住基異動 → レセプト → 高額療養費の月次 → 支払処理 →
オンライン資格確認 → 国保情報集約 → マイナ保険証の状況 → 資格確認書の一斉更新). For every
job and every kill: copy the state, start the job in its own process group, SIGKILL it
after a random delay within its measured duration, then run it again to its end, and check:

* the business tables equal the uninterrupted run's (rows and content: `fingerprint`) —
  nothing lost, nothing applied twice;
* the audit chain verifies (`audit_chain_verify`, what `kokuho audit verify` runs);
* no import run is left 取込中 and each killed one is 中断, continued by the next
  (`resumed_from`); no batch run is left running;
* every file the job wrote is complete (no temporary left, each PDF ends with %%EOF, each
  recorded export has the SHA-256 the export register holds), and the outbound files are
  the same as after the uninterrupted run (a killed feed must not use up a 通番).

The test suite runs it in a short form (`tests/faults/test_faults.py`); the figures of the
long form go in the issue's note. Each state is a directory (var dir with the key file and
documents) plus its databases: SQLite files inside it, or PostgreSQL databases copied with
CREATE DATABASE … TEMPLATE.
"""

import argparse
import dataclasses
import datetime as dt
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KOKUHO = [sys.executable, "-m", "kokuho.cli"]
PG_URL = os.environ.get("KOKUHO_FAULTS_PG", "postgresql://postgres@127.0.0.1:5432")


@dataclasses.dataclass(frozen=True)
class Job:
    """One job under test: its command, and how to make its input from the state before it."""

    name: str
    label: str
    argv: tuple[str, ...]  # kokuho arguments; {input} is the generated input file
    input_kind: str = ""
    input_month: str = ""


JOBS = (
    Job(
        "residents",
        "住基異動の取込",
        ("import", "residents-changes", "{input}", "--no-progress"),
        "residents_changes",
        "2026-11",
    ),
    Job(
        "claims",
        "レセプトの取込",
        ("import", "claims", "{input}", "--no-progress", "--reported-on", "2026-08-10"),
        "claims",
        "2026-06",
    ),
    Job(
        "kogaku",
        "高額療養費の月次（2026-06）",
        ("kogaku", "run", "--month", "2026-06", "--no-progress"),
    ),
    Job(
        "payments",
        "支払処理（全銀ファイル）",
        ("payments", "run", "--date", "{input_text}", "--no-progress"),
        "pay_date",
    ),
    Job(
        "onshi",
        "オンライン資格確認 資格履歴の作成",
        ("national", "export", "onshi", "--date", "{tomorrow}"),
    ),
    Job(
        "shuyaku",
        "国保情報集約システム ファイルの作成",
        ("national", "export", "shuyaku", "--date", "{tomorrow}"),
    ),
    Job(
        "myna",
        "マイナ保険証の利用登録状況の取込",
        ("import", "myna-status", "{input}", "--no-progress", "--reported-on", "2027-08-01"),
        "myna_status",
        "2027-08",
    ),
    Job(
        "renewal",
        "資格確認書の一斉更新（2027-08-01）",
        ("certificates", "renew", "--date", "2027-08-01", "--no-progress"),
    ),
)


class States:
    """Named copies of the city: a directory each, and its databases."""

    def __init__(self, root: Path, backend: str, tag: str) -> None:
        self.root, self.backend, self.tag = root, backend, tag
        self.databases: list[str] = []

    def _db(self, name: str, vault: bool) -> str:
        state = name.replace("-", "_")
        return f"kokuho_fault_{self.tag}_{state}{'_vault' if vault else ''}"

    def env(self, name: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KOKUHO_")}
        env |= {"KOKUHO_VAR_DIR": str(self.root / name), "PYTHONPATH": str(ROOT)}
        if self.backend == "postgresql":
            env["KOKUHO_DATABASE_URL"] = f"{PG_URL}/{self._db(name, False)}"
            env["KOKUHO_VAULT_DATABASE_URL"] = f"{PG_URL}/{self._db(name, True)}"
        return env

    def _psql(self, sql: str) -> None:
        subprocess.run(
            ["psql", f"{PG_URL}/postgres", "-qAtc", sql], check=True, capture_output=True
        )

    def create(self, name: str) -> None:
        (self.root / name).mkdir(parents=True)
        if self.backend == "postgresql":
            for vault in (False, True):
                self._psql(f"DROP DATABASE IF EXISTS {self._db(name, vault)}")
                self._psql(f"CREATE DATABASE {self._db(name, vault)}")
                self.databases.append(self._db(name, vault))

    def copy(self, source: str, name: str) -> None:
        self.drop(name)
        shutil.copytree(self.root / source, self.root / name, symlinks=True)
        if self.backend == "postgresql":
            for vault in (False, True):
                self._psql(
                    f"CREATE DATABASE {self._db(name, vault)} TEMPLATE {self._db(source, vault)}"
                )
                self.databases.append(self._db(name, vault))

    def drop(self, name: str) -> None:
        shutil.rmtree(self.root / name, ignore_errors=True)
        if self.backend == "postgresql":
            for vault in (False, True):
                self._psql(f"DROP DATABASE IF EXISTS {self._db(name, vault)} WITH (FORCE)")

    def drop_all(self) -> None:
        if self.backend == "postgresql":
            for db in set(self.databases):
                self._psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        shutil.rmtree(self.root, ignore_errors=True)


def _run(states: States, state: str, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [*KOKUHO, *argv], env=states.env(state), cwd=ROOT, capture_output=True, text=True
    )
    if check and done.returncode != 0:
        raise RuntimeError(
            f"kokuho {' '.join(argv)} failed ({done.returncode}):\n{done.stderr[-3000:]}"
        )
    return done


def _python(states: States, state: str, module: str, *argv: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", module, *argv],
        env=states.env(state),
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{module} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def inspect(states: States, state: str) -> dict:
    return json.loads(_python(states, state, "tests.faults.inspect_state"))


def _job_argv(job: Job, inputs: Path) -> list[str]:
    """The job's arguments with its input file, the input's text (a date the state decided)
    and tomorrow (a national extract's 基準日 after the demo's own) filled in."""
    path = inputs / f"{job.name}.csv"
    text = path.read_text().strip() if "{input_text}" in job.argv else ""
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    return [
        a.replace("{input_text}", text)
        .replace("{input}", str(path))
        .replace("{tomorrow}", tomorrow)
        for a in job.argv
    ]


def _kill_after(states: States, state: str, argv: list[str], delay: float) -> bool:
    """Start the job and SIGKILL its process group after `delay`; True if it was still running."""
    process = subprocess.Popen(
        [*KOKUHO, *argv],
        env=states.env(state),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        process.wait(timeout=delay)
        return False
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return True


@dataclasses.dataclass
class JobReport:
    job: str
    label: str
    seconds: float
    kills: int = 0
    killed_running: int = 0
    lost_or_duplicated: list[str] = dataclasses.field(default_factory=list)
    audit_failures: int = 0
    runs_left_open: list[str] = dataclasses.field(default_factory=list)
    broken_files: list[str] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (
            self.lost_or_duplicated
            or self.audit_failures
            or self.runs_left_open
            or self.broken_files
        )


def _compare(before: dict, after: dict) -> list[str]:
    out = []
    for table in sorted(set(before) | set(after)):
        b, a = before.get(table), after.get(table)
        if b != a:
            out.append(f"{table}: 中断なし {b} / 中断あり {a}")
    return out


def run(
    *,
    kills: int,
    households: int,
    seed: int,
    backend: str,
    jobs: list[str],
    keep: bool = False,
    quiet: bool = False,
    kill_jobs: list[str] | None = None,
) -> list[JobReport]:
    rnd = random.Random(seed)
    root = Path(tempfile.mkdtemp(prefix="kokuho-faults-"))
    states = States(root, backend, f"{os.getpid()}")
    inputs = root / "inputs"
    reports: list[JobReport] = []
    try:
        states.create("base")
        _run(states, "base", "migrate", "--noinput", "-v0")
        _run(states, "base", "migrate", "--database", "vault", "--noinput", "-v0")
        started = time.monotonic()
        _run(
            states,
            "base",
            "demo",
            "--households",
            str(households),
            "--seed",
            str(seed),
            "--no-progress",
        )
        if not quiet:
            print(f"base city: {households} households in {time.monotonic() - started:.1f} s")
        before = "base"
        for job in JOBS:
            if job.name not in jobs:
                continue
            if job.input_kind:
                _python(
                    states,
                    before,
                    "tests.faults.inputs",
                    job.input_kind,
                    str(inputs / f"{job.name}.csv"),
                    job.input_month,
                    str(seed),
                )
            argv = _job_argv(job, inputs)
            clean = f"{job.name}-clean"
            states.copy(before, clean)
            started = time.monotonic()
            done = _run(states, clean, *argv, check=False)
            seconds = time.monotonic() - started
            if done.returncode == 2:
                # Refused by its own rule on this city (e.g. no payment due by the date):
                # nothing to cut. Said, and the chain goes on from the same state.
                if not quiet:
                    print(f"-- {job.label}: 対象なしのため省略（{done.stderr.strip()[-200:]}）")
                states.drop(clean)
                continue
            if done.returncode != 0:
                raise RuntimeError(f"kokuho {' '.join(argv)} failed:\n{done.stderr[-3000:]}")
            clean_state = inspect(states, clean)
            expected = clean_state["tables"]
            report = JobReport(job.name, job.label, seconds)
            for k in range(kills if kill_jobs is None or job.name in kill_jobs else 0):
                cut = f"{job.name}-cut"
                states.copy(before, cut)
                # Up to three kills in a row before the run that is let finish: a resumed
                # run must survive being cut again.
                for _ in range(1 + (k % 3)):
                    delay = rnd.uniform(0.05, max(0.1, seconds * 0.95))
                    report.killed_running += _kill_after(states, cut, argv, delay)
                    report.kills += 1
                _run(states, cut, *argv)
                found = inspect(states, cut)
                report.lost_or_duplicated += _compare(expected, found["tables"])
                report.audit_failures += not found["audit_ok"]
                report.runs_left_open += found["open"]
                report.broken_files += found["broken"]
                if found["files"] != clean_state["files"]:
                    gone = sorted(set(clean_state["files"]) - set(found["files"]))
                    extra = sorted(set(found["files"]) - set(clean_state["files"]))
                    report.broken_files.append(f"出力ファイルの違い: 不足 {gone} 余分 {extra}")
                if not keep:
                    states.drop(cut)
            if report.kills:
                reports.append(report)
            if not quiet:
                print(line(report), flush=True)
            if before != "base" and not keep:
                states.drop(before)
            before = clean
    finally:
        if keep:
            print(f"states kept in {root}", flush=True)
        else:
            states.drop_all()
    return reports


def line(r: JobReport) -> str:
    verdict = "OK" if r.ok else "NG"
    line = (
        f"{verdict} {r.label}: 中断なし {r.seconds:.1f} 秒、"
        f"kill -9 {r.kills} 回（実行中 {r.killed_running} 回）、"
        f"欠落・重複 {len(r.lost_or_duplicated)}、監査ログ異常 {r.audit_failures}、"
        f"未終了の処理 {len(r.runs_left_open)}、不完全なファイル {len(r.broken_files)}"
    )
    details = r.lost_or_duplicated[:10] + r.runs_left_open[:10] + r.broken_files[:10]
    return "\n".join([line, *(f"    {d}" for d in details)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--households", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--backend",
        choices=["sqlite", "postgresql"],
        default="postgresql" if os.environ.get("KOKUHO_DATABASE_URL") else "sqlite",
    )
    parser.add_argument("--jobs", default=",".join(j.name for j in JOBS))
    parser.add_argument("--keep", action="store_true", help="状態を消さずに残す（調査用）")
    parser.add_argument(
        "--kill-jobs",
        default="",
        help="kill する仕事（既定: すべて。ほかは中断なしで実行するだけ）",
    )
    args = parser.parse_args()
    reports = run(
        kills=args.kills,
        households=args.households,
        seed=args.seed,
        backend=args.backend,
        jobs=args.jobs.split(","),
        keep=args.keep,
        kill_jobs=args.kill_jobs.split(",") if args.kill_jobs else None,
    )
    total_kills = sum(r.kills for r in reports)
    failed = [r.job for r in reports if not r.ok]
    print(
        f"RESULT backend={args.backend} jobs={len(reports)} kills={total_kills} "
        f"killed_running={sum(r.killed_running for r in reports)} "
        f"lost_or_duplicated={sum(len(r.lost_or_duplicated) for r in reports)} "
        f"audit_failures={sum(r.audit_failures for r in reports)} "
        f"open_runs={sum(len(r.runs_left_open) for r in reports)} "
        f"broken_files={sum(len(r.broken_files) for r in reports)} failed={','.join(failed) or '-'}"
    )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
