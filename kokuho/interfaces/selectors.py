"""Reads of the interfaces app: the import ledger and the quarantine, for the screens."""

from django.db.models import QuerySet

from kokuho.interfaces.models import ImportFile, ImportKind, QuarantinedRow, QuarantineStatus


def quarantined_rows_open(*, kind: ImportKind | None = None) -> QuerySet[QuarantinedRow]:
    """未処理の保留行, oldest file first, in file order."""
    rows = QuarantinedRow.objects.filter(status=QuarantineStatus.OPEN).select_related("file")
    if kind is not None:
        rows = rows.filter(kind=kind)
    return rows.order_by("file_id", "line")


def import_files_recent(*, limit: int = 50) -> QuerySet[ImportFile]:
    """取込ファイルの一覧, newest first."""
    return ImportFile.objects.order_by("-started_at")[:limit]


def quarantined_rows_of(*, import_file_id: int, limit: int) -> list[QuarantinedRow]:
    """The first held rows of one import, in file order (the CLI shows them)."""
    return list(
        QuarantinedRow.objects.filter(file_id=import_file_id).order_by("line", "pk")[:limit]
    )
