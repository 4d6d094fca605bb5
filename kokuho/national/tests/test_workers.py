"""Chunks read and prepared in worker processes (national.workers): the same chunks, the same
file, nothing half-applied, no writes from a worker. PostgreSQL only (SQLite keeps every
extract in one process), on committed data (workers see nothing uncommitted)."""

import datetime as dt
import os
from pathlib import Path

import pytest
from django.db import connection, transaction  # noqa: F401 (the skipif names it)

from kokuho.eligibility.events import ChangeType
from kokuho.national import extract
from kokuho.national.layouts import descriptor
from kokuho.national.ledger import national_export
from kokuho.national.models import (
    Feed,
    NationalWorkItem,
    OutboundFile,
    OutboundRecord,
    SentState,
    WorkItemKind,
)
from kokuho.national.tests.builders import arrive, happen
from kokuho.national.tests.test_onshi_export import city, plaintext
from kokuho.national.workers import prepared_chunks

pytestmark = [
    pytest.mark.django_db(
        databases=["default", "vault"], transaction=True, serialized_rollback=True
    ),
    pytest.mark.skipif("connection.vendor != 'postgresql'"),
]
DAY = dt.date(2026, 4, 1)


@pytest.fixture(autouse=True)
def _national_dir(tmp_path, settings, monkeypatch):
    settings.KOKUHO_NATIONAL_DIR = tmp_path / "national"
    settings.KOKUHO_INSURER_NUMBER = "389999"
    settings.KOKUHO_VAULT_KEY_FILE = tmp_path / "vault-keys.json"
    settings.KOKUHO_NATIONAL_WORKERS = 2
    # Two ids a chunk: a small town is many chunks, spread over the workers.
    monkeypatch.setattr(extract, "CHUNK", 2)


def town() -> dict[str, str]:
    numbers = city()
    for n in range(5, 12):
        arrive(f"10000000{n:02d}", f"50000000{n:02d}", name="並列 一郎", kana="ヘイレツ イチロウ")
    happen(ChangeType.MOVE_OUT, "1000000007", dt.date(2025, 12, 1))
    return numbers


@pytest.mark.parametrize(
    "feed",
    [Feed.ONSHI_HISTORY, Feed.SHUYAKU_PERSON, Feed.SHUYAKU_HOUSEHOLD, Feed.SHUYAKU_INCOME_CATEGORY],
)
def test_the_workers_make_the_chunks_this_process_makes(feed):
    town()
    desc = descriptor(feed.value)
    with transaction.atomic():  # the ledger's transaction, whose snapshot the workers share
        spread = list(prepared_chunks(feed=feed, desc=desc, as_of=DAY, outermost=True))
        here = list(prepared_chunks(feed=feed, desc=desc, as_of=DAY, outermost=False))
    assert len(spread) >= 3 and sum(len(c.entries) for c in spread) >= 8
    assert {c.made_by for c in here} == {os.getpid()}
    assert os.getpid() not in {c.made_by for c in spread}
    assert spread == here


def _ledger(feed: Feed) -> tuple[str, list[tuple[int, str, str]], list[tuple[str, str]]]:
    file = OutboundFile.objects.get(feed=feed)
    lines = list(OutboundRecord.objects.filter(file=file).values_list("line_no", "key", "line"))
    items = list(NationalWorkItem.objects.filter(feed=feed).values_list("kind", "key"))
    return file.sha256, lines, sorted(items)


def _ledger_empty(feed: Feed) -> None:
    """The feed's ledger emptied (the export register is append-only: its row stays)."""
    OutboundRecord.objects.filter(file__feed=feed).delete()
    SentState.objects.filter(feed=feed).delete()
    NationalWorkItem.objects.filter(feed=feed).delete()
    OutboundFile.objects.filter(feed=feed).delete()


def test_an_export_spread_over_workers_writes_the_file_of_one_process(settings):
    town()
    feed = Feed.ONSHI_HISTORY
    outcome = national_export(feed=feed, as_of=DAY, full=True, actor=None)
    spread, spread_bytes = _ledger(feed), plaintext(outcome.path)
    assert len(spread[1]) == 11
    # The child and the seven newcomers have no number: their work items, from the chunks.
    assert [kind for kind, _ in spread[2]] == [WorkItemKind.NO_MY_NUMBER] * 7
    _ledger_empty(feed)
    settings.KOKUHO_NATIONAL_WORKERS = 1
    outcome = national_export(feed=feed, as_of=DAY, full=True, actor=None)
    assert _ledger(feed) == spread and plaintext(outcome.path) == spread_bytes


def test_a_failing_worker_leaves_no_file_and_no_ledger_rows(settings, monkeypatch):
    town()
    from kokuho.national.onshi import extract as onshi

    real = onshi._documents

    def failing(ids, as_of):
        if ids.start >= 7:
            raise RuntimeError("worker fault")
        return real(ids, as_of)

    monkeypatch.setattr(onshi, "_documents", failing)
    with pytest.raises(RuntimeError, match="worker fault"):
        national_export(feed=Feed.ONSHI_HISTORY, as_of=DAY, full=True, actor=None)
    assert not OutboundFile.objects.exists() and not SentState.objects.exists()
    assert not NationalWorkItem.objects.exists()
    directory = Path(settings.KOKUHO_NATIONAL_DIR)
    assert not [p for p in directory.rglob("*") if p.is_file()]


def test_a_worker_cannot_write(monkeypatch):
    town()
    from kokuho.national.onshi import extract as onshi

    real = onshi._documents

    def writing(ids, as_of):
        NationalWorkItem.objects.create(feed=Feed.ONSHI_HISTORY, kind="charset", key="x")
        return real(ids, as_of)

    monkeypatch.setattr(onshi, "_documents", writing)
    with pytest.raises(Exception, match="read-only transaction"):
        national_export(feed=Feed.ONSHI_HISTORY, as_of=DAY, full=True, actor=None)
    assert not NationalWorkItem.objects.exists() and not OutboundFile.objects.exists()
