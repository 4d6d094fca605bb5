"""GIN indexes for a person's access record: the list screens' events, found by the residents
and households they showed (JSON containment). PostgreSQL only: SQLite has no GIN and no
JSON containment (the access record reads the list's text there)."""

from django.db import migrations

INDEXES = (
    ("audit_persons_shown_gin", "persons_shown"),
    ("audit_households_shown_gin", "households_shown"),
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, key in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON audit_auditevent "
            f"USING gin ((extra -> '{key}') jsonb_path_ops) WHERE subject_type = 'system'"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _key in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("audit", "0020_work_assigned")]

    operations = [migrations.RunPython(create, drop)]
