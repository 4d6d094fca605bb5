"""Builders for the retention tests: residents with a dated history through the same entry
point as the registry importer (`event_apply`), numbers through the vault's bulk service,
audit events at a chosen time, import ledger rows and uploads.

Audit events dated in the past are appended the way `audit_event_record` appends (chain
head locked, hash of the previous row) but with their own `occurred_at`: the trail must
look as it will after years of use, and the job cuts it as a prefix, so tests plant the
old events first."""

import datetime as dt
import hashlib
import itertools
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connections, transaction

from kokuho.audit.models import AuditEvent, EventType, SubjectType
from kokuho.audit.services import chain_head_locked, event_hash
from kokuho.core.mynumber import my_number_check_digit
from kokuho.core.purposes import Purpose
from kokuho.eligibility.events import ChangeEvent, ChangeType, event_apply
from kokuho.identity.checks import NumberCheck
from kokuho.identity.services import my_numbers_register_bulk
from kokuho.interfaces.models import (
    ImportedRecord,
    ImportFile,
    ImportFileStatus,
    ImportJob,
    ImportJobStatus,
    ImportKind,
    QuarantinedRow,
    QuarantineStatus,
)
from kokuho.people.models import Person
from kokuho.people.registry import ResidentData

JST = ZoneInfo("Asia/Tokyo")
D = dt.date
_serial = itertools.count(1)


def at(day: dt.date, hour: int = 10, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute, second), tzinfo=JST)


def arrive(
    *, moved_in: dt.date, household_no: str | None = None, relation: str = "世帯主"
) -> Person:
    """転入 of a new resident (insured from that day, a household of their own unless
    `household_no` names an existing one)."""
    n = next(_serial)
    atena = f"31{n:08d}"
    data = ResidentData(
        atena, f"試験 {n}号", "シケン イチゴウ", D(1970, 1, 1), 1, "みかん市本町1-1"
    )
    household_no = household_no or f"71{n:08d}"
    event = ChangeEvent(ChangeType.MOVE_IN, moved_in, moved_in, atena, household_no, relation, data)
    event_apply(event, recorded_at=at(moved_in), actor=None)
    return Person.objects.get(atena_no=atena)


def depart(person: Person, *, on: dt.date) -> Person:
    """転出 on `on`: no longer a resident, eligibility lost that day (資格喪失日)."""
    event_apply(
        ChangeEvent(ChangeType.MOVE_OUT, on, on, person.atena_no), recorded_at=at(on), actor=None
    )
    person.refresh_from_db()
    return person


def facility_move_out(person: Person, *, on: dt.date) -> Person:
    """転出 to a 住所地特例 facility: no longer a resident, still insured here."""
    event = ChangeEvent(ChangeType.FACILITY_MOVE_OUT, on, on, person.atena_no)
    event_apply(event, recorded_at=at(on), actor=None)
    person.refresh_from_db()
    return person


def synthetic_my_number() -> str:
    first = f"97{next(_serial):09d}"
    return first + str(my_number_check_digit(first))


def register_numbers(*persons: Person) -> None:
    """Link a (made-up) number to each person, as the 初期移行 does."""
    my_numbers_register_bulk(
        numbers={p.atena_no: synthetic_my_number() for p in persons},
        number_check=NumberCheck.REGISTRY_MATCH,
        purpose=Purpose.NHI_ELIGIBILITY,
        source="test",
    )


def plant_event(occurred_at: dt.datetime, subject_id: str = "3100000000") -> AuditEvent:
    """An access event appended to the chain as if recorded at `occurred_at`."""
    with transaction.atomic():
        head = chain_head_locked()
        event = AuditEvent(
            event_type=EventType.PERSON_VIEWED,
            occurred_at=occurred_at,
            actor=None,
            actor_username="",
            subject_type=SubjectType.PERSON,
            subject_id=subject_id,
            purpose=str(Purpose.NHI_ELIGIBILITY),
            extra={"screen": "test"},
        )
        event.prev_hash = head.last_hash
        event.row_hash = event_hash(head.last_hash, event)
        event.save(force_insert=True)
        head.last_seq, head.last_hash = event.seq, event.row_hash
        head.save(update_fields=["last_seq", "last_hash"])
    return event


def import_file(*, started: dt.datetime, records: int = 0) -> ImportFile:
    """A 住基異動 file in the ledger with `records` applied record ids."""
    n = next(_serial)
    file = ImportFile.objects.create(
        kind=ImportKind.RESIDENTS_CHANGES,
        file_name=f"juki_{n}.csv",
        sha256=hashlib.sha256(str(n).encode()).hexdigest(),
        encoding="utf-8",
        started_at=started,
        finished_at=started + dt.timedelta(minutes=5),
        status=ImportFileStatus.DONE,
        counts={"applied": records},
    )
    ImportedRecord.objects.bulk_create(
        ImportedRecord(
            kind=file.kind,
            record_id=f"R{n}-{i}",
            row_sha256="0" * 64,
            file=file,
            line=i + 2,
            applied_at=started,
        )
        for i in range(records)
    )
    return file


def quarantined_row(
    *, file: ImportFile, resolved: dt.datetime | None, raw_name: str = "試験 保留"
) -> QuarantinedRow:
    """A 保留行 holding a raw registry line; resolved (破棄) at `resolved`, or open."""
    n = next(_serial)
    return QuarantinedRow.objects.create(
        file=file,
        kind=file.kind,
        line=n,
        record_id=f"Q{n}",
        field="birth_date",
        value="1970-13-01",
        code="invalid_date",
        reason="日付の誤り",
        errors=[],
        raw={"name": raw_name, "birth_date": "1970-13-01"},
        row_sha256=hashlib.sha256(f"q{n}".encode()).hexdigest(),
        status=QuarantineStatus.DISCARDED if resolved else QuarantineStatus.OPEN,
        resolved_at=resolved,
    )


def upload(
    *,
    finished: dt.datetime | None,
    by,
    content: bytes | None = None,
    file: ImportFile | None = None,
) -> ImportJob:
    """An uploaded file under KOKUHO_UPLOAD_DIR and its 取込依頼, finished at `finished`
    (None: still queued)."""
    content = content if content is not None else f"raw line {next(_serial)}\n".encode()
    digest = hashlib.sha256(content).hexdigest()
    Path(settings.KOKUHO_UPLOAD_DIR, digest).write_bytes(content)
    created = (finished or at(D(2026, 1, 1))) - dt.timedelta(minutes=10)
    return ImportJob.objects.create(
        kind=ImportKind.RESIDENTS_CHANGES,
        file_name="juki.csv",
        stored_name=digest,
        sha256=digest,
        size=len(content),
        status=ImportJobStatus.DONE if finished else ImportJobStatus.QUEUED,
        import_file=file,
        submitted_by=by,
        created_at=created,
        started_at=created if finished else None,
        finished_at=finished,
    )


def upload_exists(job: ImportJob) -> bool:
    return Path(settings.KOKUHO_UPLOAD_DIR, job.stored_name).exists()


def table_counts() -> dict[str, int]:
    """Rows per table in both databases (nothing more), to show a plan changed nothing."""
    counts = {}
    for alias in ("default", "vault"):
        connection = connections[alias]
        with connection.cursor() as cursor:
            for table in connection.introspection.table_names(cursor):
                cursor.execute(f'SELECT COUNT(*) FROM "{table}"')  # noqa: S608 (own tables)
                counts[f"{alias}.{table}"] = cursor.fetchone()[0]
    return counts
