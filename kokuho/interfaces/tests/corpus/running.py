"""The corpus' shared setup and measurements: the base data once per module (inside a
transaction that is rolled back at the end, like `setUpTestData`), row counts of every
business table in one query, and the search for a generated My Number in what was kept."""

import contextlib
from collections.abc import Iterator
from pathlib import Path

from django.apps import apps
from django.db import connection, models, router, transaction
from django.db.models.functions import Cast
from django.test import override_settings

from kokuho.interfaces.tests.corpus.formats import Base, base_build


@contextlib.contextmanager
def base_data(directory: Path) -> Iterator[Base]:
    """The base data inside an open transaction on the business database: each test's own
    transaction is a savepoint within it, and all of it is rolled back at the end."""
    with override_settings(
        KOKUHO_PAYMENT_DIR=directory / "payments",
        KOKUHO_NATIONAL_DIR=directory / "national",
        KOKUHO_INSURER_NUMBER="389999",
    ):
        atomic = transaction.atomic(using="default")
        atomic.__enter__()
        try:
            yield base_build()
        finally:
            transaction.set_rollback(True, using="default")
            atomic.__exit__(None, None, None)


def business_models() -> list[type[models.Model]]:
    return [
        m
        for m in apps.get_models()
        if m._meta.managed
        and not m._meta.proxy
        and router.db_for_write(m) == "default"
        and m._meta.app_label not in ("sessions", "django_tasks_database")
    ]


def table_counts() -> dict[str, int]:
    """Rows of every business table, in one query."""
    tables = sorted({m._meta.db_table for m in business_models()})
    quote = connection.ops.quote_name
    sql = " UNION ALL ".join(f"SELECT '{t}', COUNT(*) FROM {quote(t)}" for t in tables)  # noqa: S608 — table names from the models
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return dict(cursor.fetchall())


def count_changes(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {t: after[t] - before[t] for t in after if after[t] != before.get(t, 0)}


def kept_anywhere(value: str) -> list[str]:
    """Every business table and text/JSON column that holds `value` (as a substring)."""
    found = []
    for model in business_models():
        for f in model._meta.concrete_fields:
            if isinstance(f, models.JSONField):
                query = model.objects.annotate(_t=Cast(f.name, models.TextField())).filter(
                    _t__contains=value
                )
            elif isinstance(f, (models.CharField, models.TextField)):
                query = model.objects.filter(**{f"{f.name}__contains": value})
            else:
                continue
            if query.exists():
                found.append(f"{model._meta.db_table}.{f.column}")
    return found
