"""The benchmarks' own PostgreSQL databases: created fresh, dropped afterwards.

Server from `KOKUHO_BENCH_PG` (default 127.0.0.1:5432, user postgres, trust auth)."""

import os

PG_SERVER = os.environ.get("KOKUHO_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")


def pg_admin(statements: list[str]) -> None:
    """Run statements on the server's maintenance database, outside a transaction."""
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def pg_drop(*names: str) -> None:
    pg_admin([f"DROP DATABASE IF EXISTS {name} WITH (FORCE)" for name in names])


def pg_create(*names: str) -> None:
    """Fresh databases: any left by an earlier run are dropped first."""
    pg_drop(*names)
    pg_admin([f"CREATE DATABASE {name}" for name in names])
