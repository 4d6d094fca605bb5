"""Database triggers that make history and audit tables append-only.

PostgreSQL refuses UPDATE and DELETE, except inside a transaction that has declared itself
the retention erasure job (`SET LOCAL kokuho.retention_erasure = 'on'`); TRUNCATE (used only
by test teardown) is not a row operation. SQLite refuses UPDATE; it cannot refuse DELETE
without also breaking Django's test flush, so there deletions are caught by the audit hash
chain and by the history tests instead. Written once here, used by each app's migration.
"""

from typing import Any

from django.db import migrations

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION kokuho_append_only() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('kokuho.retention_erasure', true) = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'append-only table %: % refused', TG_TABLE_NAME, TG_OP;
END $$ LANGUAGE plpgsql;
"""


def sqlite_trigger_sql(table: str) -> str:
    """The SQLite trigger that refuses UPDATE on `table` (also used by tests that put it
    back after tampering on purpose)."""
    return (
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'append-only table {table}: UPDATE refused'); END"
    )


def _create(table: str) -> Any:
    def forwards(apps: Any, schema_editor: Any) -> None:
        connection = schema_editor.connection
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(_PG_FUNCTION)
                cursor.execute(
                    f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                    "FOR EACH ROW EXECUTE FUNCTION kokuho_append_only()"
                )
            elif connection.vendor == "sqlite":
                cursor.execute(sqlite_trigger_sql(table))

    return forwards


def _drop(table: str) -> Any:
    def backwards(apps: Any, schema_editor: Any) -> None:
        connection = schema_editor.connection
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            elif connection.vendor == "sqlite":
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only")

    return backwards


def append_only(*tables: str) -> list[migrations.RunPython]:
    return [migrations.RunPython(_create(t), _drop(t)) for t in tables]
