"""住基異動 pushed by the 住民記録 system as JSON: the file's importer, byte for byte.

The records are written as a `residents-changes.csv` in the file's layout (the layout's
columns as header, one line per record, UTF-8) and imported by `import_residents_changes`,
the service behind `kokuho import residents-changes`: the same validation, ledger (a record
sent again is skipped, a changed one under a known 異動連番 is a conflict), quarantine and
audit. The per-record results are then read from that run's ledger and quarantine rows.
"""

import csv
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils import timezone

from kokuho.cityapi.models import ApiClient
from kokuho.interfaces.importer import LEDGER_WINDOW
from kokuho.interfaces.models import ImportedRecord, QuarantinedRow
from kokuho.interfaces.residents_changes import LAYOUT
from kokuho.interfaces.services import ImportSummary, import_residents_changes

# Records of one request at most: one window of the importer's ledger (about half a second
# of work); more go in several requests, or as a file.
MAX_RECORDS = LEDGER_WINDOW
COLUMNS: tuple[str, ...] = LAYOUT.names
HEADER_LINES = 1


class RecordsInvalid(ValueError):
    """The request itself cannot become a file (not a record's content: that is the
    importer's to judge and quarantine). `field` names the place, e.g. `records[3].name`."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class RecordResult:
    index: int
    record_id: str
    status: str  # applied | quarantined | skipped
    errors: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class PushResult:
    summary: ImportSummary
    results: list[RecordResult]


def _cells(records: list[Mapping[str, str | None]]) -> list[list[str]]:
    rows: list[list[str]] = []
    for index, record in enumerate(records):
        row = []
        for name in COLUMNS:
            value = record.get(name) or ""
            # A line break or control character would end the CSV line (or be read past):
            # the registry's items never hold one.
            if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
                raise RecordsInvalid(
                    f"{index + 1} 件目の {name} に改行・制御文字が含まれています",
                    f"records[{index}].{name}",
                )
            row.append(value)
        if not row[0].strip():
            raise RecordsInvalid(
                f"{index + 1} 件目に異動連番（record_id）がありません",
                f"records[{index}].record_id",
            )
        rows.append(row)
    return rows


def registry_changes_push(
    *, records: list[Mapping[str, str | None]], client: ApiClient
) -> PushResult:
    """Import pushed records as a 住基異動 file named after the client; per-record results.

    Raises `RecordsInvalid` before anything is recorded when the request cannot be a file."""
    if not records:
        raise RecordsInvalid("異動が 1 件もありません", "records")
    if len(records) > MAX_RECORDS:
        raise RecordsInvalid(
            f"1 回に送れる異動は {MAX_RECORDS:,} 件までです（{len(records):,} 件）", "records"
        )
    rows = _cells(records)
    stamp = timezone.localtime().strftime("%Y%m%dT%H%M%S%f")
    with tempfile.TemporaryDirectory(prefix="kokuho-api-") as directory:
        path = Path(directory) / f"api-{client.name}-{stamp}.csv"
        with path.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, lineterminator="\r\n")
            writer.writerow(COLUMNS)
            writer.writerows(rows)
        summary = import_residents_changes(path=path, actor=None)
    return PushResult(summary, _results(summary.import_file_id, rows))


def _results(import_file_id: int, rows: list[list[str]]) -> list[RecordResult]:
    applied = set(
        ImportedRecord.objects.filter(file_id=import_file_id).values_list("line", flat=True)
    )
    quarantined = {
        line: errors
        for line, errors in QuarantinedRow.objects.filter(file_id=import_file_id).values_list(
            "line", "errors"
        )
    }
    results = []
    for index, row in enumerate(rows):
        line = index + 1 + HEADER_LINES
        if line in applied:
            results.append(RecordResult(index, row[0], "applied"))
        elif line in quarantined:
            errors = [
                {"field": e.get("field") or None, "code": e.get("code"), "reason": e.get("reason")}
                for e in quarantined[line]
            ]
            results.append(RecordResult(index, row[0], "quarantined", errors))
        else:
            results.append(RecordResult(index, row[0], "skipped"))
    return results
