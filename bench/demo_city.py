"""Benchmark the demo city (デモ市): generation and loading, on SQLite and on PostgreSQL.

    .venv/bin/python bench/demo_city.py [--residents 1000000] [--backends sqlite,postgresql]

Each backend runs in a child process of this script (Django reads its settings once): a fresh
database (SQLite files in a temporary directory; PostgreSQL databases named kokuho_bench_*,
created and dropped here), migrated, then timed:

* generation — ``city_generate`` (pure Python), residents per second;
* load — ``city_load`` into the real schema (all tables, indexes, constraints, history,
  coverage, income, audit), residents per second;
* floor — the same person rows written the fastest plain way into a bare table with the same
  columns and no index or constraint (sqlite3 ``executemany`` / psycopg ``COPY``), in the same
  run. ``floor_ratio`` = load time / floor time: how far the full load is from just moving the
  person rows into the database.

The household count is chosen from a pilot generation so that the city has about the
requested number of residents. The last line of output is ``RESULT key=value ...``.
"""

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = os.environ.get("KOKUHO_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
PILOT_HOUSEHOLDS = 20_000
CHILD_MARK = "BENCH_JSON "


# --- child: one backend ----------------------------------------------------------------------


def _households_for(residents: int, seed: int, on: date) -> int:
    from kokuho.demo.city import city_generate

    pilot = city_generate(households=PILOT_HOUSEHOLDS, seed=seed, on=on)
    return max(1, round(residents * PILOT_HOUSEHOLDS / len(pilot.people)))


def _person_rows() -> tuple[list[str], list[tuple[Any, ...]]]:
    """The loaded person rows, read back in column order (what the floor writes again)."""
    from kokuho.people.models import Person

    fields = [f for f in Person._meta.concrete_fields]
    columns = [f.column for f in fields]
    rows = list(Person.objects.order_by("id").values_list(*[f.attname for f in fields]))
    return columns, rows


def _sqlite_floor(directory: Path, columns: list[str], rows: list[tuple[Any, ...]]) -> float:
    # Same journal settings as kokuho.settings; dates as ISO text, as Django stores them.
    prepared = [tuple(v.isoformat() if isinstance(v, date) else v for v in row) for row in rows]
    db = sqlite3.connect(directory / "floor.sqlite3", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(f"CREATE TABLE floor_person ({', '.join(columns)})")
    sql = f"INSERT INTO floor_person VALUES ({', '.join('?' * len(columns))})"  # noqa: S608
    started = time.perf_counter()
    db.execute("BEGIN")
    db.executemany(sql, prepared)
    db.execute("COMMIT")
    elapsed = time.perf_counter() - started
    db.close()
    return elapsed


def _pg_floor(url: str, columns: list[str], rows: list[tuple[Any, ...]]) -> float:
    import psycopg

    with psycopg.connect(url) as conn:
        # LIKE copies the columns and their types only: no index, key or constraint.
        conn.execute("CREATE TABLE floor_person (LIKE people_person)")
        conn.commit()
        started = time.perf_counter()
        sql = f"COPY floor_person ({', '.join(columns)}) FROM STDIN"
        with conn.cursor() as cursor, cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
        conn.commit()
        return time.perf_counter() - started


def run_child(backend: str, residents: int, seed: int, on: date, workdir: Path) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kokuho.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from kokuho.demo.city import city_generate, city_load

    call_command("migrate", verbosity=0)
    call_command("migrate", database="vault", verbosity=0)
    households = _households_for(residents, seed, on)

    started = time.perf_counter()
    data = city_generate(households=households, seed=seed, on=on)
    generate_s = time.perf_counter() - started
    stats = city_load(data, source="bench", progress=False)
    load_s = stats.seconds

    columns, rows = _person_rows()
    if backend == "sqlite":
        floor_s = _sqlite_floor(workdir, columns, rows)
    else:
        floor_s = _pg_floor(os.environ["KOKUHO_DATABASE_URL"], columns, rows)
    result = {
        "backend": backend,
        "households": households,
        "residents": len(data.people),
        "rows": stats.households
        + stats.residents
        + stats.person_histories
        + stats.household_histories
        + stats.coverages
        + stats.incomes,
        "generate_s": generate_s,
        "load_s": load_s,
        "floor_s": floor_s,
    }
    print(CHILD_MARK + json.dumps(result), flush=True)


# --- parent ----------------------------------------------------------------------------------


def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def _run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="kokuho-bench-") as tmp:
        workdir = Path(tmp)
        env = {**os.environ, "KOKUHO_VAR_DIR": str(workdir), "KOKUHO_SECRET_KEY": "bench"}
        databases: list[str] = []
        if backend == "sqlite":
            env["KOKUHO_DATABASE_URL"] = f"sqlite:///{workdir / 'kokuho.sqlite3'}"
            env["KOKUHO_VAULT_DATABASE_URL"] = f"sqlite:///{workdir / 'vault.sqlite3'}"
        else:
            name = f"kokuho_bench_{os.getpid()}"
            databases = [name, f"{name}_vault"]
            for db in databases:
                _pg_admin(f'DROP DATABASE IF EXISTS "{db}"')
                _pg_admin(f'CREATE DATABASE "{db}"')
            env["KOKUHO_DATABASE_URL"] = f"{PG_SERVER}/{databases[0]}"
            env["KOKUHO_VAULT_DATABASE_URL"] = f"{PG_SERVER}/{databases[1]}"
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            backend,
            "--residents",
            str(args.residents),
            "--seed",
            str(args.seed),
            "--on",
            args.on,
            "--workdir",
            str(workdir),
        ]
        try:
            done = subprocess.run(  # noqa: S603 — our own script, fixed arguments
                command, cwd=ROOT, env=env, capture_output=True, text=True, check=False
            )
        finally:
            for db in databases:
                _pg_admin(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"{backend}: the benchmark child failed (exit {done.returncode})")
    for line in done.stdout.splitlines():
        if line.startswith(CHILD_MARK):
            return json.loads(line[len(CHILD_MARK) :])
    raise SystemExit(f"{backend}: no result from the benchmark child")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--on", default="2026-04-01", help="基準日 (fixed, for comparable runs)")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--child", choices=["sqlite", "postgresql"], help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    on = date.fromisoformat(args.on)
    if args.child:
        sys.path.insert(0, str(ROOT))
        run_child(args.child, args.residents, args.seed, on, Path(args.workdir))
        return

    results = {}
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        print(f"== {backend}: {args.residents:,} residents …", flush=True)
        results[backend] = r = _run_backend(backend, args)
        print(
            f"   {r['households']:,} households, {r['residents']:,} residents, "
            f"{r['rows']:,} rows in all tables\n"
            f"   generate {r['generate_s']:7.1f} s  {r['residents'] / r['generate_s']:>10,.0f} "
            f"residents/s\n"
            f"   load     {r['load_s']:7.1f} s  {r['residents'] / r['load_s']:>10,.0f} "
            f"residents/s  ({r['rows'] / r['load_s']:,.0f} rows/s)\n"
            f"   floor    {r['floor_s']:7.1f} s  {r['residents'] / r['floor_s']:>10,.0f} "
            f"residents/s  (person rows only, bare table)\n"
            f"   load / floor = {r['load_s'] / r['floor_s']:.1f}",
            flush=True,
        )

    first = next(iter(results.values()))
    fields = {
        "residents": first["residents"],
        "households": first["households"],
        "gen_per_s": round(min(r["residents"] / r["generate_s"] for r in results.values())),
    }
    short = {"sqlite": "sqlite", "postgresql": "pg"}
    for backend, r in results.items():
        fields[f"{short[backend]}_load_s"] = round(r["load_s"], 1)
        fields[f"{short[backend]}_load_per_s"] = round(r["residents"] / r["load_s"])
        fields[f"{short[backend]}_floor_ratio"] = round(r["load_s"] / r["floor_s"], 2)
    print("RESULT " + " ".join(f"{key}={value}" for key, value in fields.items()))


if __name__ == "__main__":
    main()
