"""A chunk's records made ready for the ledger (整形): each record's items and line as written
and the hash of its content — pure work on the records, no database, so that it can run in
the worker process that read the chunk (`national.workers`) as well as in the ledger's own.

The ledger then only decides, per key, 新規・変更・訂正・削除 against what it sent before, and
writes the lines and its rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from kokuho.national.charset import sjis_text, sjis_unwritable, sjis_writable
from kokuho.national.extract import Chunk, SourceRecord
from kokuho.national.layouts import (
    Descriptor,
    LayoutError,
    item_index,
    line_join,
    line_parts,
    line_split,
)


class Prepared(NamedTuple):
    """One record ready: its line as written with 処理区分 empty (`content`), where in it the
    処理区分 goes (`slot`, start and end; None for a layout without one), the SHA-256 of the
    content — or `bad`, the characters Shift_JIS cannot carry, when it is held."""

    record: SourceRecord
    content: str
    slot: tuple[int, int] | None
    sha: str
    bad: list[str]

    @property
    def held(self) -> bool:
        return not self.sha

    def line(self, processing_text: str) -> str:
        """The line with its 処理区分 put in (the text as the layout formats it)."""
        if self.slot is None:
            return self.content
        start, end = self.slot
        return self.content[:start] + processing_text + self.content[end:]


@dataclass(frozen=True)
class PreparedChunk:
    subjects: range
    entries: list[Prepared]
    after: tuple[str, tuple[Any, ...]] | None = None
    made_by: int = field(default_factory=os.getpid, compare=False)  # the process's id


def _unwritable(values: dict[str, Any]) -> list[str]:
    return [
        ch
        for v in values.values()
        if isinstance(v, str) and not sjis_writable(v)
        for ch in sjis_unwritable(v)
    ]


def record_content(
    desc: Descriptor, values: dict[str, Any], on: dt.date
) -> tuple[list[str] | None, str, list[str]]:
    """The record's items and their line as written (処理区分 empty), or None and the
    characters when it holds text Shift_JIS cannot carry. Decided on the formatted items,
    not value by value: `sjis_text` maps one character to one and never to a separator, so
    formatting first and translating the joined line gives the same items; a record whose
    layout error sits beside a 外字 is held, as the 外字 is what the clerk must fix."""
    try:
        parts = line_parts(desc, "data", values | {"processing": ""}, on)
    except LayoutError:
        if bad := _unwritable(values):
            return None, "", bad
        raise
    content = line_join(desc, parts)
    if content.isascii():
        return parts, content, []
    written = sjis_text(content)
    if not sjis_writable(written):
        return None, "", sjis_unwritable(written)
    if written == content:
        return parts, content, []
    # One character for one, never a separator: the items split back where they were.
    return line_split(desc, "data", written), written, []


def chunk_prepare(
    desc: Descriptor, chunk: Chunk, on: dt.date, *, keep_values: bool
) -> PreparedChunk:
    """Every record of `chunk` made ready. `keep_values`: the feed writes its lines from the
    values again (its own record code, 副本); otherwise they are dropped, as the line is made
    from the parts (less to carry back from a worker process)."""
    entries = []
    sha256 = hashlib.sha256
    at = item_index(desc, "data", "processing")
    separator = 1 if desc.format == "csv" else 0
    for record in chunk.records:
        parts, content, bad = record_content(desc, record.values, on)
        sha, slot = "", None
        if parts is not None:
            sha = sha256(content.encode("utf-8")).hexdigest()
            if at is not None:
                start = sum(len(part) for part in parts[:at]) + separator * at
                slot = (start, start + len(parts[at]))
        if not keep_values:
            record = SourceRecord(record.key, record.subject, {}, record.person_id)
        entries.append(Prepared(record, content, slot, sha, bad))
    return PreparedChunk(chunk.subjects, entries, chunk.after)
