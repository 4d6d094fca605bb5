"""Small SQL functions that Django does not have in a form both databases agree on."""

from __future__ import annotations

from typing import Any

from django.db.models import DateField, Func, IntegerField, Value


class AddDays(Func):
    """`day + n` days, a date on both databases.

    Django's `date + timedelta` is a timestamp on PostgreSQL and a datetime string on SQLite
    (which a DateField then fails to read); PostgreSQL adds an integer to a date as days, and
    SQLite's `date()` takes a modifier."""

    output_field = DateField()

    def __init__(self, day: Any, days: int | Any, **extra: Any) -> None:
        if isinstance(days, int):
            days = Value(days, output_field=IntegerField())
        super().__init__(day, days, **extra)

    def as_sql(self, compiler, connection, **extra_context):  # type: ignore[override]
        return super().as_sql(compiler, connection, template="(%(expressions)s)", arg_joiner=" + ")

    def as_sqlite(self, compiler, connection, **extra_context):  # type: ignore[override]
        day_sql, day_params = compiler.compile(self.source_expressions[0])
        days_sql, days_params = compiler.compile(self.source_expressions[1])
        return f"date({day_sql}, printf('%%+d days', {days_sql}))", (*day_params, *days_params)
