"""The common importer rules of interfaces.md, shared by every file format.

A format is an `Importer`: its kind, its `Layout`, a function that applies one validated
record through the services, and one that says which field a refusal is about. `file_import`
does the rest the same way for all of them: the ledger (a re-run is a no-op, a changed
record under a known id is a conflict), one savepoint per row (a refused row goes to
quarantine, the good rows of the file are applied), progress, the summary and the audit
event of the file.

Rows are committed in chunks: a crash mid-file keeps the chunks already done, and their
ledger entries with them, so running the file again resumes where it stopped.

A format may also apply a chunk of records as one batch (`Importer.apply_batch`: a fixed
number of queries for the chunk instead of some per row). The batch says for each record
whether it applied or why it was refused, so the ledger and the quarantine are the same as
row by row. If the batch fails as a whole, its transaction is rolled back and the same rows
are imported one at a time — the per-row path is the reference, and the batch is tested to
match it.
"""

import contextlib
import dataclasses
import datetime as dt
import hashlib
import itertools
import logging
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db import DatabaseError, DataError, IntegrityError, connection, transaction
from django.db.models import Model, QuerySet
from django.utils import timezone
from tqdm import tqdm

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.core.bulkwrite import StatisticsKeeper, row_writer
from kokuho.core.liveness import worker_id
from kokuho.core.purposes import Purpose
from kokuho.eligibility.services import EligibilityError
from kokuho.interfaces.interruptions import (
    import_files_interrupted_mark,
    interrupted_run_for,
    running_run_for,
)
from kokuho.interfaces.layout import (
    FieldError,
    ImportRejected,
    Layout,
    ReadRow,
    row_hash,
    source_read,
)
from kokuho.interfaces.models import (
    ImportedRecord,
    ImportErrorCode,
    ImportFile,
    ImportFileStatus,
    ImportKind,
    QuarantinedRow,
)
from kokuho.interfaces.parallel_read import rows_validated
from kokuho.people.registry import RegistryError
from kokuho.rules.params import ParameterError

logger = logging.getLogger(__name__)

# Record ids looked up in the ledger at a time; also the most rows of one batch (a batch
# of 1,000 registry changes takes about half a second: COMMIT_SECONDS' bound, kept).
LEDGER_WINDOW = 1000
# A transaction is committed after this long: every registry change appends to the audit
# chain, whose head row stays locked until commit, and staff reading records at the counter
# append to it too — they must not wait long behind a batch. Time rather than a row count,
# so the bound holds whether a row costs 50 µs or 50 ms.
COMMIT_SECONDS = 0.5
# The run's heartbeat (what tells a live run from a dead one) is written at most this often.
HEARTBEAT_SECONDS = 5.0


# Called with the file's ledger row, rows done so far and rows in the file.
ProgressCallback = Callable[[ImportFile, int, int], None]


def conflict_reason(layout: Layout) -> str:
    """「同じ異動連番で内容が異なります（競合）」, named after the layout's id column."""
    return f"同じ{layout.id_label}で内容が異なります（競合）"


class RowRejected(Exception):
    """A record the services cannot apply, with the field it is about ("" = the row)."""

    def __init__(self, field: str, reason: str, code: ImportErrorCode) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason
        self.code = code


# What a service raises for a record that contradicts what we hold: the row is quarantined
# with the reason. Anything else is a bug and stops the import (the chunk is rolled back).
ROW_ERRORS: tuple[type[Exception], ...] = (
    RowRejected,
    EligibilityError,
    RegistryError,
    ParameterError,
    ObjectDoesNotExist,
    IntegrityError,
    DataError,
)


@dataclass(frozen=True)
class ApplyContext:
    """What every record of a run shares: where it came from, when, and by whom
    (`import_file_id`: the ledger row of the file, for formats that keep the records)."""

    source: str
    recorded_at: dt.datetime
    reported_on: dt.date
    actor: Any | None
    import_file_id: int | None = None


# Records of a chunk with their contexts → for each, None (applied) or its refusal.
BatchApply = Callable[[list[tuple[Mapping[str, Any], ApplyContext]]], list[RowRejected | None]]
# The file's applied records that staff must look at, by reason (kept, not quarantined).
ImportReport = Callable[[ImportFile], Mapping[str, int]]


@dataclass(frozen=True)
class Importer:
    kind: ImportKind
    layout: Layout
    apply: Callable[[Mapping[str, Any], ApplyContext], None]
    explain: Callable[[Mapping[str, Any], Exception], RowRejected]
    source_prefix: str
    apply_batch: BatchApply | None = None
    # The 事務 of the file's audit event and of its quarantine.
    purpose: Purpose = Purpose.NHI_ELIGIBILITY
    # Applied but to be reported (e.g. claims that match no insured person), under a title.
    report: ImportReport | None = None
    report_title: str = ""
    # The business tables a file of this kind grows row for row (besides the ledger), kept
    # analysed while a long file fills them (`StatisticsKeeper`).
    tables: tuple[type[Model], ...] = ()


@dataclass
class ImportSummary:
    """取込結果: what happened to each row of a file."""

    kind: ImportKind
    file_name: str
    encoding: str
    import_file_id: int
    read: int = 0
    applied: int = 0
    skipped: int = 0
    quarantined: Counter[str] = field(default_factory=Counter)
    same_content_as: list[int] = field(default_factory=list)
    batches_redone: int = 0  # batches that failed as a whole and were redone row by row
    # Applied rows the format reports (Importer.report), by reason; only when it reports.
    report_title: str = ""
    reported: Counter[str] = field(default_factory=Counter)
    # The 中断 run this one continued, and the rows that run (and any before it) applied.
    resumed_from: int | None = None
    applied_before: int = 0

    @property
    def quarantined_total(self) -> int:
        return sum(self.quarantined.values())

    @property
    def reported_total(self) -> int:
        return sum(self.reported.values())

    def counts(self) -> dict[str, Any]:
        counts: dict[str, Any] = {
            "read": self.read,
            "applied": self.applied,
            "skipped": self.skipped,
            "quarantined": self.quarantined_total,
            "quarantined_by_reason": dict(self.quarantined),
            "batches_redone": self.batches_redone,
        }
        if self.resumed_from:
            counts |= {"resumed_from": self.resumed_from, "applied_before": self.applied_before}
        if self.report_title:
            counts |= {
                "report_title": self.report_title,
                "reported": self.reported_total,
                "reported_by_reason": dict(self.reported),
            }
        return counts

    def format(self) -> str:
        lines = [
            f"{self.kind.label}の取込結果: {self.file_name}"
            f"（文字コード {self.encoding}、取込番号 {self.import_file_id}）",
        ]
        if self.resumed_from:
            lines.append(
                f"  中断した取込（取込番号 {self.resumed_from}）の続きです。"
                f"中断までに {self.applied_before:,} 件を反映済み（既取込に数えています）"
            )
        lines += [
            f"  読込 {self.read:>10,} 件",
            f"  反映 {self.applied:>10,} 件",
            f"  既取込 {self.skipped:>8,} 件（取込済み・保留済みの行。何もしていません）",
            f"  保留 {self.quarantined_total:>10,} 件",
        ]
        lines += [f"    {reason}: {n:,} 件" for reason, n in self.quarantined.most_common()]
        if self.report_title:
            lines.append(
                f"  {self.report_title} {self.reported_total:,} 件（反映済み。保留ではありません）"
            )
            lines += [f"    {reason}: {n:,} 件" for reason, n in self.reported.most_common()]
        if self.same_content_as:
            numbers = "、".join(str(n) for n in self.same_content_as)
            lines.append(f"  同じ内容のファイルを取込済みです（取込番号 {numbers}）")
        if self.quarantined_total:
            lines.append("  保留の行は保留一覧で修正して再投入できます。")
        return "\n".join(lines)


def _record_id(row: ReadRow, layout: Layout) -> str:
    # Cut to what the quarantine can hold: an overlong id is itself quarantined (the layout
    # allows 40 characters) and must be recognised when the file is run again.
    return row.raw.get(layout.id_column, "")[
        : QuarantinedRow._meta.get_field("record_id").max_length
    ]


def reason_key(code: ImportErrorCode, field: str) -> str:
    """The summary's grouping of a quarantined row: the kind of error and its field."""
    return f"{code.label}（{field}）" if field else code.label


def _actor_user(actor: Any | None) -> Any | None:
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def ledger_applied(kind: ImportKind, record_ids: list[str]) -> QuerySet:
    """(record id, row hash) of the records of `record_ids` already applied."""
    return ImportedRecord.objects.filter(kind=kind, record_id__among=record_ids).values_list(
        "record_id", "row_sha256"
    )


class _Ledger:
    """The ledger as far as this run needs it, loaded a chunk of record ids at a time."""

    def __init__(self, kind: ImportKind) -> None:
        self.kind = kind
        self.applied: dict[str, str] = {}
        self.quarantined: set[tuple[str, str]] = set()

    def load(self, record_ids: Iterable[str]) -> None:
        wanted = {r for r in record_ids if r not in self.applied}
        if not wanted:
            return
        ids = sorted(wanted)
        self.applied.update(ledger_applied(self.kind, ids))
        self.quarantined.update(
            QuarantinedRow.objects.filter(kind=self.kind, record_id__among=ids).values_list(
                "record_id", "row_sha256"
            )
        )

    def seen(self, record_id: str, digest: str) -> bool:
        """Already applied, or already quarantined (whatever became of it): nothing to do."""
        return self.applied.get(record_id) == digest or (record_id, digest) in self.quarantined

    def conflicts(self, record_id: str) -> bool:
        return record_id in self.applied


def _quarantined(
    file: ImportFile, kind: ImportKind, row: ReadRow, record_id: str, digest: str, errors: list
) -> QuarantinedRow:
    first: FieldError = errors[0]
    return QuarantinedRow(
        file=file,
        kind=kind,
        line=row.line,
        record_id=record_id,
        field=first.field,
        value=first.value,
        code=first.code,
        reason=first.reason,
        errors=[e.as_dict() for e in errors],
        raw=row.raw,
        row_sha256=digest,
    )


def file_import(
    importer: Importer,
    *,
    path: Path,
    actor: Any | None,
    progress: bool,
    reported_on: dt.date | None = None,
    on_progress: ProgressCallback | None = None,
    batch: bool = True,
) -> ImportSummary:
    """Import one file; `ImportRejected` (recorded in the ledger) if it cannot be read.

    `progress` draws a bar on stderr (the CLI); `on_progress(file, done, total)` is called
    once the ledger row exists and after every committed chunk (screens and tasks).
    `batch=False` imports row by row even when the format can batch (tests, benchmarks)."""
    started_at = timezone.now()
    user = _actor_user(actor)
    import_files_interrupted_mark(now=started_at)
    try:
        source = source_read(Path(path), importer.layout)
        if live := running_run_for(kind=importer.kind, sha256=source.sha256):
            raise ImportRejected(
                source.name,
                f"同じファイルを取込中です（取込番号 {live.pk}、"
                f"{timezone.localtime(live.started_at):%Y-%m-%d %H:%M} 開始）。"
                "終わるのを待ってください。",
            )
    except ImportRejected as rejected:
        _rejection_record(importer, path=Path(path), rejected=rejected, user=user, at=started_at)
        raise
    resumed = interrupted_run_for(kind=importer.kind, sha256=source.sha256)
    file = ImportFile.objects.create(
        kind=importer.kind,
        file_name=source.name,
        sha256=source.sha256,
        encoding=source.encoding,
        started_at=started_at,
        actor=user,
        worker=worker_id(),
        heartbeat_at=started_at,
        resumed_from=resumed,
    )
    summary = ImportSummary(
        kind=importer.kind,
        file_name=source.name,
        encoding=source.encoding,
        import_file_id=file.pk,
        report_title=importer.report_title if importer.report else "",
        resumed_from=resumed.pk if resumed else None,
        applied_before=resumed_applied(resumed),
        same_content_as=list(
            ImportFile.objects.filter(
                kind=importer.kind, sha256=source.sha256, status=ImportFileStatus.DONE
            )
            .exclude(pk=file.pk)
            .order_by("pk")
            .values_list("pk", flat=True)
        ),
    )
    # Shared by every row; each row gets its own source and recorded_at.
    ctx = ApplyContext(
        source=importer.source_prefix,
        recorded_at=started_at,
        reported_on=reported_on or timezone.localdate(),
        actor=user,
        import_file_id=file.pk,
    )
    ledger = _Ledger(importer.kind)
    bar = tqdm(
        total=len(source.lines),
        desc=source.name,
        unit="件",
        file=sys.stderr,
        disable=not progress,
    )
    total = len(source.lines)
    beat = _Heartbeat(file)
    statistics = StatisticsKeeper(connection, (ImportedRecord, *importer.tables))
    written = summary.applied + summary.quarantined_total

    def progressed(done: int) -> None:
        nonlocal written
        bar.update(done)
        beat()
        # Rows written, not rows read: a re-run that skips what the ledger holds adds none.
        now = summary.applied + summary.quarantined_total
        statistics.wrote(now - written)
        written = now
        if on_progress:
            on_progress(file, summary.read, total)

    if on_progress:
        on_progress(file, 0, total)
    try:
        for window in itertools.batched(rows_validated(source, importer.layout), LEDGER_WINDOW):
            ledger.load(_record_id(row, importer.layout) for row in window)
            if batch and importer.apply_batch is not None:
                for part in _distinct_ids(window, importer.layout):
                    _batch_import(importer, file, part, ledger, summary, ctx)
                    progressed(len(part))
                continue
            pending = iter(window)
            while done := _chunk_import(importer, file, pending, ledger, summary, ctx):
                progressed(done)
    except BaseException as error:
        # The chunks already committed stay, with their ledger; say where the run stopped.
        file.counts = {**summary.counts(), "aborted": f"{type(error).__name__}: {error}"}
        file.status = ImportFileStatus.INTERRUPTED
        file.interrupted_at = timezone.now()
        # If the database itself failed this may fail too; the original error is the news
        # (and the interruption check closes the run later from its stale heartbeat).
        with contextlib.suppress(DatabaseError):
            file.save(update_fields=["counts", "status", "interrupted_at"])
        raise
    finally:
        bar.close()
    if importer.report is not None:
        summary.reported.update({k: n for k, n in importer.report(file).items() if n})
    with transaction.atomic():
        file.finished_at = timezone.now()
        file.status = ImportFileStatus.DONE
        file.counts = summary.counts()
        file.save(update_fields=["finished_at", "status", "counts"])
        _audit(file, user, importer.purpose)
    return summary


class _Heartbeat:
    """Writes the run's heartbeat after a committed chunk, at most every HEARTBEAT_SECONDS."""

    def __init__(self, file: ImportFile) -> None:
        self.file_id = file.pk
        self.last = time.monotonic()

    def __call__(self) -> None:
        if time.monotonic() - self.last < HEARTBEAT_SECONDS:
            return
        ImportFile.objects.filter(pk=self.file_id).update(heartbeat_at=timezone.now())
        self.last = time.monotonic()


def resumed_applied(resumed: ImportFile | None) -> int:
    """Rows the interrupted runs of this file (the whole chain) had applied."""
    if resumed is None:
        return 0
    chain: list[int] = []
    run: ImportFile | None = resumed
    while run is not None:
        chain.append(run.pk)
        run = run.resumed_from
    return ImportedRecord.objects.filter(file_id__in=chain).count()


def _chunk_import(
    importer: Importer,
    file: ImportFile,
    rows: Iterator[ReadRow],
    ledger: _Ledger,
    summary: ImportSummary,
    run: ApplyContext,
) -> int:
    """Import rows in one transaction until `COMMIT_SECONDS` have passed; rows consumed."""
    deadline = time.monotonic() + COMMIT_SECONDS
    applied: list[ImportedRecord] = []
    quarantined: list[QuarantinedRow] = []
    done = 0
    with transaction.atomic():
        for row in rows:
            _row_import(importer, file, row, ledger, summary, applied, quarantined, run)
            done += 1
            if time.monotonic() >= deadline:
                break
        ImportedRecord.objects.bulk_create(applied)
        QuarantinedRow.objects.bulk_create(quarantined)
    return done


def _distinct_ids(rows: Iterable[ReadRow], layout: Layout) -> Iterator[list[ReadRow]]:
    """Cut rows into runs without a repeated record id: the second occurrence must see the
    ledger as the first one left it (applied → skipped or conflict; refused → retried)."""
    part: list[ReadRow] = []
    ids: set[str] = set()
    for row in rows:
        record_id = _record_id(row, layout)
        if record_id in ids:
            yield part
            part, ids = [], set()
        part.append(row)
        ids.add(record_id)
    if part:
        yield part


def _row_context(run: ApplyContext, file: ImportFile, record_id: str) -> ApplyContext:
    return dataclasses.replace(
        run, source=f"{run.source} {file.pk}:{record_id}"[:100], recorded_at=timezone.now()
    )


def _batch_import(
    importer: Importer,
    file: ImportFile,
    rows: list[ReadRow],
    ledger: _Ledger,
    summary: ImportSummary,
    run: ApplyContext,
) -> None:
    """Import rows (distinct record ids) in one transaction, the valid ones as one batch."""
    assert importer.apply_batch is not None
    layout = importer.layout
    decided: list[tuple[ReadRow, str, str, list[FieldError] | ApplyContext | None]] = []
    batch: list[tuple[Mapping[str, Any], ApplyContext]] = []
    for row in rows:
        record_id = _record_id(row, layout)
        digest = row.digest or row_hash(row.raw, layout.names)
        if ledger.seen(record_id, digest):
            decided.append((row, record_id, digest, None))
        elif ledger.conflicts(record_id):
            error = FieldError(
                row.line,
                layout.id_column,
                record_id,
                conflict_reason(layout),
                ImportErrorCode.CONFLICT,
            )
            decided.append((row, record_id, digest, [error]))
        elif row.record is not None:
            ctx = _row_context(run, file, record_id)
            batch.append((row.record, ctx))
            decided.append((row, record_id, digest, ctx))
        else:
            decided.append((row, record_id, digest, row.errors))
    applied: list[tuple[Any, ...]] = []
    quarantined: list[tuple[QuarantinedRow, FieldError]] = []
    try:
        with transaction.atomic():
            refusals = iter(importer.apply_batch(batch) if batch else [])
            for row, record_id, digest, decision in decided:
                if decision is None:
                    continue
                if isinstance(decision, ApplyContext):
                    refusal = next(refusals)
                    if refusal is None:
                        applied.append(
                            (
                                importer.kind,
                                record_id,
                                digest,
                                file.pk,
                                row.line,
                                decision.recorded_at,
                            )
                        )
                        continue
                    value = row.raw.get(refusal.field, "") if refusal.field else ""
                    decision = [
                        FieldError(row.line, refusal.field, value, refusal.reason, refusal.code)
                    ]
                quarantined.append(
                    (
                        _quarantined(file, importer.kind, row, record_id, digest, decision),
                        decision[0],
                    )
                )
            row_writer(connection).insert(
                ImportedRecord,
                ["kind", "record_id", "row_sha256", "file", "line", "applied_at"],
                applied,
            )
            QuarantinedRow.objects.bulk_create([q for q, _first in quarantined])
    except Exception as error:
        # Nothing of the batch was kept: redo its rows one at a time (the reference path,
        # which quarantines a bad row precisely and raises on a real failure).
        logger.warning(
            "一括反映に失敗したため1件ずつ反映します（取込番号 %s、%s 件）: %s: %s",
            file.pk,
            len(rows),
            type(error).__name__,
            error,
            exc_info=logger.isEnabledFor(logging.DEBUG),
        )
        summary.batches_redone += 1
        pending = iter(rows)
        while _chunk_import(importer, file, pending, ledger, summary, run):
            pass
        return
    summary.read += len(rows)
    summary.skipped += sum(1 for *_rest, decision in decided if decision is None)
    summary.applied += len(applied)
    for _kind, record_id, digest, *_rest in applied:
        ledger.applied[record_id] = digest
    for row, first in quarantined:
        ledger.quarantined.add((row.record_id, row.row_sha256))
        summary.quarantined[reason_key(first.code, first.field)] += 1


def _row_import(
    importer: Importer,
    file: ImportFile,
    row: ReadRow,
    ledger: _Ledger,
    summary: ImportSummary,
    applied: list[ImportedRecord],
    quarantined: list[QuarantinedRow],
    run: ApplyContext,
) -> None:
    summary.read += 1
    layout = importer.layout
    record_id = _record_id(row, layout)
    digest = row.digest or row_hash(row.raw, layout.names)
    if ledger.seen(record_id, digest):
        summary.skipped += 1
        return
    errors = row.errors
    if ledger.conflicts(record_id):
        errors = [
            FieldError(
                row.line,
                layout.id_column,
                record_id,
                conflict_reason(layout),
                ImportErrorCode.CONFLICT,
            )
        ]
    elif row.record is not None:
        ctx = _row_context(run, file, record_id)
        recorded_at = ctx.recorded_at
        try:
            with transaction.atomic():
                importer.apply(row.record, ctx)
        except ROW_ERRORS as error:
            refusal = importer.explain(row.record, error)
            value = row.raw.get(refusal.field, "") if refusal.field else ""
            errors = [FieldError(row.line, refusal.field, value, refusal.reason, refusal.code)]
        else:
            applied.append(
                ImportedRecord(
                    kind=importer.kind,
                    record_id=record_id,
                    row_sha256=digest,
                    file=file,
                    line=row.line,
                    applied_at=recorded_at,
                )
            )
            ledger.applied[record_id] = digest
            summary.applied += 1
            return
    quarantined.append(_quarantined(file, importer.kind, row, record_id, digest, errors))
    ledger.quarantined.add((record_id, digest))
    summary.quarantined[reason_key(errors[0].code, errors[0].field)] += 1


def _rejection_record(
    importer: Importer, *, path: Path, rejected: ImportRejected, user: Any, at: dt.datetime
) -> None:
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        digest = ""
    with transaction.atomic():
        file = ImportFile.objects.create(
            kind=importer.kind,
            file_name=rejected.file_name,
            sha256=digest,
            started_at=at,
            finished_at=timezone.now(),
            status=ImportFileStatus.REFUSED,
            rejected_reason=rejected.reason,
            actor=user,
        )
        _audit(file, user, importer.purpose)


def _audit(file: ImportFile, user: Any | None, purpose: Purpose) -> None:
    audit_event_record(
        event_type=EventType.FILE_IMPORTED,
        actor=user,
        subject_type=SubjectType.SYSTEM,
        subject_id=f"import_file:{file.pk}",
        purpose=purpose,
        extra={
            "import_file": {
                "id": file.pk,
                "kind": file.kind,
                "file_name": file.file_name,
                "sha256": file.sha256,
                "encoding": file.encoding,
                "counts": file.counts,
                "rejected_reason": file.rejected_reason,
            }
        },
    )
