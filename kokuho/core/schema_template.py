"""Migrated-schema templates: an empty SQLite database brought to the current schema by copy.

Running the project's 240-odd migrations costs about 25 s of CPU per database, nearly all of
it in rendering the historical model states, not in SQL. `kokuho scenario run` works on two
fresh in-memory databases every time (scenarios.md), so it paid that twice per call. Here the
first call migrates as before and keeps a copy of the result (SQLite's online backup); later
calls restore the copy into their new database. The copy is keyed by a fingerprint of every
installed app's migration files, the database router and Django's version, so any schema
change migrates afresh —
a stale template can never be used. Templates hold the schema and what the migrations
themselves insert (content types, permissions, event types), never business data.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import os
import sqlite3
import tempfile
from pathlib import Path

import django
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import connections


def cache_dir() -> Path:
    """Where templates live: shared by every clone's runs on this machine, outside `var/`
    (which tests and benchmarks point elsewhere per run)."""
    explicit = os.environ.get("KOKUHO_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kokuho"


def fingerprint_files() -> list[Path]:
    """What decides the schema a migrate gives: every installed app's migration files, and
    the database routers' modules (which tables go to the vault)."""
    files: list[Path] = []
    for config in sorted(apps.get_app_configs(), key=lambda c: c.label):
        folder = Path(config.path) / "migrations"
        if folder.is_dir():
            files.extend(sorted(folder.glob("*.py")))
    for dotted in settings.DATABASE_ROUTERS:
        module = importlib.import_module(str(dotted).rpartition(".")[0])
        files.append(Path(str(module.__file__)))
    return files


def schema_fingerprint() -> str:
    """A digest of `fingerprint_files` (names and contents) and Django's version."""
    digest = hashlib.sha256(django.get_version().encode())
    for path in fingerprint_files():
        digest.update(f"{path.parent.parent.name}/{path.parent.name}/{path.name}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


def _template_path(alias: str) -> Path:
    return cache_dir() / f"schema-{alias}-{schema_fingerprint()}.sqlite3"


def migrate_from_template(alias: str) -> bool:
    """Bring the empty SQLite database `alias` to the current schema.

    Restores the template when there is one (returns True), else migrates and stores the
    result as the template for the next call (returns False). Only for SQLite databases
    that are empty: a database with tables is migrated normally, as `migrate` would.
    """
    connection = connections[alias]
    if connection.vendor != "sqlite" or connection.introspection.table_names():
        call_command("migrate", database=alias, verbosity=0, interactive=False)
        return False
    connection.ensure_connection()
    template = _template_path(alias)
    if template.exists():
        with contextlib.closing(sqlite3.connect(template)) as source:
            source.backup(connection.connection)
        return True
    call_command("migrate", database=alias, verbosity=0, interactive=False)
    _store(connection.connection, template)
    return False


def _store(database: sqlite3.Connection, template: Path) -> None:
    """Write the template atomically: parallel runs may race to create the same one."""
    template.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=template.parent, suffix=".partial")
    os.close(handle)
    try:
        with contextlib.closing(sqlite3.connect(partial)) as target:
            database.backup(target)
        os.replace(partial, template)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
