"""一斉更新: the yearly renewal of every insured person's 資格確認書 / 資格情報のお知らせ.

`kokuho certificates renew --date YYYY-MM-DD` (or the screen, through the task worker):

1. the persons insured on the renewal date (one query over the current periods);
2. for each, in chunks of `CHUNK` in one transaction each, what the rules give them
   (`services.basic_request`) — issued with reason 更新, by post, the previous 資格確認書
   simply expiring the day before;
3. the run's documents not yet printed, in mailing order (postal code, address, household),
   rendered into PDFs of `KOKUHO_MAILING_BATCH_SIZE` documents under
   `KOKUHO_DOCUMENT_DIR/renewal-<date>/`, each recorded as a `MailingBatch` with its SHA-256.

Idempotent: a person who already has a document of a renewal for the same date is skipped,
and printed documents are not printed again — re-running a renewal (after a failure, or by
mistake) issues nothing twice. Persons who cannot be issued (no 記号・番号 yet, a rule that
refuses) are counted with the reason and left for the counter.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import batched
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Q
from django.tasks import task
from django.utils import timezone

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.certificates.models import (
    Delivery,
    DocumentStatus,
    IssuedDocument,
    IssueReason,
    MailingBatch,
    MynaRegistration,
    RenewalRun,
    RenewalStatus,
)
from kokuho.certificates.printing import (
    batch_file_write,
    documents_render,
    groups_render,
    mailing_order,
)
from kokuho.certificates.services import (
    BASIC_TYPES,
    DocumentError,
    IssueRequest,
    basic_request,
    category_shown_many,
    documents_issue,
    person_documents_many,
)
from kokuho.core.bulkwrite import StatisticsKeeper, stale_tables_analyze
from kokuho.core.forking import reads_map
from kokuho.core.liveness import dead_runs_close, worker_id
from kokuho.core.mynumber import mask_my_numbers_in
from kokuho.core.purposes import Purpose
from kokuho.eligibility.models import CurrentEligibility, EligibilityPeriod, HouseholdNumber
from kokuho.eligibility.selectors import PERSON_STATE_READS
from kokuho.people.models import Person

logger = logging.getLogger(__name__)
Progress = Callable[[str, int, int], None]
CHUNK = 200


def insured_on(day: dt.date) -> list[int]:
    """Persons insured on `day` by their current eligibility version (one query)."""
    return sorted(
        set(
            EligibilityPeriod.objects.filter(
                version__in=CurrentEligibility.objects.values("version_id"), start__lte=day
            )
            .filter(Q(end__isnull=True) | Q(end__gte=day))
            .values_list("version__person_id", flat=True)
        )
    )


# The tables deciding a chunk reads by lists of ids: the persons' states
# (`PERSON_STATE_READS`), then the numbers, マイナ status and earlier documents
# (`person_documents_many`, `category_shown_many`, `documents_issue`). On PostgreSQL a table
# never analysed (a server without autovacuum, rows just loaded) is planned from defaults
# that call 200 ids of a non-unique column most of the table: the 枝番 and the periods were
# read by scanning every row, once a chunk, so deciding slowed down with the size of the city.
DECIDING_READS: tuple[type[models.Model], ...] = (
    *PERSON_STATE_READS,
    HouseholdNumber,
    MynaRegistration,
    IssuedDocument,
)


def statistics_refresh(tables: Iterable[type[models.Model]] = DECIDING_READS) -> list[str]:
    """ANALYZE those of `tables` never analysed or changed by half since (PostgreSQL); the
    names of the tables analysed."""
    return stale_tables_analyze(connection, list(tables))


INTERRUPTED_MESSAGE = (
    "更新処理をしていたプロセスが途中で停止しました（中断）。交付済みの分はそのまま有効です。"
    "同じ更新日でもう一度実行すると、残りの交付と未印刷分の印刷を続けます。"
)


def renewal_runs_interrupted_mark(*, now: dt.datetime | None = None) -> int:
    """Close as 失敗 every 処理中 renewal whose process is gone (`kokuho.core.liveness`).
    What it issued stays issued; the next run of the date issues the rest and prints every
    document of the date not yet in a batch."""
    now = now or timezone.now()
    return dead_runs_close(
        RenewalRun.objects.filter(status=RenewalStatus.RUNNING),
        now=now,
        status=RenewalStatus.FAILED,
        finished_at=now,
        error=INTERRUPTED_MESSAGE,
    )


def renewal_run_create(*, renewal_date: dt.date, actor: Any | None) -> RenewalRun:
    renewal_runs_interrupted_mark()
    return RenewalRun.objects.create(renewal_date=renewal_date, requested_by=actor)


def renewal_run_submit(*, renewal_date: dt.date, actor: Any) -> RenewalRun:
    """Queue a renewal for the background worker (the screen's path)."""
    with transaction.atomic():
        run = renewal_run_create(renewal_date=renewal_date, actor=actor)
        result = renewal_run_task.enqueue(run_id=run.pk)
        RenewalRun.objects.filter(pk=run.pk).update(task_id=str(result.id))
    return run


@task()
def renewal_run_task(*, run_id: int) -> str:
    """The worker's task (thin; the work is `renewal_run_execute`)."""
    return renewal_run_execute(run_id=run_id).status


def _progress(run_id: int, on_progress: Progress | None) -> Progress:
    def report(stage: str, done: int, total: int) -> None:
        RenewalRun.objects.filter(pk=run_id).update(
            stage=stage, done=done, total=total, heartbeat_at=timezone.now()
        )
        if on_progress:
            on_progress(stage, done, total)

    return report


def renewal_run_execute(*, run_id: int, on_progress: Progress | None = None) -> RenewalRun:
    """Run a queued renewal; the run as it ended. A run no longer queued is left alone."""
    now = timezone.now()
    claimed = RenewalRun.objects.filter(pk=run_id, status=RenewalStatus.QUEUED).update(
        status=RenewalStatus.RUNNING, started_at=now, worker=worker_id(), heartbeat_at=now
    )
    run = RenewalRun.objects.get(pk=run_id)
    if not claimed:
        return run
    try:
        counts = _renew(run, _progress(run_id, on_progress))
    except BaseException as error:
        logger.exception("renewal run %s failed", run_id)
        RenewalRun.objects.filter(pk=run_id).update(
            status=RenewalStatus.FAILED,
            finished_at=timezone.now(),
            error=mask_my_numbers_in(f"{type(error).__name__}: {error}"),
        )
        if not isinstance(error, Exception):
            raise
        return RenewalRun.objects.get(pk=run_id)
    RenewalRun.objects.filter(pk=run_id).update(
        status=RenewalStatus.DONE, finished_at=timezone.now(), counts=counts
    )
    return RenewalRun.objects.get(pk=run_id)


Decided = tuple[list[IssueRequest], Counter[str]]


def chunk_decide(chunk: Sequence[int], day: dt.date) -> Decided:
    """What the rules give each person of `chunk` on the renewal date (a fixed number of
    reads, no writes): the requests to issue, and the persons skipped counted by reason."""
    people = Person.objects.in_bulk(list(chunk))
    found_all = person_documents_many(persons=[people[pk] for pk in chunk], on=day)
    shown = category_shown_many(person_ids=list(chunk))
    requests: list[IssueRequest] = []
    skipped: Counter[str] = Counter()
    for pk in chunk:
        found = found_all[pk]
        if not found.printed.get("number"):
            skipped["記号・番号が未付番"] += 1
            continue
        try:
            requests.append(basic_request(found, show_category=shown.get(pk, False)))
        except DocumentError as refused:
            skipped[str(refused)] += 1
    return requests, skipped


def decided_chunks(chunks: Sequence[Sequence[int]], day: dt.date) -> Iterator[Decided]:
    """Each chunk decided, in the chunks' order.

    Deciding is reads and Python (the persons' states, 負担割合 and printed items), issuing
    is writes: `KOKUHO_READ_WORKERS` forked processes decide the chunks ahead while this
    one issues (`core.forking.reads_map`: PostgreSQL, outside a caller's transaction). The
    chunks hold different persons, and what a chunk reads of a person (their periods,
    income, numbers, earlier documents) no other chunk's issuing writes, so a worker seeing
    committed data decides as this process would."""
    return reads_map(
        functools.partial(chunk_decide, day=day),
        chunks,
        workers=settings.KOKUHO_READ_WORKERS,
    )


def _renew(run: RenewalRun, progress: Progress) -> dict[str, Any]:
    day = run.renewal_date
    insured = insured_on(day)
    done_before = set(
        IssuedDocument.objects.filter(
            renewal__renewal_date=day, doc_type__in=BASIC_TYPES
        ).values_list("person_id", flat=True)
    )
    todo = [pk for pk in insured if pk not in done_before]
    statistics_refresh()
    issuing = StatisticsKeeper(connection, [IssuedDocument])
    issued: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    replaced = 0  # documents still valid on the day, invalidated by their successor
    progress("交付の判定", 0, len(todo))
    chunks = list(batched(todo, CHUNK))
    for i, (requests, refused) in enumerate(decided_chunks(chunks, day)):
        skipped.update(refused)
        documents = documents_issue(
            requests,
            reason=IssueReason.RENEWAL,
            delivery=Delivery.MAIL,
            actor=run.requested_by,
            renewal=run,
            audit_each=False,
        )
        issued.update(d.doc_type for d in documents)
        replaced += sum(1 for d in documents if d.replaces_id)
        issuing.wrote(len(documents))  # the documents table grows by the run's own output
        progress("交付の判定", min((i + 1) * CHUNK, len(todo)), len(todo))
    unprintable: dict[str, str] = {}
    batches = _print(run, progress, unprintable)
    counts = {
        "insured": len(insured),
        "already_renewed": len(done_before),
        "issued": dict(issued),
        "replaced": replaced,
        "skipped": dict(skipped),
        "batches": batches,
        "unprintable": unprintable,
    }
    audit_event_record(
        event_type=EventType.CERTIFICATE_RENEWAL,
        actor=run.requested_by,
        subject_type=SubjectType.SYSTEM,
        subject_id=f"renewal:{day.isoformat()}",
        purpose=Purpose.NHI_ELIGIBILITY,
        extra={
            "insured": len(insured),
            "issued": sum(issued.values()),
            "replaced": replaced,
            "skipped": sum(skipped.values()),
        },
    )
    return counts


def _print(run: RenewalRun, progress: Progress, unprintable: dict[str, str]) -> int:
    """Print the renewal date's documents not in a batch yet — this run's, and those a run
    cut off before its printing had issued; the number of batches written."""
    pending = IssuedDocument.objects.filter(
        renewal__renewal_date=run.renewal_date, batch__isnull=True, status=DocumentStatus.VALID
    )
    directory = settings.KOKUHO_DOCUMENT_DIR / f"renewal-{run.renewal_date.isoformat()}"
    seq = MailingBatch.objects.filter(renewal__renewal_date=run.renewal_date).count() + 1
    return mailing_batches_print(
        pending,
        directory=directory,
        name=f"run{run.pk}",
        renewal=run,
        first_seq=seq,
        progress=progress,
        unprintable=unprintable,
    )


def mailing_batches_print(
    documents: Iterable[IssuedDocument],
    *,
    directory: Path,
    name: str,
    renewal: RenewalRun | None,
    first_seq: int,
    progress: Progress,
    unprintable: dict[str, str] | None = None,
) -> int:
    """Render documents in mailing order into PDFs of `KOKUHO_MAILING_BATCH_SIZE`, each
    recorded as a `MailingBatch` (file written first, then the rows in one transaction, so a
    failure leaves the documents unprinted, to be printed by the next run). A document the
    renderer refuses is left out with its reason in `unprintable` (serial → reason)."""
    if unprintable is None:
        unprintable = {}
    pending = mailing_order(documents)
    size = settings.KOKUHO_MAILING_BATCH_SIZE
    groups = [pending[offset : offset + size] for offset in range(0, len(pending), size)]
    written = 0
    done = 0
    progress("印刷", 0, len(pending))
    for group, content in zip(groups, groups_render(groups, mailed=True), strict=True):
        done += len(group)
        if isinstance(content, ValueError):
            # One document the renderer refuses must not hold back the others: it stays
            # unprinted (listed by the caller) and the rest of the group is printed.
            group = [d for d in group if _printable(d, unprintable)]
            if not group:
                continue
            content = documents_render(group, mailed=True)
        seq = first_seq + written
        path, digest = batch_file_write(directory, f"{name}-batch{seq:04d}.pdf", content)
        with transaction.atomic():
            batch = MailingBatch.objects.create(
                renewal=renewal,
                seq=seq,
                document_count=len(group),
                pages=len(group),
                postal_from=group[0].printed.get("postal_code") or "",
                postal_to=group[-1].printed.get("postal_code") or "",
                path=str(path),
                sha256=digest,
            )
            IssuedDocument.objects.filter(pk__in=[d.pk for d in group]).update(batch=batch)
        written += 1
        progress("印刷", done, len(pending))
    return written


def _printable(document: IssuedDocument, unprintable: dict[str, str]) -> bool:
    try:
        documents_render([document], mailed=True)
    except ValueError as refused:
        unprintable[document.serial] = mask_my_numbers_in(str(refused))
        logger.warning(
            "document %s not printable: %s", document.serial, unprintable[document.serial]
        )
        return False
    return True
