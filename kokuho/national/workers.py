"""A feed's chunks read and prepared in worker processes (並列抽出) on PostgreSQL.

A full extract of a city is a few hundred chunks, each read with a fixed number of queries
and formatted in Python: one process keeps one core busy, and the ledger's own work (the
comparison with what was sent, its rows, the file) waits for it. Here, for a feed that says
how its chunks are cut (`FeedSpec.ranges`), worker processes read and prepare the chunks
(`prepare.chunk_prepare`) while the ledger's process consumes them in order:

* **One snapshot.** The ledger exports the snapshot of its transaction
  (`pg_export_snapshot()`); each worker reads in a REPEATABLE READ, READ ONLY transaction
  on that snapshot, so every chunk sees the database as of the same instant, and a worker
  cannot write. What a source must write (its work items) it hands back as the chunk's
  `after`, which the ledger applies in its own transaction: nothing is half-applied.
* **In order, bounded.** At most `AHEAD` chunks per worker are in flight; the ledger takes
  them in id order, so the file and its sequence of lines are those of one process, byte
  for byte, and memory stays a few chunks whatever the city's size.
* **Forked, not spawned.** A worker starts from the ledger's process as it is (settings,
  parameters, descriptors, caches loaded) and drops the inherited database connections
  without closing them — they belong to the parent, whose transaction is open on them.
* **Only where it can be right.** Workers see committed data only, so a caller's own open
  transaction (a test's, a larger job's) keeps the extract in one process, as does SQLite
  or `KOKUHO_NATIONAL_WORKERS` ≤ 1. An exception in a worker is raised in the ledger's
  process, which abandons the file and rolls back.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterator

from django.conf import settings
from django.db import connection
from django.utils.module_loading import import_string

from kokuho.core.forking import forked_map
from kokuho.national.feeds import feed_spec
from kokuho.national.layouts import Descriptor, descriptor
from kokuho.national.models import Feed
from kokuho.national.prepare import PreparedChunk, chunk_prepare

AHEAD = 2  # chunks in flight per worker
_SNAPSHOT = re.compile(r"^[0-9A-F]+-[0-9A-F]+-[0-9]+$")


def worker_count() -> int:
    return int(getattr(settings, "KOKUHO_NATIONAL_WORKERS", 1))


def _parallel(feed: Feed, outermost: bool) -> list[range] | None:
    """The chunks to spread over workers, or None to stay in this process."""
    spec = feed_spec(feed)
    if not (outermost and spec.ranges and worker_count() > 1):
        return None
    if connection.vendor != "postgresql":
        return None
    ranges = import_string(spec.ranges)()
    return ranges if len(ranges) > 1 else None


def prepared_chunks(
    *, feed: Feed, desc: Descriptor, as_of: dt.date, outermost: bool
) -> Iterator[PreparedChunk]:
    """The feed's chunks, prepared, in order: from worker processes where that can be right
    (module docstring), else read and prepared here."""
    spec = feed_spec(feed)
    keep = bool(spec.record_code)
    ranges = _parallel(feed, outermost)
    if ranges is None:
        for chunk in spec.chunks()(as_of=as_of, key_fields=desc.key_fields()):
            yield chunk_prepare(desc, chunk, as_of, keep_values=keep)
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
    workers = min(worker_count(), len(ranges))
    yield from forked_map(
        functools.partial(_worker_chunk, feed.value, as_of, keep=keep),
        ranges,
        workers=workers,
        ahead=AHEAD,
        initializer=_worker_start,
        initargs=(snapshot,),
    )


def _worker_start(snapshot: str) -> None:
    """In a new worker: fresh connections, the default one on the ledger's snapshot."""
    if not _SNAPSHOT.match(snapshot):
        raise ValueError("スナップショット識別子の形式が不正です")
    connection.set_autocommit(False)
    with connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")


def _worker_chunk(feed: str, as_of: dt.date, ids: range, *, keep: bool) -> PreparedChunk:
    spec, desc = feed_spec(feed), descriptor(feed)
    chunks = list(spec.chunks()(as_of=as_of, key_fields=desc.key_fields(), ranges=[ids]))
    if len(chunks) != 1:
        raise RuntimeError(f"{feed}: ID {ids.start}〜{ids.stop - 1} のチャンクが1つではありません")
    return chunk_prepare(desc, chunks[0], as_of, keep_values=keep)
