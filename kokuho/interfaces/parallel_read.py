"""A long file's rows validated in worker processes (並列検証) while the importer applies them.

Validating a row — every column parsed, the My Number screen of the free fields, the
record checks — and hashing it for the ledger is pure CPU over the decoded file: for the
1.4 million claims of a city's month it was most of the importer's own time, on one core,
while the database's work waited behind it. Here forked workers validate slices of the
file's lines (they inherit the decoded file: nothing is pickled on the way in) and hand back
each slice's rows, digests included, in file order, at most `AHEAD` slices a worker ahead;
the importer's process meanwhile matches, applies and commits what came back. What the
importer sees is the sequence of rows `layout_rows` gives, row for row.

Workers never touch a database (`core.forking.connections_detach`). A short file — most of
what a counter uploads — is validated in the importer's own process: a fork is not worth it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

from django.conf import settings

from kokuho.core.forking import forked_map
from kokuho.interfaces.layout import Layout, ReadRow, SourceFile, layout_rows, row_hash

SLICE = 5_000  # lines a worker validates at a time
AHEAD = 2  # slices in flight per worker


def rows_validated(source: SourceFile, layout: Layout) -> Iterator[ReadRow]:
    """`layout_rows(source, layout)`, from worker processes when the file is long."""
    lines = len(source.lines)
    workers = min(settings.KOKUHO_IMPORT_WORKERS, -(-lines // SLICE))
    if workers <= 1 or lines < settings.KOKUHO_IMPORT_PARALLEL_MIN_LINES:
        yield from layout_rows(source, layout)
        return
    slices = forked_map(
        _worker_slice,
        range(0, lines, SLICE),
        workers=workers,
        ahead=AHEAD,
        initializer=_WORKER.update,
        initargs=({"source": source, "layout": layout},),
    )
    for rows in slices:
        yield from rows


_WORKER: dict[str, Any] = {}


def _worker_slice(start: int) -> list[ReadRow]:
    source: SourceFile = _WORKER["source"]
    layout: Layout = _WORKER["layout"]
    part = dataclasses.replace(source, lines=source.lines[start : start + SLICE])
    names = layout.names
    return [
        ReadRow(row.line, row.raw, row.record, row.errors, row_hash(row.raw, names))
        for row in layout_rows(part, layout)
    ]
