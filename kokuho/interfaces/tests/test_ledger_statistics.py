"""A long file keeps the statistics of the tables it fills fresh (`StatisticsKeeper`), so the
ledger's look-up of a window of record ids stays an index look-up on both columns of
(kind, record_id) while the ledger grows: planned from a never-analysed table it read every
row of the kind instead (0.4 s a window at 1.4 million claims, issue 18)."""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from kokuho.core import bulkwrite
from kokuho.core.bulkwrite import StatisticsKeeper, row_writer
from kokuho.interfaces.importer import ledger_applied
from kokuho.interfaces.models import ImportedRecord, ImportFile, ImportKind
from kokuho.interfaces.services import import_claims
from kokuho.interfaces.tests.support import CLAIMS_HEADER, claim, write_csv

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="PostgreSQL の統計情報と実行計画を検査するテスト（SQLite の回では実行しない）",
    ),
]

# Measured on PostgreSQL 15: on 20,000 never-analysed rows, 100 ids are planned as a scan of
# the kind (the index on `kind` alone); analysed, as 100 look-ups on the whole key.
EARLIER_ROWS = 20_000
WINDOW = [f"N{n:06d}" for n in range(100)]


def _ledger_of_earlier_files() -> None:
    now = timezone.now()
    earlier = ImportFile.objects.create(
        kind=ImportKind.CLAIMS, file_name="earlier.csv", sha256="0" * 64, started_at=now
    )
    row_writer(connection).insert(
        ImportedRecord,
        ["kind", "record_id", "row_sha256", "file", "line", "applied_at"],
        [
            (ImportKind.CLAIMS, f"E{n:06d}", "0" * 64, earlier.pk, n + 2, now)
            for n in range(EARLIER_ROWS)
        ],
    )


def _index_conditions() -> list[str]:
    plan = ledger_applied(ImportKind.CLAIMS, WINDOW).explain()
    return [line.strip() for line in plan.splitlines() if "Index Cond" in line]


def test_an_import_analyses_the_ledger_it_grows_so_lookups_use_the_whole_key(tmp_path, monkeypatch):
    _ledger_of_earlier_files()
    monkeypatch.setattr(bulkwrite, "ANALYZE_MIN_ROWS", 1)
    path = write_csv(
        tmp_path / "claims-202610.csv",
        [claim("C1"), claim("C2")],
        header=CLAIMS_HEADER,
    )
    import_claims(path=path, actor=None, reported_on=dt.date(2026, 11, 10))
    conditions = _index_conditions()
    assert conditions and all("record_id" in c for c in conditions), conditions


def test_the_keeper_analyses_after_enough_rows_and_then_only_after_growth():
    keeper = StatisticsKeeper(connection, [ImportedRecord], min_rows=10, growth=1.5)
    keeper.base = 0  # as if never analysed (what the table held at its last analysis)
    assert not keeper.wrote(9)
    assert keeper.wrote(1)  # 10 rows since the start
    assert keeper.base == 10
    assert not keeper.wrote(9)
    assert keeper.wrote(1)
    big = StatisticsKeeper(connection, [ImportedRecord], min_rows=10, growth=1.5)
    big.base = 1000  # as if it held 1,000 rows at its last analysis: wait for 500 more
    assert not big.wrote(499)
    assert big.wrote(1)
    assert (keeper.analyses, big.analyses) == (2, 1)
