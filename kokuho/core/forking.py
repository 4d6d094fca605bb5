"""Worker processes forked from a job's process (national extracts, mailing batches, the
renewal's and the 高額療養費 month's reads).

A forked worker starts as its parent is: settings, parameters, fonts and caches loaded, and
the parent's open database connections. Those belong to the parent — its transaction is
open on them — so a worker sets them aside, referenced and never closed (closing one would
end the parent's session on the shared socket), and any query it makes opens its own.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

from asgiref.local import Local
from django.db import connection, connections

_INHERITED: list[Any] = []


def connections_detach() -> None:
    """In a newly forked worker: the parent's connections set aside, fresh ones on demand."""
    _INHERITED.append(connections._connections)
    connections._connections = Local(connections.thread_critical)


def forked_map[T, R](
    function: Callable[[T], R],
    items: Iterable[T],
    *,
    workers: int,
    ahead: int = 2,
    initializer: Callable[..., None] | None = None,
    initargs: tuple[Any, ...] = (),
) -> Iterator[R]:
    """`function(item)` for each item in `workers` forked processes, the results in the
    items' order, with at most `ahead` items a worker in flight (memory stays a few results
    whatever the number of items). Each worker sets the parent's connections aside, then
    runs `initializer(*initargs)` — arguments inherited by fork, never pickled. An exception
    in a worker is raised here, at its item; leaving the loop early stops the workers."""
    context = multiprocessing.get_context("fork")
    with context.Pool(workers, initializer=_start, initargs=(initializer, initargs)) as pool:
        todo = iter(items)
        pending = deque(pool.apply_async(function, (i,)) for i in islice(todo, workers * ahead))
        while pending:
            result = pending.popleft()
            for item in islice(todo, 1):
                pending.append(pool.apply_async(function, (item,)))
            yield result.get()


def reads_map[T, R](
    function: Callable[[T], R], items: Sequence[T], *, workers: int, ahead: int = 2
) -> Iterator[R]:
    """`function(item)` for each item, in the items' order — for a function that only reads
    the default database. Where that can be right it runs in `workers` forked processes,
    each in a read-only session of its own (a worker cannot write): on PostgreSQL, outside
    a caller's transaction (workers see committed data only: a test's or a larger job's
    open transaction would hide its rows from them), with more than one worker and item.
    Elsewhere it runs here. The function and the items are inherited by fork, never
    pickled; the results are."""
    workers = min(workers, len(items))
    if workers <= 1 or connection.vendor != "postgresql" or connection.in_atomic_block:
        yield from map(function, items)
        return
    yield from forked_map(
        _read_one,
        range(len(items)),
        workers=workers,
        ahead=ahead,
        initializer=_reads_start,
        initargs=(function, items),
    )


_READS: dict[str, Any] = {}


def _reads_start(function: Callable[[Any], Any], items: Sequence[Any]) -> None:
    _READS.update(function=function, items=items)
    with connection.cursor() as cursor:
        cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")


def _read_one(index: int) -> Any:
    return _READS["function"](_READS["items"][index])


def _start(initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    connections_detach()
    if initializer is not None:
        initializer(*initargs)
