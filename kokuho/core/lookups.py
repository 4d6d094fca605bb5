"""`field__among=[…]`: membership in a long list of values as one bound array.

`field__in=ids` with thousands of ids writes one placeholder per id, and the driver then
scans the whole statement for them (psycopg's query split was a sixth of a city-wide
extract). On PostgreSQL `among` is `field = ANY(%s)` with the list as a single array
parameter, planned the same way (an index scan per value, or a hash of the array); on other
databases it falls back to `IN (…)`, whose statements stay small in the chunk sizes our
batches use.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db.models import Field, ForeignObject, Lookup


class Among(Lookup):
    lookup_name = "among"
    prepare_rhs = False

    def get_prep_lookup(self) -> list[Any]:
        field = self.lhs.output_field
        return [field.get_prep_value(value) for value in self.rhs]

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = list(self.rhs)
        if not values:
            raise EmptyResultSet  # as `__in=[]`: the condition matches nothing
        if connection.vendor == "postgresql":
            literal, kind = _array_literal(values)
            if literal is not None:
                return f"{lhs} = ANY(%s::{kind}[])", [*lhs_params, literal]
            return f"{lhs} = ANY(%s)", [*lhs_params, values]
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*lhs_params, *values]


def _array_literal(values: list[Any]) -> tuple[str | None, str]:
    """The values as one PostgreSQL array literal when they are all integers or all text:
    the driver would otherwise quote the list element by element in Python, a few
    microseconds per id of a ten-thousand-id chunk."""
    if all(type(v) is int for v in values):
        return "{" + ",".join(map(str, values)) + "}", "bigint"
    if all(type(v) is str for v in values):
        quoted = ('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
        return "{" + ",".join(quoted) + "}", "text"
    return None, ""


def lookups_register() -> None:
    # A relation keeps its own lookups (ForeignObject.get_lookups stops at its class).
    Field.register_lookup(Among)
    ForeignObject.register_lookup(Among)
