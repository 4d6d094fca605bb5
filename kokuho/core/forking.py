"""Worker processes forked from a job's process (national extracts, mailing batches).

A forked worker starts as its parent is: settings, parameters, fonts and caches loaded, and
the parent's open database connections. Those belong to the parent — its transaction is
open on them — so a worker sets them aside, referenced and never closed (closing one would
end the parent's session on the shared socket), and any query it makes opens its own.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Any

from asgiref.local import Local
from django.db import connections

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


def _start(initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    connections_detach()
    if initializer is not None:
        initializer(*initargs)
