"""Benchmark a whole month of a city on PostgreSQL, end to end, each stage against a floor.

    .venv/bin/python bench/city_month.py [--households 476000] [--claims 1400000]
                                         [--profile STAGE] [--stop-after STAGE] [--keep]

The headline figure of the project (issue 18 item 6; `bench/kogaku_month.py` measures the
engine alone over synthetic arrays). One child process on fresh databases (kokuho_bench_month
and kokuho_bench_month_vault, created and dropped here) runs, through the product's own
services, what the NHI section runs in a month:

1. city — `city_generate` + `city_load` of the demo city (476,000 households ≈ 1,000,000
   residents). Floor: the same person rows COPYed into a bare table with no index.
2. eligibility — `eligibility_derive_initial` (periods, 記号・番号, 枝番 for everyone).
   Floor: the derived period rows COPYed into a bare table.
3. changes — a month of 住基異動 (`changes_generate`) through the real importer
   (`import_residents_changes`: ledger, batches, eligibility). Floor: reading and
   validating the same file (`layout_read`), no database.
4. claims — a month of レセプト for the insured (`claims_csv_write`, scaled to
   ``--claims`` rows: a heavier month than a real one, on purpose) through the real
   importer (`import_claims`, COPY-based). Floor: COPY of the same file into a bare table.
5. kogaku — `kokuho kogaku run` as users run it (`kogaku_run_execute`: reading the month,
   所得区分 in bulk, the engine, every household's result stored). Floor: the pure
   aggregation, one grouped SUM of the same claims by person × provider × setting × kind
   into a table, in the same database.
6. renewal — the yearly renewal of 資格確認書・資格情報のお知らせ for the whole city
   (`renewal_run_execute`: deciding, issuing, printing the mailing batches), after the
   national side's マイナ保険証 status file of that day (`import_myna_status`, timed on
   its own line). Floor: the issued document rows COPYed into a bare table. The run's own
   stages (deciding and issuing, printing) are timed apart.

Per stage: seconds, rows, rows/s, the floor's seconds and the ratio stage ÷ floor; then the
whole month (the sum of the stages; the city's generation and load, which a real city does
not do monthly, are shown but not counted), and the child's peak RSS (the PostgreSQL server's
memory is not in it). ``--profile STAGE`` runs that stage under cProfile and prints the top
functions by cumulative time to stderr. The last line is ``RESULT key=value ...``.
Targets (issue 18): the month ≤ 10 minutes, peak RSS ≤ 4 GiB, the resident-change import
≥ 3,000 events/s.
"""

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_databases import PG_SERVER, pg_create, pg_drop

ROOT = Path(__file__).resolve().parent.parent
PG_DB = os.environ.get("KOKUHO_BENCH_DB", "kokuho_bench_month")
PG_VAULT_DB = f"{PG_DB}_vault"
MARK = "BENCH_JSON "
ON = dt.date(2026, 12, 7)  # the city's 基準日: months as the demo runs them on this day
CLAIMS_PER_INSURED = 1.31  # what `claims_csv_write` draws at volume 1 (measured on the demo)
TARGET_MONTH_S = 600
TARGET_RSS_GIB = 4
TARGET_CHANGES_EPS = 3000
MONTH_STAGES = ("changes", "eligibility", "claims", "kogaku", "myna", "renewal")


# --- child: the month, one stage after another -------------------------------------------------


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _worker_rss_mib() -> float:
    """The largest peak RSS of the worker processes the stages forked and reaped (validation,
    printing): pages shared with the parent by fork are counted in both."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def _emit(stage: str, **figures: Any) -> None:
    record = {"stage": stage, "rss_mib": _rss_mib(), "worker_rss_mib": _worker_rss_mib()}
    print(MARK + json.dumps({**record, **figures}), flush=True)
    if stage == os.environ.get("KOKUHO_BENCH_STOP_AFTER"):
        raise SystemExit(0)  # `--stop-after`: the stages up to this one are what was asked


def _copy_floor(table: str, columns: str, rows: list[tuple]) -> float:
    """Seconds to COPY `rows` into a fresh bare table (no index, no constraint)."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(f"CREATE UNLOGGED TABLE {table} ({columns})")
    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        names = ", ".join(c.split()[0] for c in columns.split(", "))
        with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    return time.perf_counter() - t0


class _Timed:
    """Times a stage, under cProfile when it is the one asked for."""

    def __init__(self, name: str, profile: str | None) -> None:
        self.name, self.profiled = name, profile == name

    def __enter__(self) -> "_Timed":
        print(f"[{self.name}] …", flush=True)
        self.profiler = None
        if self.profiled:
            import cProfile

            self.profiler = cProfile.Profile()
            self.profiler.enable()
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.t0
        if self.profiler is not None:
            import pstats

            self.profiler.disable()
            print(f"--- profile of {self.name} (cumulative)", file=sys.stderr)
            stats = pstats.Stats(self.profiler, stream=sys.stderr)
            stats.sort_stats("cumulative").print_stats(35)
            print(f"--- profile of {self.name} (own time)", file=sys.stderr)
            stats.sort_stats("tottime").print_stats(20)


def worker(households: int, claims: int, profile: str | None, workdir: Path) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kokuho.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from kokuho.benefits.kogaku.run import (
        kogaku_latest_confirmed_month,
        kogaku_run_create,
        kogaku_run_execute,
    )
    from kokuho.certificates.models import IssuedDocument
    from kokuho.certificates.renewal import renewal_run_create, renewal_run_execute
    from kokuho.certificates.rules import renewal_dates
    from kokuho.certificates.services import renewal_month_day
    from kokuho.demo.changes import changes_generate
    from kokuho.demo.city import city_generate, city_load
    from kokuho.demo.claims import claims_csv_write, persons_of_month
    from kokuho.demo.myna_file import demo_myna_file_write
    from kokuho.eligibility.batch import eligibility_derive_initial
    from kokuho.eligibility.models import EligibilityPeriod
    from kokuho.interfaces import residents_changes
    from kokuho.interfaces.layout import layout_read
    from kokuho.interfaces.services import (
        import_claims,
        import_myna_status,
        import_residents_changes,
    )
    from kokuho.people.models import Person

    call_command("migrate", verbosity=0, interactive=False)
    call_command("migrate", database="vault", verbosity=0, interactive=False)

    # 1. The city (not part of the month: a city has its residents already).
    with _Timed("city", profile) as t:
        data = city_generate(households=households, seed=1, on=ON)
        city_load(data, source="bench city_month seed=1")
    del data
    residents = Person.objects.count()
    rows = list(
        Person.objects.order_by("pk").values_list(
            "pk", "atena_no", "name", "name_kana", "birth_date", "sex", "address"
        )
    )
    floor = _copy_floor(
        "bench_floor_person",
        "id bigint, atena_no text, name text, name_kana text, birth_date date, sex int, "
        "address text",
        rows,
    )
    del rows
    _emit("city", seconds=t.seconds, rows=residents, floor_s=floor, households=households)

    # 2. Eligibility for everyone.
    with _Timed("eligibility", profile) as t:
        derived = eligibility_derive_initial(on=ON)
    periods = list(EligibilityPeriod.objects.values_list("version_id", "start", "end", "acquired"))
    floor = _copy_floor(
        "bench_floor_period", "version_id bigint, start date, stop date, reason text", periods
    )
    _emit("eligibility", seconds=t.seconds, rows=derived.with_periods, floor_s=floor)
    del periods

    # 3. Last month's 住基異動 through the importer.
    month = (ON.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    changes = changes_generate(month=month, seed=1, directory=workdir, today=ON)
    path = changes.path
    t0 = time.perf_counter()
    _source, parsed = layout_read(path, residents_changes.LAYOUT)
    sum(1 for row in parsed if row.record is not None)
    floor = time.perf_counter() - t0
    with _Timed("changes", profile) as t:
        summary = import_residents_changes(path=path, actor=None)
    _emit(
        "changes",
        seconds=t.seconds,
        rows=summary.read,
        floor_s=floor,
        applied=summary.applied,
        quarantined=summary.quarantined_total,
    )

    # 4. A month of claims through the importer.
    claims_month = kogaku_latest_confirmed_month(before=ON)
    insured, _ = persons_of_month(claims_month)
    volume = claims / (CLAIMS_PER_INSURED * max(1, len(insured)))
    claims_path = workdir / f"claims-{claims_month:%Y%m}.csv"
    t0 = time.perf_counter()
    written = claims_csv_write(claims_path, month=claims_month, seed=1, volume=volume)
    generate_s = time.perf_counter() - t0
    with connection.cursor() as cursor:
        cursor.execute("CREATE UNLOGGED TABLE bench_floor_claim (line text)")
    t0 = time.perf_counter()
    # Each line as one text value (a tab never appears in the file), the cheapest COPY.
    with (
        connection.cursor() as cursor,
        claims_path.open("rb") as f,
        cursor.cursor.copy("COPY bench_floor_claim (line) FROM STDIN") as copy,
    ):
        while block := f.read(1 << 20):
            copy.write(block.replace(b"\\", b"\\\\"))
    floor = time.perf_counter() - t0
    with _Timed("claims", profile) as t:
        summary = import_claims(path=claims_path, actor=None, reported_on=ON)
    _emit(
        "claims",
        seconds=t.seconds,
        rows=summary.read,
        floor_s=floor,
        written=written,
        insured=len(insured),
        volume=round(volume, 3),
        generate_s=generate_s,
        applied=summary.applied,
    )
    del insured

    # 5. The 高額療養費 month, as `kokuho kogaku run` runs it.
    stages: dict[str, float] = {}
    last = [time.perf_counter(), ""]

    def staged(stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if last[1]:
            stages[last[1]] = stages.get(last[1], 0.0) + now - last[0]
        last[:] = [now, stage]

    with _Timed("kogaku", profile) as t:
        run = kogaku_run_execute(
            run_id=kogaku_run_create(month=claims_month, actor=None).pk, on_progress=staged
        )
    staged("", 0, 0)
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE UNLOGGED TABLE bench_floor_kogaku AS SELECT person_id, provider, setting, "
            "kind, sum(copay) AS copay, sum(points) AS points FROM benefits_claim "
            "WHERE service_month = %s AND person_id IS NOT NULL "
            "GROUP BY person_id, provider, setting, kind",
            [claims_month],
        )
    floor = time.perf_counter() - t0
    counts = run.counts or {}
    _emit(
        "kogaku",
        seconds=t.seconds,
        rows=counts.get("claims", 0),
        floor_s=floor,
        status=run.status,
        candidates=counts.get("candidates"),
        computed=counts.get("computed"),
        paid=counts.get("paid"),
        stages={k: round(v, 1) for k, v in stages.items()},
    )

    # 6. The yearly renewal, after the status file of its day.
    start, _ = renewal_dates(ON, renewal_month_day())
    myna_path = workdir / f"myna-status-{start:%Y%m%d}.csv"
    demo_myna_file_write(path=myna_path, on=start, seed=1)
    with _Timed("myna", profile) as t:
        summary = import_myna_status(path=myna_path, actor=None, reported_on=ON)
    _emit("myna", seconds=t.seconds, rows=summary.read, floor_s=None)
    stages.clear()
    last[:] = [time.perf_counter(), ""]
    with _Timed("renewal", profile) as t:
        renewal = renewal_run_execute(
            run_id=renewal_run_create(renewal_date=start, actor=None).pk, on_progress=staged
        )
    staged("", 0, 0)
    documents = list(
        IssuedDocument.objects.filter(renewal=renewal).values_list(
            "pk", "person_id", "doc_type", "serial", "valid_from", "valid_until"
        )
    )
    floor = _copy_floor(
        "bench_floor_document",
        "id bigint, person_id bigint, doc_type text, serial text, valid_from date, "
        "valid_until date",
        documents,
    )
    _emit(
        "renewal",
        seconds=t.seconds,
        rows=len(documents),
        floor_s=floor,
        status=renewal.status,
        stages={k: round(v, 1) for k, v in stages.items()},
    )


# --- parent ---------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=476_000)
    parser.add_argument("--claims", type=int, default=1_400_000)
    parser.add_argument("--profile", choices=("city", *MONTH_STAGES), default=None)
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument(
        "--stop-after",
        choices=("city", *MONTH_STAGES),
        default=None,
        help="end after this stage (to profile one stage without the rest of the month)",
    )
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.households, args.claims, args.profile, args.worker)
        return

    results: dict[str, dict] = {}
    pg_create(PG_DB, PG_VAULT_DB)
    try:
        with tempfile.TemporaryDirectory(prefix="kokuho-month-") as tmp:
            env = dict(os.environ)
            env |= {
                "KOKUHO_DATABASE_URL": f"{PG_SERVER}/{PG_DB}",
                "KOKUHO_VAULT_DATABASE_URL": f"{PG_SERVER}/{PG_VAULT_DB}",
                "KOKUHO_VAR_DIR": tmp,
            }
            env.setdefault("KOKUHO_SECRET_KEY", "bench-only-not-secret")
            if args.stop_after:
                env["KOKUHO_BENCH_STOP_AFTER"] = args.stop_after
            command = [sys.executable, __file__, "--worker", tmp]
            command += ["--households", str(args.households), "--claims", str(args.claims)]
            if args.profile:
                command += ["--profile", args.profile]
            with subprocess.Popen(  # noqa: S603 (our own script, fixed arguments)
                command, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True
            ) as child:
                assert child.stdout is not None
                for line in child.stdout:
                    if line.startswith(MARK):
                        r = json.loads(line[len(MARK) :])
                        results[r["stage"]] = r
                        print(_stage_line(r), flush=True)
                    else:
                        print(line, end="", flush=True)
            if child.returncode != 0:
                raise SystemExit(f"worker failed (exit {child.returncode}) after {list(results)}")
    finally:
        if not args.keep:
            pg_drop(PG_DB, PG_VAULT_DB)
    _report(results, args)


def _stage_line(r: dict) -> str:
    rate = r["rows"] / r["seconds"] if r["seconds"] else 0
    line = f"[{r['stage']}] {r['seconds']:.1f}s, {r['rows']:,} rows ({rate:,.0f}/s)"
    if r.get("floor_s"):
        line += f"; floor {r['floor_s']:.1f}s (×{r['seconds'] / r['floor_s']:.1f})"
    shown = ("stage", "seconds", "rows", "floor_s", "worker_rss_mib")
    extra = {k: v for k, v in r.items() if k not in shown}
    return line + f"; {extra}"


def _report(results: dict[str, dict], args: argparse.Namespace) -> None:
    month_s = sum(results[s]["seconds"] for s in MONTH_STAGES if s in results)
    rss_gib = max(r["rss_mib"] for r in results.values()) / 1024
    worker_gib = max(r.get("worker_rss_mib", 0) for r in results.values()) / 1024
    present = [s for s in MONTH_STAGES if s in results]
    slowest = max(present, key=lambda s: results[s]["seconds"], default="-")
    print(
        f"month (changes + eligibility + claims + kogaku + myna + renewal): {month_s:.0f}s "
        f"(target ≤ {TARGET_MONTH_S}s); slowest stage: {slowest}; peak RSS {rss_gib:.2f} GiB"
        f" (largest worker process {worker_gib:.2f} GiB)"
    )
    fields = [f"households={args.households}", f"residents={results['city']['rows']}"]
    for stage, r in results.items():
        fields.append(f"{stage}_s={r['seconds']:.1f}")
        fields.append(f"{stage}_rows={r['rows']}")
        if r.get("floor_s"):
            fields.append(f"{stage}_floor_s={r['floor_s']:.2f}")
            fields.append(f"{stage}_ratio={r['seconds'] / r['floor_s']:.1f}")
    changes = results.get("changes")
    eps = changes["rows"] / changes["seconds"] if changes and changes["seconds"] else 0.0
    partial = args.stop_after is not None
    fields += [
        f"changes_eps={eps:.0f}",
        f"month_s={month_s:.0f}",
        f"peak_rss_gib={rss_gib:.2f}",
        f"worker_rss_gib={worker_gib:.2f}",
        f"slowest={slowest}",
        f"target_month_s={TARGET_MONTH_S}",
        f"meets_month={'n/a' if partial else 'yes' if month_s <= TARGET_MONTH_S else 'no'}",
        f"meets_rss={'yes' if rss_gib <= TARGET_RSS_GIB else 'no'}",
        f"meets_changes_eps={'yes' if eps >= TARGET_CHANGES_EPS else 'no'}",
    ]
    if partial:
        fields.append(f"stopped_after={args.stop_after}")
    print("RESULT " + " ".join(fields))


if __name__ == "__main__":
    main()
