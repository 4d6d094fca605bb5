"""The retention job (保存期間経過データの消去処理): erase what is past retention, record it.

`retention_run(as_of=…)` erases each data class in the order of `retention_rules()`, in
chunks, each chunk in its own transaction together with its deletion record (消去記録) and
its audit event. Append-only tables are opened for deletion only inside those transactions
(`SET LOCAL kokuho.retention_erasure = 'on'` on PostgreSQL, decision 8). My Number goes
through `identity.services.my_numbers_erase` (cryptographic erasure, decision 33), and the
run ends with a key rotation that retires the old KEKs when any number was erased. The
audit trail is cut as a prefix with a checkpoint, so it stays verifiable (decision 42).

Nothing that identifies a person is written anywhere by the job: records and events carry
the data class, the rule, the cutoff date and counts.
"""

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from kokuho.audit.models import AuditCheckpoint, AuditEvent, EventType, SubjectType
from kokuho.audit.selectors import audit_checkpoint_newest, audit_retention_until
from kokuho.audit.services import audit_event_record
from kokuho.certificates.models import (
    CertificateApplication,
    IssuedDocument,
    MailingBatch,
    MynaRegistration,
)
from kokuho.core.mynumber import mask_my_numbers_in
from kokuho.eligibility.models import (
    BranchNumber,
    CurrentEligibility,
    EligibilityNotice,
    EligibilityPeriod,
    EligibilityVersion,
    HouseholdNumber,
    KeptInsured,
    KijunApplication,
)
from kokuho.identity.services import my_numbers_erase, vault_keys_rotate
from kokuho.interfaces.models import ImportedRecord, ImportFile, ImportJob, QuarantinedRow
from kokuho.people.models import (
    Household,
    HouseholdHistory,
    Income,
    OtherCoverage,
    Person,
    PersonHistory,
)
from kokuho.retention.erasure import retention_erasure_declare
from kokuho.retention.models import DataClass, DeletionRecord, RetentionRun, RunStatus
from kokuho.retention.rules import Rule, claims_source, record_source, retention_rules
from kokuho.retention.selectors import (
    Group,
    audit_events_due,
    audit_events_due_through,
    chunks,
    document_prints_due,
    ledger_due,
    my_number_persons_due,
    my_numbers_due,
    quarantined_rows_due,
    records_due,
    upload_path,
    uploads_due,
)

# Persons (grouped by household) per transaction; other rows per transaction are this
# many times more (a quarantined row or a ledger row is cheaper than a person's records).
CHUNK = 500
ROWS_PER_PERSON = 4
AUDIT_ROWS_PER_PERSON = 100

ProgressCallback = Callable[[DataClass, int, int], None]


class RetentionErrorCode(StrEnum):
    FUTURE_DATE = "future_date"
    CUT_MISMATCH = "cut_mismatch"


class RetentionError(ValueError):
    """The job refuses to run (or stops); `code` for programs, the message for staff."""

    def __init__(self, code: RetentionErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


def _user(actor: Any | None) -> Any | None:
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def _erasing() -> None:
    """Declare this transaction the retention job's (PostgreSQL triggers then let DELETE
    through on append-only tables) and serialise it with other erasing transactions."""
    retention_erasure_declare()


class _Chunk:
    """Rows removed in one transaction, per table (model label), for the record."""

    def __init__(self) -> None:
        self.tables: Counter[str] = Counter()

    def delete(self, queryset: QuerySet) -> int:
        total, per_model = queryset.delete()
        self.tables.update({label: n for label, n in per_model.items() if n})
        return total


def _record(
    *,
    run: RetentionRun,
    rule: Rule,
    cutoff: dt.date,
    count: int,
    tables: dict[str, int],
    event: EventType | None = EventType.RECORDS_ERASED,
) -> DeletionRecord:
    """The deletion record (消去記録) and its audit event, in the caller's transaction."""
    record = DeletionRecord.objects.create(
        run=run,
        data_class=rule.data_class,
        rule=rule.name,
        cutoff=cutoff,
        count=count,
        tables=dict(sorted(tables.items())),
        erased_at=timezone.now(),
        actor=run.actor,
    )
    if event is not None:
        audit_event_record(
            event_type=event,
            actor=run.actor,
            subject_type=SubjectType.SYSTEM,
            subject_id=f"retention_run:{run.pk}",
            extra={
                "run": run.pk,
                "data_class": str(rule.data_class),
                "rule": rule.name,
                "cutoff": cutoff.isoformat(),
                "count": count,
                "tables": record.tables,
            },
        )
    return record


# --- My Number ---------------------------------------------------------------------------------


# Each eraser yields (erased, total): first (0, how many it found), then once per chunk.
Progress = Iterator[tuple[int, int]]


def _my_numbers_erase(*, run: RetentionRun, rule: Rule, cutoff: dt.date, chunk: int) -> Progress:
    due = my_numbers_due(cutoff=cutoff)
    yield 0, len(due)
    for atena_nos in chunks(due, chunk):
        # Again just before erasing: someone may have become insured again meanwhile.
        still_due = my_number_persons_due(cutoff=cutoff, atena_nos=atena_nos)
        # The vault and the business database are two databases: the vault commits first,
        # with identity's own `my_number_erased` event; the deletion record follows.
        erased = my_numbers_erase(atena_nos=sorted(still_due), rule=rule.name)
        if erased:
            with transaction.atomic():
                _record(
                    run=run,
                    rule=rule,
                    cutoff=cutoff,
                    count=erased,
                    tables={"identity.IdentityLink": erased},
                    event=None,  # identity's my_number_erased is this class's event
                )
        yield erased, len(due)


# --- people, households, eligibility --------------------------------------------------------


def _group_batches(groups: list[Group], size: int) -> Iterator[list[Group]]:
    batch: list[Group] = []
    persons = 0
    for group in groups:
        batch.append(group)
        persons += max(1, len(group.persons))
        if persons >= size:
            yield batch
            batch, persons = [], 0
    if batch:
        yield batch


def _records_delete(persons: list[int], households: list[int], done: _Chunk) -> None:
    """Everything the records class holds about these persons and households, children
    first (every relation is PROTECT: Django refuses if anything is left that refers)."""
    by_person = Q(person_id__in=persons)
    # 証・通知 are records of the 資格 事務: they go with the person (decision 139).
    done.delete(IssuedDocument.objects.filter(by_person | Q(household_id__in=households)))
    for model in (CertificateApplication, MynaRegistration):
        done.delete(model.objects.filter(by_person))
    done.delete(CurrentEligibility.objects.filter(by_person))
    done.delete(EligibilityPeriod.objects.filter(version__person_id__in=persons))
    for model in (EligibilityVersion, EligibilityNotice, KijunApplication, KeptInsured):
        done.delete(model.objects.filter(by_person))
    done.delete(
        BranchNumber.objects.filter(by_person | Q(household_number__household_id__in=households))
    )
    done.delete(HouseholdNumber.objects.filter(household_id__in=households))
    for model in (OtherCoverage, Income, PersonHistory):
        done.delete(model.objects.filter(by_person))
    done.delete(HouseholdHistory.objects.filter(household_id__in=households))
    # Person.household and Household.head refer to each other: untie, then delete both.
    Household.objects.filter(pk__in=households).update(head=None)
    done.delete(Person.objects.filter(pk__in=persons))
    done.delete(Household.objects.filter(pk__in=households))


def _records_erase(
    *, run: RetentionRun, rule: Rule, cutoff: dt.date, my_number_cutoff: dt.date, chunk: int
) -> Progress:
    planned = records_due(cutoff=cutoff, my_number_cutoff=my_number_cutoff).groups
    total = sum(len(g.persons) for g in planned)
    yield 0, total
    for batch in _group_batches(planned, chunk):
        persons = sorted(p for g in batch for p in g.persons)
        households = sorted(h for g in batch for h in g.households)
        with transaction.atomic():
            _erasing()
            # Lock the rows, then decide again: a 転入 or a late report committed since the
            # plan keeps its group.
            list(Person.objects.select_for_update().filter(pk__in=persons).values_list("pk"))
            list(Household.objects.select_for_update().filter(pk__in=households).values_list("pk"))
            again = records_due(
                cutoff=cutoff,
                my_number_cutoff=my_number_cutoff,
                persons=persons,
                households=households,
            )
            ok = [
                g
                for g in again.groups
                if set(g.persons) <= set(persons) and set(g.households) <= set(households)
            ]
            gone_persons = sorted(p for g in ok for p in g.persons)
            gone_households = sorted(h for g in ok for h in g.households)
            if ok:
                done = _Chunk()
                _records_delete(gone_persons, gone_households, done)
                count = len(gone_persons)
                _record(run=run, rule=rule, cutoff=cutoff, count=count, tables=done.tables)
        yield len(gone_persons), total


# --- claims (レセプト): provided by the benefits app ----------------------------------------


def _claims_erase(*, run: RetentionRun, rule: Rule, cutoff: dt.date, chunk: int) -> Progress:
    source = claims_source()
    if source is None:
        return
    total = source.claims_count(cutoff=cutoff)
    yield 0, total
    # The benefits app commits each chunk; the record follows it (as for My Number).
    for erased, tables in source.claims_erase(cutoff=cutoff, chunk=chunk):
        # A chunk of what rests on claims (高額療養費 results, decisions) erases no claim
        # itself but is recorded all the same: nothing goes without a deletion record.
        if erased or tables:
            with transaction.atomic():
                _record(run=run, rule=rule, cutoff=cutoff, count=erased, tables=tables)
        yield erased, total


# --- benefit decisions, payments, payee accounts: provided by their apps ------------------


def _source_erase(
    *, run: RetentionRun, rule: Rule, cutoff: dt.date, as_of: dt.date, chunk: int
) -> Progress:
    """As `_claims_erase`, for a class an app erases itself (`rules.record_source`); the
    source yields inside its chunk's transaction, so each record commits with its chunk."""
    source = record_source(rule.data_class)
    if source is None:
        return
    total = source.count(cutoff=cutoff, as_of=as_of)
    yield 0, total
    for erased, tables in source.erase(cutoff=cutoff, as_of=as_of, chunk=chunk):
        if erased or tables:
            with transaction.atomic():
                _record(run=run, rule=rule, cutoff=cutoff, count=erased, tables=tables)
        yield erased, total


# --- interface data ---------------------------------------------------------------------------


def _quarantine_erase(*, run: RetentionRun, rule: Rule, cutoff: dt.date, chunk: int) -> Progress:
    ids = list(quarantined_rows_due(cutoff=cutoff).order_by("pk").values_list("pk", flat=True))
    yield 0, len(ids)
    for part in chunks(ids, chunk):
        with transaction.atomic():
            _erasing()
            done = _Chunk()
            erased = done.delete(quarantined_rows_due(cutoff=cutoff).filter(pk__in=part))
            if erased:
                _record(run=run, rule=rule, cutoff=cutoff, count=erased, tables=done.tables)
        yield erased, len(ids)


def _document_prints_erase(
    *, run: RetentionRun, rule: Rule, cutoff: dt.date, chunk: int
) -> Progress:
    """The print files of documents (decision 166): removed from disk; a mailing batch's
    row keeps its SHA-256 and loses its path."""
    due = document_prints_due(cutoff=cutoff)
    yield 0, len(due)
    for paths in chunks(due, chunk):
        with transaction.atomic():
            for path in paths:
                path.unlink(missing_ok=True)
            MailingBatch.objects.filter(path__in=[str(p) for p in paths]).update(path="")
            _record(
                run=run,
                rule=rule,
                cutoff=cutoff,
                count=len(paths),
                tables={"document prints (KOKUHO_DOCUMENT_DIR)": len(paths)},
            )
        yield len(paths), len(due)


def _uploads_erase(*, run: RetentionRun, rule: Rule, cutoff: dt.date, chunk: int) -> Progress:
    due = uploads_due(cutoff=cutoff)
    yield 0, len(due)
    for names in chunks(due, chunk):
        with transaction.atomic():
            # Lock the jobs' rows so that a job of the same content cannot be recorded
            # between the check and the removal of the file.
            list(ImportJob.objects.select_for_update().filter(stored_name__in=names).values("pk"))
            erased = 0
            for name in uploads_due(cutoff=cutoff, names=names):
                path = upload_path(name)
                assert path is not None
                Path(path).unlink(missing_ok=True)
                erased += 1
            if erased:
                _record(
                    run=run,
                    rule=rule,
                    cutoff=cutoff,
                    count=erased,
                    tables={"uploads (KOKUHO_UPLOAD_DIR)": erased},
                )
        yield erased, len(due)


def _ledger_erase(
    *,
    run: RetentionRun,
    rule: Rule,
    cutoff: dt.date,
    quarantine_cutoff: dt.date,
    upload_cutoff: dt.date,
    chunk: int,
) -> Progress:
    due = ledger_due(
        cutoff=cutoff, quarantine_cutoff=quarantine_cutoff, upload_cutoff=upload_cutoff
    )
    work = [("file", pk) for pk in due.files] + [("job", pk) for pk in due.jobs]
    yield 0, len(work)
    for part in chunks(work, chunk):
        with transaction.atomic():
            _erasing()
            again = ledger_due(
                cutoff=cutoff,
                quarantine_cutoff=quarantine_cutoff,
                upload_cutoff=upload_cutoff,
                files=[pk for kind, pk in part if kind == "file"],
                jobs=[pk for kind, pk in part if kind == "job"],
            )
            done = _Chunk()
            done.delete(ImportedRecord.objects.filter(file_id__in=again.files))
            # Resolved rows past the quarantine rule that it has not reached yet.
            done.delete(QuarantinedRow.objects.filter(file_id__in=again.files))
            done.delete(
                ImportJob.objects.filter(Q(import_file_id__in=again.files) | Q(pk__in=again.jobs))
            )
            done.delete(ImportFile.objects.filter(pk__in=again.files))
            if again.count:
                _record(run=run, rule=rule, cutoff=cutoff, count=again.count, tables=done.tables)
        yield again.count, len(work)


# --- audit trail (decision 42) -------------------------------------------------------------------


def _audit_erase(
    *, run: RetentionRun, rule: Rule, cutoff: dt.date, as_of: dt.date, chunk: int
) -> Progress:
    """Cut the chain as a prefix, `chunk` events per transaction. Each transaction deletes
    the events up to seq K, records the checkpoint (K, the hash of K, how many, when, the
    rule), the deletion record and a `retention_erased` event, so the chain verifies after
    every commit."""
    # Where the prefix ends does not move while the job runs: events added meanwhile are
    # new. Each transaction takes the next `chunk` events after the newest checkpoint.
    through = audit_events_due_through(cutoff=cutoff)
    total = audit_events_due(cutoff=cutoff)
    yield 0, total
    while through is not None:
        with transaction.atomic():
            _erasing()
            latest = audit_checkpoint_newest()
            floor = latest.through_seq if latest else 0
            if through <= floor:
                return
            last = (
                AuditEvent.objects.filter(seq__gt=floor, seq__lte=through)
                .order_by("seq")
                .values_list("seq", flat=True)[chunk - 1 : chunk]
            )
            k = last[0] if last else through
            event = AuditEvent.objects.get(seq=k)
            if audit_retention_until(event=event) >= as_of:
                raise RetentionError(
                    RetentionErrorCode.CUT_MISMATCH,
                    f"監査ログ seq {k} はまだ保存期間内です（消去を中止しました）",
                )
            done = _Chunk()
            # Not below the newest checkpoint: a row put back there is tampering, and stays
            # for `audit verify` to report.
            removed = done.delete(AuditEvent.objects.filter(seq__gt=floor, seq__lte=k))
            AuditCheckpoint.objects.create(
                through_seq=k,
                through_hash=event.row_hash,
                rows_removed=removed,
                removed_at=timezone.now(),
                rule=rule.name,
            )
            _record(
                run=run,
                rule=rule,
                cutoff=cutoff,
                count=removed,
                tables=done.tables,
                event=None,
            )
            audit_event_record(
                event_type=EventType.RETENTION_ERASED,
                actor=run.actor,
                subject_type=SubjectType.SYSTEM,
                subject_id=f"retention_run:{run.pk}",
                extra={
                    "run": run.pk,
                    "rule": rule.name,
                    "cutoff": cutoff.isoformat(),
                    "through_seq": k,
                    "rows_removed": removed,
                },
            )
        yield removed, total


# --- the job -----------------------------------------------------------------------------------


def retention_run(
    *,
    as_of: dt.date,
    actor: Any | None = None,
    on_progress: ProgressCallback | None = None,
    chunk: int = CHUNK,
) -> RetentionRun:
    """保存期間経過データの消去: erase every data class past retention on `as_of` (not
    later than today: a future date would erase early). Returns the finished run; its
    `deletions` are the deletion records. Re-running erases nothing more."""
    today = timezone.localdate()
    if as_of > today:
        raise RetentionError(
            RetentionErrorCode.FUTURE_DATE,
            f"基準日 {as_of.isoformat()} は今日（{today.isoformat()}）より後です",
        )
    rules = retention_rules(as_of=as_of)
    cut = {data_class: rule.cutoff(as_of=as_of) for data_class, rule in rules.items()}
    run = RetentionRun.objects.create(as_of=as_of, started_at=timezone.now(), actor=_user(actor))
    counts: dict[str, int] = {str(c): 0 for c in rules}
    work: dict[DataClass, Callable[[], Progress]] = {
        DataClass.MY_NUMBER: lambda: _my_numbers_erase(
            run=run, rule=rules[DataClass.MY_NUMBER], cutoff=cut[DataClass.MY_NUMBER], chunk=chunk
        ),
        DataClass.RECORDS: lambda: _records_erase(
            run=run,
            rule=rules[DataClass.RECORDS],
            cutoff=cut[DataClass.RECORDS],
            my_number_cutoff=cut[DataClass.MY_NUMBER],
            chunk=chunk,
        ),
        DataClass.CLAIMS: lambda: _claims_erase(
            run=run, rule=rules[DataClass.CLAIMS], cutoff=cut[DataClass.CLAIMS], chunk=chunk
        ),
        **{
            data_class: (
                lambda data_class=data_class: _source_erase(
                    run=run,
                    rule=rules[data_class],
                    cutoff=cut[data_class],
                    as_of=as_of,
                    chunk=chunk,
                )
            )
            for data_class in (
                DataClass.BENEFIT_DECISIONS,
                DataClass.PAYMENTS,
                DataClass.PAYEE_ACCOUNTS,
            )
        },
        DataClass.INTERFACE_RAW: lambda: _quarantine_erase(
            run=run,
            rule=rules[DataClass.INTERFACE_RAW],
            cutoff=cut[DataClass.INTERFACE_RAW],
            chunk=chunk * ROWS_PER_PERSON,
        ),
        DataClass.INTERFACE_UPLOADS: lambda: _uploads_erase(
            run=run,
            rule=rules[DataClass.INTERFACE_UPLOADS],
            cutoff=cut[DataClass.INTERFACE_UPLOADS],
            chunk=chunk,
        ),
        DataClass.INTERFACE_LEDGER: lambda: _ledger_erase(
            run=run,
            rule=rules[DataClass.INTERFACE_LEDGER],
            cutoff=cut[DataClass.INTERFACE_LEDGER],
            quarantine_cutoff=cut[DataClass.INTERFACE_RAW],
            upload_cutoff=cut[DataClass.INTERFACE_UPLOADS],
            chunk=chunk,
        ),
        DataClass.DOCUMENT_PRINTS: lambda: _document_prints_erase(
            run=run,
            rule=rules[DataClass.DOCUMENT_PRINTS],
            cutoff=cut[DataClass.DOCUMENT_PRINTS],
            chunk=chunk,
        ),
        DataClass.AUDIT: lambda: _audit_erase(
            run=run,
            rule=rules[DataClass.AUDIT],
            cutoff=cut[DataClass.AUDIT],
            as_of=as_of,
            chunk=chunk * AUDIT_ROWS_PER_PERSON,
        ),
    }
    try:
        for data_class in rules:
            for erased, total in work[data_class]():
                counts[str(data_class)] += erased
                if on_progress:
                    on_progress(data_class, counts[str(data_class)], total)
        if counts[DataClass.MY_NUMBER]:
            # Decision 33: only with the old KEKs gone is an erased number unrecoverable
            # from backups too.
            vault_keys_rotate(retire_old=True)
            run.key_rotated = True
    except Exception as error:
        _finish(run, RunStatus.FAILED, counts, error=error)
        raise
    _finish(run, RunStatus.DONE, counts)
    return run


def _finish(
    run: RetentionRun, status: RunStatus, counts: dict[str, int], error: Exception | None = None
) -> None:
    with transaction.atomic():
        run.status = status
        run.finished_at = timezone.now()
        run.counts = counts
        if error is not None:
            run.error_message = mask_my_numbers_in(f"{type(error).__name__}: {error}")[:2000]
        run.save(update_fields=["status", "finished_at", "counts", "key_rotated", "error_message"])
        audit_event_record(
            event_type=EventType.RETENTION_RUN,
            actor=run.actor,
            subject_type=SubjectType.SYSTEM,
            subject_id=f"retention_run:{run.pk}",
            extra={
                "run": run.pk,
                "as_of": run.as_of.isoformat(),
                "status": str(status),
                "counts": counts,
                "key_rotated": run.key_rotated,
            },
        )
