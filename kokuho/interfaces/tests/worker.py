"""Test helpers for 取込依頼: an upload as the screen receives it, and the real worker."""

import signal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from kokuho.interfaces.tests.support import CHANGES_HEADER, csv_text

_SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGQUIT]


def upload(
    rows: list[dict[str, str]],
    *,
    name: str = "residents-changes.csv",
    header: list[str] | None = None,
) -> SimpleUploadedFile:
    """A CSV of the interfaces.md layouts as a browser would send it."""
    content = csv_text(rows, header or CHANGES_HEADER).encode()
    return SimpleUploadedFile(name, content, content_type="text/csv")


def worker_batch_run() -> None:
    """`kokuho db_worker --batch`: the package's worker, in this process, until the queue is
    empty. The command installs its own signal handlers; they are put back afterwards so
    that Ctrl-C still stops pytest."""
    saved = {s: signal.getsignal(s) for s in _SIGNALS}
    try:
        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)
