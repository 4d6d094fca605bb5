"""A schema template restored is the schema a migrate gives, and is never used stale."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db.migrations.loader import MigrationLoader

from kokuho.core import schema_template
from kokuho.core.schema_template import fingerprint_files

pytestmark = pytest.mark.database_independent

ROOT = Path(__file__).resolve().parents[3]

# Run in a process of its own on two in-memory databases (what `kokuho scenario run` uses):
# bring both to the schema, then print what each holds — every schema object with its SQL,
# every applied migration, every row of the tables the migrations fill.
PROBE = """
import json, sys
import django
django.setup()
from django.db import connections
from kokuho.core.schema_template import migrate_from_template
out = {}
for alias in ("default", "vault"):
    restored = migrate_from_template(alias)
    cursor = connections[alias].cursor()
    cursor.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name")
    schema = cursor.fetchall()
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
    migrations = cursor.fetchall()
    rows = {}
    for (table,) in cursor.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND name != 'django_migrations' ORDER BY name"
    ).fetchall():
        rows[table] = sorted(map(repr, cursor.execute(f'SELECT * FROM "{table}"').fetchall()))
    out[alias] = {"restored": restored, "schema": schema, "migrations": migrations, "rows": rows}
json.dump(out, sys.stdout)
"""


def _probe(cache: Path) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kokuho.settings",
        "KOKUHO_DATABASE_URL": "sqlite://:memory:",
        "KOKUHO_VAULT_DATABASE_URL": "sqlite://:memory:",
        "KOKUHO_CACHE_DIR": str(cache),
        "KOKUHO_SECRET_KEY": "test",
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def test_the_restored_template_holds_exactly_what_migrating_gives(tmp_path):
    migrated = _probe(tmp_path)
    assert [migrated[a]["restored"] for a in ("default", "vault")] == [False, False]
    assert len(list(tmp_path.glob("schema-*.sqlite3"))) == 2
    restored = _probe(tmp_path)
    assert [restored[a]["restored"] for a in ("default", "vault")] == [True, True]
    for alias in ("default", "vault"):
        for part in ("schema", "migrations", "rows"):
            assert restored[alias][part] == migrated[alias][part], (alias, part)
    # Not trivially equal: the schema has the tables and the triggers the migrations make.
    types = {kind for kind, *_ in migrated["default"]["schema"]}
    assert {"table", "index", "trigger"} <= types
    assert len(migrated["default"]["migrations"]) > 100


def test_any_change_to_a_file_that_decides_the_schema_names_another_template(tmp_path, monkeypatch):
    """The template's name carries the fingerprint, so a template made before a migration
    was added, edited or removed — or the router changed — is never the one restored."""
    copies = []
    for index, path in enumerate(fingerprint_files()[:5]):
        copy = tmp_path / str(index) / "migrations" / path.name
        copy.parent.mkdir(parents=True)
        copy.write_bytes(path.read_bytes())
        copies.append(copy)
    monkeypatch.setattr(schema_template, "fingerprint_files", lambda: list(copies))
    monkeypatch.setenv("KOKUHO_CACHE_DIR", str(tmp_path / "cache"))
    names = {schema_template._template_path("default")}
    copies[2].write_bytes(copies[2].read_bytes() + b"\n# edited\n")
    names.add(schema_template._template_path("default"))
    added = tmp_path / "9" / "migrations" / "0099_more.py"
    added.parent.mkdir(parents=True)
    added.write_text("# a new migration\n")
    copies.append(added)
    names.add(schema_template._template_path("default"))
    copies.pop(0)
    names.add(schema_template._template_path("default"))
    assert len(names) == 4
    assert all(path.parent == tmp_path / "cache" for path in names)


def test_the_fingerprint_covers_every_migration_on_disk():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    on_disk = {
        (Path(sys.modules[type(m).__module__].__file__).resolve())
        for m in loader.disk_migrations.values()
    }
    covered = {path.resolve() for path in fingerprint_files()}
    assert on_disk <= covered
    assert any(path.name == "dbrouter.py" for path in covered)
