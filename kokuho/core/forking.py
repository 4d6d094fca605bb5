"""Worker processes forked from a job's process (national extracts, mailing batches).

A forked worker starts as its parent is: settings, parameters, fonts and caches loaded, and
the parent's open database connections. Those belong to the parent — its transaction is
open on them — so a worker sets them aside, referenced and never closed (closing one would
end the parent's session on the shared socket), and any query it makes opens its own.
"""

from __future__ import annotations

from typing import Any

from asgiref.local import Local
from django.db import connections

_INHERITED: list[Any] = []


def connections_detach() -> None:
    """In a newly forked worker: the parent's connections set aside, fresh ones on demand."""
    _INHERITED.append(connections._connections)
    connections._connections = Local(connections.thread_critical)
