"""Benchmark of the 住基異動 importer on SQLite and PostgreSQL.

    .venv/bin/python bench/import_changes.py [--events 100000] [--backends sqlite,postgresql]
                                             [--row-sample 2000] [--profile]

Generates one synthetic `residents-changes.csv` of N events (転入 into new and existing
households, 出生, 転居, 転出, 死亡, 世帯主変更, 世帯分離・合併, 氏名変更; unique record ids;
made-up names), then for each database runs, in a fresh process (settings are read once per
process) on a fresh database:

* the real importer (`import_residents_changes`: ledger, batches of `eligibility.bulk`, …);
* three floors measured in the same run: parsing and validating the same file without
  applying it; a bare `executemany` of its rows into a scratch table; and the importer's
  own pipeline (ledger, batches, chunked commits) with services that do nothing;
* for comparison, the row-by-row path (`event_apply` per row, the reference the batches are
  tested against) on a smaller sample file of other residents.

Prints events/s and the ratio to each floor, then one line `RESULT key=value …`. The target
of the issue is ≥ 2,000 events/s on PostgreSQL. `--profile` also writes a cProfile of the
real import per backend (top functions by own and cumulative time) to stderr.

PostgreSQL: 127.0.0.1:5432, user postgres, trust auth; the databases kokuho_bench_import and
kokuho_bench_import_vault are created and dropped by this script.
"""

import argparse
import csv
import dataclasses
import datetime as dt
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DB = "kokuho_bench_import"
PG_VAULT_DB = "kokuho_bench_import_vault"
TARGET_PG_EPS = 2000
MARKER = "BENCH_JSON "

HEADER = [
    "record_id",
    "change_code",
    "change_date",
    "report_date",
    "atena_no",
    "household_no",
    "relation",
    "name",
    "name_kana",
    "birth_date",
    "sex",
    "postal_code",
    "address",
    "foreign",
    "residence_status",
    "residence_until",
    "destination",
    "special_address",
]
# Made-up names: common readings put together at random, no real person behind any row.
SURNAMES = [
    ("青葉", "アオバ"),
    ("石森", "イシモリ"),
    ("岡野", "オカノ"),
    ("川辺", "カワベ"),
    ("北浦", "キタウラ"),
    ("桜井", "サクライ"),
    ("谷口", "タニグチ"),
    ("野村", "ノムラ"),
    ("浜田", "ハマダ"),
    ("松原", "マツバラ"),
    ("森下", "モリシタ"),
    ("柳田", "ヤナギダ"),
]
GIVEN = [
    ("葵", "アオイ", 2),
    ("蓮", "レン", 1),
    ("陽菜", "ヒナ", 2),
    ("湊", "ミナト", 1),
    ("結衣", "ユイ", 2),
    ("大翔", "ヒロト", 1),
    ("和子", "カズコ", 2),
    ("健一", "ケンイチ", 1),
    ("美咲", "ミサキ", 2),
    ("翔太", "ショウタ", 1),
]
TOWNS = ["本町", "新町", "港町", "栄町", "緑町", "旭町"]


def generate(
    path: Path, events: int, seed: int, *, atena_from: int = 100_000_001, prefix: str = "R"
) -> dict[str, int]:
    """Write N events whose order is consistent (nobody leaves before arriving)."""
    rng = random.Random(seed)
    start = dt.date(2024, 4, 1)
    span_days = 730
    next_atena = atena_from
    next_household = atena_from // 2
    residents: list[tuple[str, str, str]] = []  # (atena_no, household_no, relation) now
    households: list[str] = []
    weights = [
        ("A01_new", 28),
        ("A01_join", 14),
        ("A02", 9),
        ("C01", 17),
        ("B01", 16),
        ("B02", 6),
        ("C02", 2),
        ("C03", 3),
        ("C04", 2),
        ("C05", 3),
    ]
    mix = dict.fromkeys((kind for kind, _weight in weights), 0)
    kinds, cumulative = zip(*weights, strict=True)

    def address() -> tuple[str, str]:
        postal = f"799-{rng.randrange(10000):04d}"
        return postal, f"みかん市{rng.choice(TOWNS)}{rng.randint(1, 9)}丁目{rng.randint(1, 40)}番"

    def person_fields(relation: str, birth: dt.date) -> dict[str, str]:
        surname, surname_kana = rng.choice(SURNAMES)
        given, given_kana, sex = rng.choice(GIVEN)
        postal, addr = address()
        return {
            "relation": relation,
            "name": f"{surname} {given}",
            "name_kana": f"{surname_kana} {given_kana}",
            "birth_date": birth.isoformat(),
            "sex": str(sex),
            "postal_code": postal,
            "address": addr,
        }

    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=HEADER, lineterminator="\r\n")
        writer.writeheader()
        for i in range(events):
            day = start + dt.timedelta(days=i * span_days // events)
            reported = day + dt.timedelta(days=rng.choice([0, 0, 0, 1, 3, 7]))
            kind = rng.choices(kinds, cum_weights=_cumulate(cumulative))[0]
            if len(residents) < 50 and kind not in ("A01_new",):
                kind = "A01_new"  # warm-up: people to move, relocate and bury first
            row = {
                "record_id": f"{prefix}{i + 1:09d}",
                "change_date": day.isoformat(),
                "report_date": reported.isoformat(),
            }
            if kind == "A01_new":
                atena, household = str(next_atena), str(next_household)
                next_atena, next_household = next_atena + 1, next_household + 1
                birth = dt.date(rng.randint(1955, 2004), rng.randint(1, 12), rng.randint(1, 28))
                row |= {"change_code": "A01", "atena_no": atena, "household_no": household}
                row |= person_fields("世帯主", birth)
                residents.append((atena, household, "世帯主"))
                households.append(household)
            elif kind in ("A01_join", "A02"):
                atena, household = str(next_atena), rng.choice(households)
                next_atena += 1
                if kind == "A02":
                    row |= {"change_code": "A02", "atena_no": atena, "household_no": household}
                    row |= person_fields("子", day)
                    relation = "子"
                else:
                    birth = dt.date(rng.randint(1955, 2010), rng.randint(1, 12), rng.randint(1, 28))
                    relation = rng.choice(["妻", "夫", "子", "同居人"])
                    row |= {"change_code": "A01", "atena_no": atena, "household_no": household}
                    row |= person_fields(relation, birth)
                residents.append((atena, household, relation))
            elif kind in ("C02", "C03", "C04", "C05"):
                index = rng.randrange(len(residents))
                atena, household, relation = residents[index]
                if kind == "C03":  # 世帯分離: the person heads a new household
                    household, relation = str(next_household), "世帯主"
                    next_household += 1
                    households.append(household)
                elif kind == "C04":  # 世帯合併: into another household
                    household, relation = rng.choice(households), "同居人"
                elif kind == "C02":
                    relation = "世帯主"
                row |= {"change_code": kind, "atena_no": atena, "household_no": household}
                row["relation"] = relation
                if kind == "C05":
                    surname, surname_kana = rng.choice(SURNAMES)
                    given, given_kana, _sex = rng.choice(GIVEN)
                    row["name"] = f"{surname} {given}"
                    row["name_kana"] = f"{surname_kana} {given_kana}"
                residents[index] = (atena, household, relation)
            else:
                index = rng.randrange(len(residents))
                atena, household, relation = residents[index]
                row |= {"change_code": kind, "atena_no": atena, "household_no": household}
                if kind == "C01":
                    postal, addr = address()
                    row |= {"relation": relation, "postal_code": postal, "address": addr}
                else:
                    if kind == "B01":
                        row["destination"] = "abroad" if rng.random() < 0.2 else "domestic"
                    # swap-remove: they are no longer residents
                    residents[index] = residents[-1]
                    residents.pop()
            mix[kind] += 1
            writer.writerow(row)
    return mix


def _cumulate(weights: tuple[int, ...]) -> list[int]:
    total, out = 0, []
    for w in weights:
        total += w
        out.append(total)
    return out


# --- worker: one backend, one process --------------------------------------------------------


def worker(file: Path, sample_file: Path, profile: bool) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kokuho.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from kokuho.interfaces import residents_changes
    from kokuho.interfaces.importer import file_import
    from kokuho.interfaces.layout import layout_read
    from kokuho.interfaces.models import ImportedRecord, QuarantinedRow
    from kokuho.interfaces.services import import_residents_changes

    call_command("migrate", verbosity=0, interactive=False)
    call_command("migrate", database="vault", verbosity=0, interactive=False)

    # Floor 1: decode, split and validate every row (what the importer does before any query).
    t0 = time.perf_counter()
    source, rows = layout_read(file, residents_changes.LAYOUT)
    valid = sum(1 for row in rows if row.record is not None)
    parse_s = time.perf_counter() - t0

    # Floor 2: the rows into a table in one statement batch — the cheapest possible write.
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_floor (line integer, record_id text, body text)")
    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO bench_floor (line, record_id, body) VALUES (%s, %s, %s)",
            [(line, cells[0], ",".join(cells)) for line, cells in source.lines],
        )
    insert_s = time.perf_counter() - t0

    # Floor 3: the importer's own pipeline (ledger, batches, chunked commits, quarantine)
    # with services that do nothing; its ledger is emptied again afterwards.
    noop = dataclasses.replace(
        residents_changes.IMPORTER,
        apply=lambda record, ctx: None,
        apply_batch=lambda records: [None] * len(records),
    )
    t0 = time.perf_counter()
    file_import(noop, path=file, actor=None, progress=False)
    pipeline_s = time.perf_counter() - t0
    ImportedRecord.objects.all().delete()
    QuarantinedRow.objects.all().delete()

    # The row-by-row path (the reference the batches are tested against), on a sample file
    # of other residents so that it leaves the main file's residents untouched.
    t0 = time.perf_counter()
    sample = file_import(
        residents_changes.IMPORTER, path=sample_file, actor=None, progress=False, batch=False
    )
    row_s = time.perf_counter() - t0

    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    t0 = time.perf_counter()
    summary = import_residents_changes(path=file, actor=None, progress=False)
    import_s = time.perf_counter() - t0
    if profiler is not None:
        import pstats

        profiler.disable()
        for order in ("tottime", "cumulative"):
            print(f"--- profile ({connection.vendor}) by {order}", file=sys.stderr)
            pstats.Stats(profiler, stream=sys.stderr).sort_stats(order).print_stats(30)

    n = len(source.lines)
    result = {
        "vendor": connection.vendor,
        "events": n,
        "valid": valid,
        "applied": summary.applied,
        "quarantined": summary.quarantined_total,
        "quarantined_by_reason": dict(summary.quarantined),
        "import_s": import_s,
        "parse_s": parse_s,
        "insert_s": insert_s,
        "pipeline_s": pipeline_s,
        "pipeline_eps": n / pipeline_s,
        "row_events": sample.read,
        "row_eps": sample.read / row_s,
        "batches_redone": summary.batches_redone,
        "eps": n / import_s,
        "parse_eps": n / parse_s,
        "insert_eps": n / insert_s,
    }
    print(MARKER + json.dumps(result, ensure_ascii=False), flush=True)


# --- parent: databases, one worker per backend, the report ------------------------------------


def _pg_admin(statements: list[str]) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def _pg_create() -> None:
    _pg_drop()
    _pg_admin([f"CREATE DATABASE {PG_DB}", f"CREATE DATABASE {PG_VAULT_DB}"])


def _pg_drop() -> None:
    _pg_admin([f"DROP DATABASE IF EXISTS {name} WITH (FORCE)" for name in (PG_DB, PG_VAULT_DB)])


def run_backend(backend: str, file: Path, sample: Path, workdir: Path, profile: bool) -> dict:
    env = dict(os.environ)
    env["KOKUHO_VAR_DIR"] = str(workdir)
    env.setdefault("KOKUHO_SECRET_KEY", "bench-only-not-secret")
    if backend == "sqlite":
        env["KOKUHO_DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
        env["KOKUHO_VAULT_DATABASE_URL"] = f"sqlite:///{workdir / 'bench-vault.sqlite3'}"
    else:
        _pg_create()
        env["KOKUHO_DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:5432/{PG_DB}"
        env["KOKUHO_VAULT_DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:5432/{PG_VAULT_DB}"
    command = [sys.executable, __file__, "--worker", str(file), "--sample", str(sample)]
    if profile:
        command.append("--profile")
    try:
        done = subprocess.run(  # noqa: S603 (our own script, fixed arguments)
            command, env=env, cwd=ROOT, capture_output=True, text=True, check=False
        )
    finally:
        if backend == "postgresql":
            _pg_drop()
    sys.stderr.write(done.stderr)
    if done.returncode != 0:
        raise SystemExit(f"{backend}: worker failed (exit {done.returncode})")
    line = next(x for x in done.stdout.splitlines() if x.startswith(MARKER))
    return json.loads(line[len(MARKER) :])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", action="store_true", help="cProfile the real import")
    parser.add_argument(
        "--row-sample", type=int, default=2000, help="events imported row by row, for comparison"
    )
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--sample", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.sample, args.profile)
        return

    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="kokuho-bench-") as tmp:
        workdir = Path(tmp)
        file = workdir / "residents-changes.csv"
        t0 = time.perf_counter()
        mix = generate(file, args.events, args.seed)
        sample = workdir / "sample.csv"
        generate(sample, args.row_sample, args.seed + 1, atena_from=900_000_001, prefix="S")
        print(
            f"generated {args.events:,} events in {time.perf_counter() - t0:.1f}s: "
            + ", ".join(f"{k} {v:,}" for k, v in mix.items())
        )
        for backend in args.backends.split(","):
            print(f"[{backend}] importing …", flush=True)
            r = run_backend(backend, file, sample, workdir, args.profile)
            results[backend] = r
            print(
                f"[{backend}] {r['eps']:,.0f} events/s ({r['import_s']:.1f}s; applied "
                f"{r['applied']:,}, quarantined {r['quarantined']:,} {r['quarantined_by_reason']})"
            )
            print(
                f"[{backend}] floor parse+validate {r['parse_eps']:,.0f} events/s "
                f"(×{r['parse_eps'] / r['eps']:,.0f} the importer); bare executemany "
                f"{r['insert_eps']:,.0f} rows/s (×{r['insert_eps'] / r['eps']:,.0f}); importer "
                f"pipeline with no-op services {r['pipeline_eps']:,.0f} events/s "
                f"(×{r['pipeline_eps'] / r['eps']:,.1f})"
            )
            print(
                f"[{backend}] row-by-row path (the reference) on {r['row_events']:,} other events: "
                f"{r['row_eps']:,.0f} events/s — batches ×{r['eps'] / r['row_eps']:,.1f}; "
                f"batches redone row by row: {r['batches_redone']}"
            )
    fields = [f"events={args.events}"]
    for backend, r in results.items():
        fields += [
            f"{backend}_eps={r['eps']:.0f}",
            f"{backend}_applied={r['applied']}",
            f"{backend}_quarantined={r['quarantined']}",
            f"{backend}_floor_parse_eps={r['parse_eps']:.0f}",
            f"{backend}_floor_insert_eps={r['insert_eps']:.0f}",
            f"{backend}_ratio_parse={r['eps'] / r['parse_eps']:.4f}",
            f"{backend}_ratio_insert={r['eps'] / r['insert_eps']:.4f}",
            f"{backend}_floor_pipeline_eps={r['pipeline_eps']:.0f}",
            f"{backend}_ratio_pipeline={r['eps'] / r['pipeline_eps']:.4f}",
            f"{backend}_row_by_row_eps={r['row_eps']:.0f}",
            f"{backend}_speedup_vs_row_by_row={r['eps'] / r['row_eps']:.1f}",
            f"{backend}_batches_redone={r['batches_redone']}",
        ]
    if "postgresql" in results:
        fields += [
            f"target_pg_eps={TARGET_PG_EPS}",
            f"meets_target={'yes' if results['postgresql']['eps'] >= TARGET_PG_EPS else 'no'}",
        ]
    print("RESULT " + " ".join(fields))


if __name__ == "__main__":
    main()
