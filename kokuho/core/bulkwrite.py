"""Bulk row writes below the ORM, for the loaders and batch jobs that write many rows.

Django's `bulk_create`/`bulk_update` build a model instance and an SQL expression per value:
for the tens of thousands of rows of a 住基異動 batch that was most of the time (measured with
cProfile in bench/import_changes.py: `bulk_update`'s CASE expressions alone were a quarter).
These writers take plain tuples instead:

* `insert` — `executemany` of one INSERT (SQLite, any backend); on PostgreSQL a binary COPY,
  several times faster again;
* `update` — `executemany` of one UPDATE by primary key (psycopg runs it pipelined).

Values are prepared with each field's own `get_db_prep_save` unless the caller says they are
ready (`prepared=True`, the demo loader's pre-serialised rows), so types (dates, JSON, foreign
keys as ids) are converted exactly as the ORM would.
"""

import json
from collections.abc import Callable, Sequence
from typing import Any

from django.db import models
from psycopg.types.json import set_json_dumps

Row = Sequence[Any]


def _json_text_as_is(value: Any) -> str:
    # Prepared rows hand over JSON already serialised; anything else is dumped here.
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


class RowWriter:
    """INSERT/UPDATE with executemany (SQLite, and any other backend)."""

    # Django keeps dates on SQLite as ISO text; callers preparing their own rows hand over
    # text, which skips sqlite3's per-value adapter lookup.
    dates_as_text = False

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.quote = connection.ops.quote_name

    def _fields(self, model: type[models.Model], names: Sequence[str]) -> list[Any]:
        return [model._meta.get_field(name) for name in names]

    def _converter(self, field: Any) -> Callable[[Any], Any] | None:
        """How one field's values are made ready for the database (None: as they are)."""
        connection = self.connection
        return lambda value: field.get_db_prep_save(value, connection)

    def _prepare(self, fields: list[Any], rows: Sequence[Row]) -> Sequence[Row]:
        steps = [(i, c) for i, f in enumerate(fields) if (c := self._converter(f)) is not None]
        if not steps:
            return rows
        prepared = []
        for row in rows:
            values = list(row)
            for i, convert in steps:
                values[i] = convert(values[i])
            prepared.append(values)
        return prepared

    def insert(
        self,
        model: type[models.Model],
        names: Sequence[str],
        rows: Sequence[Row],
        *,
        prepared: bool = False,
    ) -> None:
        if not rows:
            return
        fields = self._fields(model, names)
        values = rows if prepared else self._prepare(fields, rows)
        table = self.quote(model._meta.db_table)
        columns = ", ".join(self.quote(f.column) for f in fields)
        placeholders = ", ".join(["%s"] * len(fields))
        # Identifiers come from the model's meta and are quoted; values are parameters.
        sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608
        with self.connection.cursor() as cursor:
            cursor.executemany(sql, values)

    def allocate_ids(self, model: type[models.Model], count: int) -> list[int] | None:
        """Primary keys for `count` new rows, or None where the backend cannot hand them
        out ahead (then the caller inserts through the ORM, which returns them)."""
        return None

    def create_rows(
        self, model: type[models.Model], names: Sequence[str], rows: Sequence[Row]
    ) -> list[int]:
        """Insert plain rows (foreign keys as ids) and return their new primary keys, in
        order — without a model instance per row where the backend hands out ids ahead."""
        if not rows:
            return []
        ids = self.allocate_ids(model, len(rows))
        if ids is None:
            attnames = [model._meta.get_field(name).attname for name in names]
            objs = [model(**dict(zip(attnames, row, strict=True))) for row in rows]
            return [obj.pk for obj in model.objects.bulk_create(objs)]
        self.insert(
            model,
            [model._meta.pk.name, *names],
            [(pk, *row) for pk, row in zip(ids, rows, strict=True)],
        )
        return ids

    def create(self, model: type[models.Model], objs: list[Any], names: Sequence[str]) -> None:
        """Insert model instances and set their primary keys (`names`: the fields to write;
        foreign keys must already hold their ids)."""
        if not objs:
            return
        ids = self.allocate_ids(model, len(objs))
        if ids is None:
            model.objects.bulk_create(objs)
            return
        attnames = [model._meta.get_field(name).attname for name in names]
        rows = []
        for obj, pk in zip(objs, ids, strict=True):
            obj.pk = pk
            obj._state.adding = False
            rows.append((pk, *(getattr(obj, a) for a in attnames)))
        self.insert(model, [model._meta.pk.name, *names], rows)

    def update(self, model: type[models.Model], names: Sequence[str], rows: Sequence[Row]) -> None:
        """`rows` are (value, …, pk): the fields `names` set on the row with that pk."""
        if not rows:
            return
        meta = model._meta
        fields = self._fields(model, names)
        values = [
            (*prepared, pk)
            for prepared, pk in zip(
                self._prepare(fields, [row[:-1] for row in rows]),
                (row[-1] for row in rows),
                strict=True,
            )
        ]
        assignments = ", ".join(f"{self.quote(f.column)} = %s" for f in fields)
        table, pk = self.quote(meta.db_table), self.quote(meta.pk.column)
        sql = f"UPDATE {table} SET {assignments} WHERE {pk} = %s"  # noqa: S608
        with self.connection.cursor() as cursor:
            cursor.executemany(sql, values)


class SqliteRowWriter(RowWriter):
    dates_as_text = True

    def allocate_ids(self, model: type[models.Model], count: int) -> list[int] | None:
        """After the largest id ever given (AUTOINCREMENT's sqlite_sequence included). Safe
        because Kokuho's SQLite transactions are IMMEDIATE (settings): the writer holds the
        database's write lock from BEGIN, so no one else inserts in between."""
        if not self.connection.in_atomic_block:
            return None  # outside a transaction the lock is not ours: let the ORM insert
        table, q = model._meta.db_table, self.quote
        # Identifiers from the model's meta, quoted. Django's SQLite AutoFields are
        # AUTOINCREMENT, so sqlite_sequence exists in every migrated database.
        sql = (
            f"SELECT MAX({q(model._meta.pk.column)}), "  # noqa: S608
            f"(SELECT seq FROM sqlite_sequence WHERE name = %s) FROM {q(table)}"
        )
        with self.connection.cursor() as cursor:
            cursor.execute(sql, [table])
            largest, sequence = cursor.fetchone()
        largest = max(largest or 0, sequence or 0)
        return list(range(largest + 1, largest + 1 + count))

    def _converter(self, field: Any) -> Callable[[Any], Any] | None:
        # sqlite3 takes str, int, float, bytes and None; only these fields need converting
        # (get_db_prep_save on every value was a fifth of a batch's time).
        if isinstance(field, models.DateTimeField | models.DateField | models.JSONField):
            return super()._converter(field)
        return None


_PG_TYPES: dict[str, dict[tuple[str, str], int]] = {}
_PG_UPDATE_SQL: dict[str, dict[str, str]] = {}


class PostgresRowWriter(RowWriter):
    """INSERT as COPY … FROM STDIN (FORMAT BINARY): several times faster than INSERT, and
    binary rows cost the client a fifth of the CPU of text rows (measured: 0.4 s vs 2.3 s per
    860,000 income rows).

    No value is converted: psycopg adapts Python values itself and COPY is told each
    column's type, so dates, aware datetimes, ints, str (and str enums) and bools go as they
    are; JSON goes through the cursor's dumps (`_json_text_as_is`)."""

    def _converter(self, field: Any) -> Callable[[Any], Any] | None:
        return None

    def _column_type_names(self, table: str, columns: list[str]) -> list[str]:
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                [table],
            )
            names = dict(cursor.fetchall())
        return [names[c] for c in columns]

    def update(self, model: type[models.Model], names: Sequence[str], rows: Sequence[Row]) -> None:
        """One UPDATE … FROM unnest(arrays) for all rows: a single statement instead of one
        per row (the server's per-statement work was most of a batch's waiting)."""
        if not rows:
            return
        meta = model._meta
        columns = [f.column for f in self._fields(model, names)]
        key = f"{meta.db_table}:{','.join(columns)}"
        if key not in self._update_sql:
            types = self._column_type_names(meta.db_table, [*columns, meta.pk.column])
            q = self.quote
            assignments = ", ".join(f"{q(c)} = v.{q(c)}" for c in columns)
            arrays = ", ".join(f"%s::{t}[]" for t in types)
            aliases = ", ".join([*(q(c) for c in columns), "kokuho_pk"])
            self._update_sql[key] = (
                f"UPDATE {q(meta.db_table)} AS t SET {assignments} "  # noqa: S608
                f"FROM unnest({arrays}) AS v({aliases}) WHERE t.{q(meta.pk.column)} = v.kokuho_pk"
            )
        with self.connection.cursor() as cursor:
            cursor.execute(self._update_sql[key], [list(c) for c in zip(*rows, strict=True)])

    def allocate_ids(self, model: type[models.Model], count: int) -> list[int] | None:
        # One round trip for all of them; the identity sequence never hands an id out twice.
        meta = model._meta
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, meta.pk.column, count],
            )
            return [row[0] for row in cursor.fetchall()]

    def __init__(self, connection: Any) -> None:
        super().__init__(connection)
        # Column types change only with a migration: kept per database for the process.
        database = connection.settings_dict["NAME"]
        self._types = _PG_TYPES.setdefault(database, {})
        self._update_sql = _PG_UPDATE_SQL.setdefault(database, {})

    def _column_types(self, table: str, columns: list[str]) -> list[int]:
        """Type OIDs of the columns, as binary COPY needs them."""
        if any((table, c) not in self._types for c in columns):
            with self.connection.cursor() as cursor:
                cursor.execute(
                    "SELECT attname, atttypid FROM pg_attribute "
                    "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                    [table],
                )
                for name, oid in cursor.fetchall():
                    self._types[table, name] = oid
        return [self._types[table, c] for c in columns]

    def insert(
        self,
        model: type[models.Model],
        names: Sequence[str],
        rows: Sequence[Row],
        *,
        prepared: bool = False,
    ) -> None:
        if not rows:
            return
        fields = self._fields(model, names)
        values = rows if prepared else self._prepare(fields, rows)
        meta = model._meta
        columns = [f.column for f in fields]
        types = self._column_types(meta.db_table, columns)
        quoted = ", ".join(map(self.quote, columns))
        sql = f"COPY {self.quote(meta.db_table)} ({quoted}) FROM STDIN (FORMAT BINARY)"
        with self.connection.cursor() as cursor:
            pg_cursor = cursor.cursor
            # Only this cursor: jsonb columns receive prepared JSON text as it is.
            set_json_dumps(_json_text_as_is, context=pg_cursor)
            with pg_cursor.copy(sql) as copy:
                copy.set_types(types)
                write_row = copy.write_row
                for row in values:
                    write_row(row)


def row_writer(connection: Any) -> RowWriter:
    """The fastest writer for the connection's database."""
    if connection.vendor == "postgresql":
        return PostgresRowWriter(connection)
    if connection.vendor == "sqlite":
        return SqliteRowWriter(connection)
    return RowWriter(connection)


# --- the planner's statistics of tables a job grows --------------------------------------------

# A run analyses the tables it grows once it has written this many rows since the last
# analysis, and the table has grown by half again: ANALYZE samples a fixed ~30,000 rows,
# so on a table of millions it costs a fraction of a second, while a plan made on the
# statistics of an empty table can turn a 5 ms lookup into a 0.4 s scan (measured: the
# claims importer's ledger at 1.4 million rows, issue 18).
ANALYZE_MIN_ROWS = 20_000
ANALYZE_GROWTH = 1.5


def tables_analyze(connection: Any, tables: Sequence[type[models.Model]]) -> None:
    """ANALYZE the models' tables on PostgreSQL (a no-op elsewhere: SQLite's planner does not
    turn away from an index for want of statistics)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def _table_statistics(
    connection: Any, tables: Sequence[type[models.Model]]
) -> list[tuple[str, float, int]]:
    """(table, rows at the last analysis (−1: never analysed), rows changed since) of the
    models' tables in the current schema, by name (PostgreSQL)."""
    names = sorted({model._meta.db_table for model in tables})
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, c.reltuples, coalesce(s.n_mod_since_analyze, 0) "
            "FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid "
            "WHERE c.relname = ANY(%s) AND c.relkind = 'r' "
            "AND c.relnamespace = to_regnamespace(current_schema())::oid ORDER BY c.relname",
            [names],
        )
        return [(name, float(rows), int(changed)) for name, rows, changed in cursor.fetchall()]


def stale_tables_analyze(connection: Any, tables: Sequence[type[models.Model]]) -> list[str]:
    """ANALYZE those of the tables PostgreSQL never analysed or that changed by half since
    (plus 1,000 rows); their names. What a job that reads by lists of ids runs at its start
    on a server that may have no autovacuum. A no-op elsewhere."""
    if connection.vendor != "postgresql":
        return []
    stale = [
        name
        for name, rows, changed in _table_statistics(connection, tables)
        if rows < 0 or changed > max(rows, 0) / 2 + 1000
    ]
    with connection.cursor() as cursor:
        for name in stale:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(name)}")
    return stale


class StatisticsKeeper:
    """Keeps the statistics of the tables a long bulk job fills fresh while it fills them.

    Autovacuum would, on a server that runs it, but only between its naps and thresholds,
    and a server may run without it (this project's development machine does): until the
    first analysis PostgreSQL plans a table it has never analysed from defaults that call
    any equality selective, so a lookup of 1,000 record ids by (kind, record_id) was planned
    as a scan of every row of that kind. `wrote(n)` after each committed chunk; the tables
    are analysed when the rows written since the last analysis reach both `min_rows` and
    (growth − 1) × the rows the tables held then."""

    def __init__(
        self,
        connection: Any,
        tables: Sequence[type[models.Model]],
        *,
        min_rows: int | None = None,
        growth: float = ANALYZE_GROWTH,
    ) -> None:
        self.connection = connection
        self.tables = tuple(dict.fromkeys(tables))
        self.min_rows = ANALYZE_MIN_ROWS if min_rows is None else min_rows
        self.growth = growth
        self.pending = 0
        self.analyses = 0
        self.base = self._estimate() if connection.vendor == "postgresql" else 0

    def _estimate(self) -> int:
        """The rows the largest table held at its last analysis (0 when never analysed)."""
        statistics = _table_statistics(self.connection, self.tables)
        return int(max((max(rows, 0) for _, rows, _ in statistics), default=0))

    def wrote(self, rows: int) -> bool:
        """Count rows written (and committed); True when the tables were analysed now."""
        if self.connection.vendor != "postgresql" or not self.tables:
            return False
        self.pending += rows
        if self.pending < max(self.min_rows, (self.growth - 1) * self.base):
            return False
        tables_analyze(self.connection, self.tables)
        self.base += self.pending
        self.pending = 0
        self.analyses += 1
        return True
