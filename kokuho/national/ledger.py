"""Writing a feed's file into the outbound ledger (送信台帳), full or delta.

`national_export(feed=…, as_of=…, full=…)`:
- a full extract (全件) carries every current record as 新規 and resets the sent state;
- a delta (差分) carries the whole current record of each key whose content changed since the
  feed's last file (新規 for a key the other side does not hold, 変更 for one it holds with
  other content) and, for a key that no longer exists, its last content as 削除 — never field
  differences, so a lost file is repaired by the next one. A retroactive change re-sends every
  period it touches because each period is compared whole.

Atomicity: the ledger rows and the file are made in one transaction; the file is written to
a temporary name, fsynced and renamed before the commit. A run interrupted before the
commit leaves nothing in the ledger, so the next run takes the same sequence number and —
from the same data — writes the same bytes. A date already in the ledger is written again
from the lines the ledger kept, byte for byte, and takes nothing new.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.core.bulkwrite import row_writer
from kokuho.interfaces.exports import export_permission_check
from kokuho.interfaces.models import ExportRecord
from kokuho.national.charset import sjis_text
from kokuho.national.feeds import feed_spec, feeds_of
from kokuho.national.layouts import (
    Descriptor,
    descriptor,
    item_format,
    item_index,
    line_read,
    line_write,
)
from kokuho.national.models import (
    Feed,
    NationalWorkItem,
    OutboundFile,
    OutboundRecord,
    Processing,
    SentState,
    WorkItemKind,
)
from kokuho.national.prepare import Prepared, PreparedChunk
from kokuho.national.workers import prepared_chunks

SHUYAKU_FEEDS = feeds_of("shuyaku")
_RECORD_FIELDS = (
    "file", "line_no", "key", "subject", "processing", "line", "result", "result_code",
    "result_message",
)  # fmt: skip
_STATE_FIELDS = ("feed", "key", "subject", "content_sha256", "line", "deleted", "file")


class NationalExportError(ValueError):
    """A file that may not be made (a date before the feed's last file, a delta first)."""


@dataclass
class ExportOutcome:
    file: OutboundFile
    path: Path
    repeated: bool
    layout_note: str
    held: int = 0  # records kept back as work items (外字)
    messages: list[str] = field(default_factory=list)


def feed_dir(feed: str) -> Path:
    return Path(settings.KOKUHO_NATIONAL_DIR) / feed


def file_name_for(desc: Descriptor, sequence: int, as_of: dt.date) -> str:
    return f"{desc.layout}_{settings.KOKUHO_INSURER_NUMBER}_{sequence:08d}_{as_of:%Y%m%d}.csv"


class _Writer:
    """A temporary file next to the target, hashed while written, renamed when done."""

    def __init__(self, path: Path, desc: Descriptor) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.desc = path, desc
        self.temporary = path.with_name(f".{path.name}.tmp")
        self.out: IO[bytes] = self.temporary.open("wb")
        self.sha = hashlib.sha256()

    def line(self, text: str) -> None:
        raw = (text + self.desc.line_ending).encode(self.desc.encoding)
        self.out.write(raw)
        self.sha.update(raw)

    def finish(self) -> str:
        self.out.flush()
        os.fsync(self.out.fileno())
        self.out.close()
        os.replace(self.temporary, self.path)
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)  # the rename itself survives a crash
        finally:
            os.close(directory)
        return self.sha.hexdigest()

    def abandon(self) -> None:
        self.out.close()
        self.temporary.unlink(missing_ok=True)


def _control(desc: Descriptor, file: OutboundFile) -> str:
    from kokuho.national.extract import municipality_code

    values = {
        "layout": desc.layout,
        "version": desc.version,
        "insurer_no": settings.KOKUHO_INSURER_NUMBER,
        "municipality_code": municipality_code(),
        "file_kind": "1" if file.full else "2",
        "sequence": str(file.sequence),
        "as_of": file.as_of,
    }
    return line_write(desc, "control", values, file.as_of)


def _end(desc: Descriptor, file: OutboundFile, count: int) -> str:
    return line_write(desc, "end", {"count": str(count)}, file.as_of)


# Hooks of the feed's spec (FeedSpec.writer / .filler): the オンライン資格確認 file is written
# encrypted at rest, and My Number goes into its lines only here, never into the ledger.
RESEND_CORRECTED = "resend:correct"  # SentState.content_sha256: re-send the key as 訂正


def _writer_for(feed: str, path: Path, desc: Descriptor) -> Any:
    spec = feed_spec(feed)
    return import_string(spec.writer)(path, desc) if spec.writer else _Writer(path, desc)


def _filler_for(file: OutboundFile, desc: Descriptor) -> Callable[..., list[str]] | None:
    spec = feed_spec(file.feed)
    return import_string(spec.filler)(file, desc) if spec.filler else None


def _write_lines(writer: Any, fill: Callable[..., list[str]] | None, rows: list) -> None:
    """Lines (subject, line as kept) into the file, through the feed's filler if it has one."""
    for line in fill(rows) if fill and rows else [line for _, line in rows]:
        writer.line(line)


def _rewrite(desc: Descriptor, file: OutboundFile, path: Path) -> Path:
    """The ledger's file written again from the lines it kept (a repeat of its date)."""
    writer = _writer_for(file.feed, path, desc)
    fill = _filler_for(file, desc)
    try:
        writer.line(_control(desc, file))
        lines = OutboundRecord.objects.filter(file=file).order_by("line_no")
        batch: list[tuple[int, str]] = []
        for row in lines.values_list("subject", "line").iterator(chunk_size=5000):
            batch.append(row)
            if len(batch) == 5000:
                _write_lines(writer, fill, batch)
                batch = []
        _write_lines(writer, fill, batch)
        writer.line(_end(desc, file, file.record_count))
    except BaseException:
        writer.abandon()
        raise
    if writer.finish() != file.sha256:
        raise NationalExportError(
            f"{file.file_name}: 台帳の記録から作り直したファイルのハッシュが一致しません"
        )
    return writer.path


@dataclass
class _Run:
    desc: Descriptor
    file: OutboundFile
    writer: _Writer
    now: dt.datetime
    line_no: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {p.label: 0 for p in Processing})
    held: int = 0
    fill: Callable[..., list[str]] | None = None


def _as_written(values: dict[str, Any]) -> dict[str, Any]:
    # sjis_text changes only non-ASCII characters.
    return {
        k: sjis_text(v) if isinstance(v, str) and not v.isascii() else v for k, v in values.items()
    }


def _chunk(run: _Run, chunk: PreparedChunk) -> None:
    feed, file, as_of = run.file.feed, run.file, run.file.as_of
    state = {
        s.key: s
        for s in SentState.objects.filter(
            feed=feed, subject__gte=chunk.subjects.start, subject__lt=chunk.subjects.stop
        )
    }
    emitted: list[tuple[Any, ...]] = []
    new_state: list[tuple[Any, ...]] = []
    changed: list[tuple[Any, ...]] = []
    held_items: list[NationalWorkItem] = []
    present: set[str] = set()

    coder = feed_spec(feed).record_coder()
    desc = run.desc
    at = item_index(desc, "data", "processing")
    processing_text: dict[str, str] = {}

    def emit(
        key: str,
        subject: int,
        processing: Processing,
        values: dict[str, Any],
        prev: SentState | None = None,
        entry: Prepared | None = None,
    ) -> str:
        if coder is None and entry is not None:
            # The content with 処理区分 put in: the line `line_write` would make.
            code = processing.value
            if at is not None and code not in processing_text:
                processing_text[code] = item_format(desc, "data", at, code, as_of)
            line = entry.line(processing_text.get(code, ""))
        else:
            if coder is None:
                values = values | {"processing": processing.value}
            else:  # the feed's own record code (副本: 新規異動区分) from the ledger's decision
                values = coder(processing=processing, prev=prev, values=values, full=file.full)
            line = line_write(desc, "data", values, as_of)
        run.line_no += 1
        run.counts[processing.label] += 1
        emitted.append((file.pk, run.line_no, key, subject, processing.value, line, "", "", ""))
        return line

    if chunk.after is not None:
        path, arguments = chunk.after
        import_string(path)(*arguments)
    for entry in chunk.entries:
        record, bad, sha = entry.record, entry.bad, entry.sha
        present.add(record.key)
        if entry.held:
            run.held += 1
            chars = "・".join(dict.fromkeys(bad))
            held_items.append(
                NationalWorkItem(
                    feed=feed,
                    kind=WorkItemKind.CHARSET,
                    key=record.key,
                    person_id=record.person_id,
                    message=f"Shift_JIS で書けない文字「{chars}」があるため送信を保留しました"
                    f"（{record.key}）。代替字に直してください。",
                    created_at=run.now,
                )
            )
            continue
        prev = state.get(record.key)
        if file.full or prev is None or prev.deleted:
            processing = Processing.NEW
        elif prev.content_sha256 != sha:
            corrected = prev.content_sha256 == RESEND_CORRECTED
            processing = Processing.CORRECT if corrected else Processing.CHANGE
        else:
            continue
        values = _as_written(record.values) if coder is not None else record.values
        line = emit(record.key, record.subject, processing, values, prev, entry)
        if prev is None:
            new_state.append((feed, record.key, record.subject, sha, line, False, file.pk))
        else:
            changed.append((record.subject, sha, line, False, file.pk, prev.pk))
    for key, prev in sorted(state.items()):
        if key in present or prev.deleted:
            continue
        if file.full:
            # The full extract replaces what the other side holds: no 削除 records.
            changed.append((prev.subject, prev.content_sha256, prev.line, True, file.pk, prev.pk))
            continue
        values = line_read(run.desc, "data", prev.line)
        line = emit(key, prev.subject, Processing.DELETE, values, prev)
        changed.append((prev.subject, prev.content_sha256, line, True, file.pk, prev.pk))
    _write_lines(run.writer, run.fill, [(e[3], e[5]) for e in emitted])
    writer = row_writer(connection)
    writer.insert(OutboundRecord, _RECORD_FIELDS, emitted)
    writer.insert(SentState, _STATE_FIELDS, new_state)
    writer.update(SentState, ("subject", "content_sha256", "line", "deleted", "file"), changed)
    if held_items:
        NationalWorkItem.objects.bulk_create(held_items, ignore_conflicts=True)
    sent_keys = [e[2] for e in emitted]
    if sent_keys:
        # A record that could leave again closes its 外字 work item.
        NationalWorkItem.objects.filter(
            feed=feed, kind=WorkItemKind.CHARSET, key__among=sent_keys, resolved_at__isnull=True
        ).update(resolved_at=run.now, version=F("version") + 1)


def national_export(
    *,
    feed: Feed,
    as_of: dt.date,
    full: bool,
    actor: Any | None,
    on_progress: Callable[[int], None] | None = None,
) -> ExportOutcome:
    """One file of `feed` for the 基準日 `as_of` (see the module docstring)."""
    desc = descriptor(feed.value)
    directory = feed_dir(feed.value)
    existing = OutboundFile.objects.filter(feed=feed, as_of=as_of).first()
    if existing is not None:
        path = _rewrite(desc, existing, directory / existing.file_name)
        return ExportOutcome(existing, path, True, desc.summary())
    last = OutboundFile.objects.filter(feed=feed).order_by("-sequence").first()
    if last is not None and as_of < last.as_of:
        raise NationalExportError(
            f"{feed.label}: 基準日 {as_of} は最後のファイル（通番 {last.sequence}、"
            f"基準日 {last.as_of}）より前です"
        )
    if not full and not OutboundFile.objects.filter(feed=feed, full=True).exists():
        raise NationalExportError(
            f"{feed.label}: 差分の前に全件ファイル（--full）を作成してください"
        )
    export_permission_check(actor=actor)
    now = timezone.now()
    sequence = last.sequence + 1 if last else 1
    # Worker processes see committed data only: a caller's own open transaction (a test's,
    # a job's) keeps the extract in this process.
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        file = OutboundFile.objects.create(
            feed=feed,
            sequence=sequence,
            as_of=as_of,
            full=full,
            file_name=file_name_for(desc, sequence, as_of),
            layout_version=desc.version,
            assumed=desc.assumed,
            created_at=now,
        )
        path = directory / file.file_name
        run = _Run(desc, file, _writer_for(feed, path, desc), now, fill=_filler_for(file, desc))
        path = run.writer.path
        try:
            run.writer.line(_control(desc, file))
            for chunk in prepared_chunks(feed=feed, desc=desc, as_of=as_of, outermost=outermost):
                _chunk(run, chunk)
                if on_progress:
                    on_progress(run.line_no)
            run.writer.line(_end(desc, file, run.line_no))
        except BaseException:
            run.writer.abandon()
            raise
        file.sha256 = run.writer.finish()
        file.record_count = run.line_no
        file.counts = run.counts | {"保留（外字）": run.held}
        file.sent_at = now
        file.export = _register(file, actor)
        file.save(update_fields=["sha256", "record_count", "counts", "sent_at", "export"])
        audit_event_record(
            event_type=EventType.NATIONAL_EXPORTED,
            actor=actor,
            subject_type=SubjectType.EXPORT,
            subject_id=str(file.export.pk),
            purpose=feed_spec(feed).purpose,
            extra={
                "feed": feed.value,
                "sequence": sequence,
                "as_of": as_of.isoformat(),
                "full": full,
                "records": run.line_no,
                "held": run.held,
                "layout_version": desc.version,
                "assumed": desc.assumed,
                "sha256": file.sha256,
            },
        )
    messages = [f"保留 {run.held}件（外字: 作業項目を確認してください）"] if run.held else []
    return ExportOutcome(file, path, False, desc.summary(), run.held, messages)


def _register(file: OutboundFile, actor: Any | None) -> ExportRecord:
    """外部出力記録 of the file. Written here rather than by `export_register`, which wants
    the file's bytes in memory: a full extract of a city is streamed and only its hash kept."""
    spec = feed_spec(file.feed)
    return ExportRecord.objects.create(
        kind=spec.export_kind,
        produced_at=file.created_at,
        produced_by=actor,
        purpose=str(spec.purpose),
        legal_basis=spec.legal_basis,
        recipient=spec.recipient_name(),
        record_count=file.record_count,
        file_name=file.file_name,
        file_sha256=file.sha256,
        reference=f"national:{file.feed}:{file.sequence}",
    )
