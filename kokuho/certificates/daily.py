"""日次処理 of documents: `kokuho certificates daily [--date YYYY-MM-DD]`.

Bulk imports (住基異動, 所得) change eligibility and printed items without touching
documents; this job catches up once a day, for the holders of a valid document only:

1. persons whose eligibility, registry record, household head or household income changed
   since the previous run are reconciled (`documents_reconcile`: 資格喪失 invalidates with a
   返還 request, a changed printed item reissues);
2. a 資格確認書 / お知らせ that ended yesterday for a reason other than the yearly renewal
   (the 70歳 switch to 高齢受給者, a residence period, a 修学中の特例 that goes on) gets its
   successor when the person is still insured today;
3. what the job issued by post is printed into the day's mailing batches, and the 返還のお願い
   of documents asked back since into the day's letters file.

The first run reconciles every holder. Running a day twice finds nothing new the second time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from kokuho.certificates.models import (
    DailyRun,
    Delivery,
    DocumentStatus,
    IssuedDocument,
    IssueReason,
    MailingBatch,
)
from kokuho.certificates.printing import batch_file_write
from kokuho.certificates.renewal import insured_on, mailing_batches_print
from kokuho.certificates.return_letters import return_letters_print
from kokuho.certificates.rules import ONE_DAY, renewal_dates
from kokuho.certificates.services import (
    BASIC_TYPES,
    DocumentError,
    basic_request,
    documents_issue,
    documents_reconcile,
    person_documents,
    renewal_month_day,
)
from kokuho.core.mynumber import mask_my_numbers_in
from kokuho.eligibility.models import EligibilityVersion
from kokuho.people.models import HouseholdHistory, Income, Person, PersonHistory

Progress = Callable[[str, int, int], None]


def _changed_since(since: dt.datetime | None) -> set[int]:
    """Holders of a valid document whose documents may need another look."""
    holders = IssuedDocument.objects.filter(status=DocumentStatus.VALID).values("person_id")
    if since is None:
        return set(Person.objects.filter(pk__in=holders).values_list("pk", flat=True))
    persons = set(
        EligibilityVersion.objects.filter(recorded_at__gte=since).values_list(
            "person_id", flat=True
        )
    )
    persons |= set(
        PersonHistory.objects.filter(recorded_at__gte=since).values_list("person_id", flat=True)
    )
    # A new head, or a member's income (負担割合 and 区分 are household decisions): the
    # whole household is looked at again.
    households = set(
        HouseholdHistory.objects.filter(recorded_at__gte=since).values_list(
            "household_id", flat=True
        )
    )
    households |= set(
        Income.objects.filter(recorded_at__gte=since).values_list("person__household_id", flat=True)
    )
    return set(
        Person.objects.filter(pk__in=holders)
        .filter(Q(pk__in=persons) | Q(household_id__in=households))
        .values_list("pk", flat=True)
    )


def _successors_due(on: dt.date) -> list[Person]:
    """Persons whose basic document ended yesterday, not at the yearly renewal, who are
    insured today and hold no basic document from today on."""
    renewal_start, _ = renewal_dates(on, renewal_month_day())
    if renewal_start == on:
        return []  # the renewal run issues these
    ended = IssuedDocument.objects.filter(
        doc_type__in=BASIC_TYPES, status=DocumentStatus.VALID, valid_until=on - ONE_DAY
    ).values_list("person_id", flat=True)
    covered = IssuedDocument.objects.filter(
        doc_type__in=BASIC_TYPES, status=DocumentStatus.VALID, valid_from__gte=on
    ).values_list("person_id", flat=True)
    candidates = set(ended) - set(covered)
    insured = set(insured_on(on)) & candidates
    return list(Person.objects.filter(pk__in=sorted(insured)).order_by("pk"))


def _return_letters(on: dt.date, actor: Any | None) -> tuple[int, str]:
    """The day's 返還のお願い, written next to the day's mailing batches (a letter that cannot
    be drawn stops only the letters: reported, nothing marked, tried again the next day)."""
    try:
        content, letters = return_letters_print(actor=actor, on=on)
    except ValueError as refused:
        return 0, mask_my_numbers_in(str(refused))
    if letters:
        batch_file_write(
            settings.KOKUHO_DOCUMENT_DIR / "daily", f"return-letters-{on.isoformat()}.pdf", content
        )
    return letters, ""


def documents_daily(
    *, on: dt.date, actor: Any | None = None, progress: Progress | None = None
) -> DailyRun:
    report = progress or (lambda stage, done, total: None)
    last = DailyRun.objects.order_by("-ran_at").first()
    since = last.ran_at if last else None
    started = timezone.now()
    started_day = timezone.localdate()
    changed = sorted(_changed_since(since))
    report("記載事項・資格の確認", 0, len(changed))
    reconciled = documents_reconcile(
        persons=Person.objects.filter(pk__in=changed), on=on, actor=actor
    )
    report("記載事項・資格の確認", len(changed), len(changed))
    successors = _successors_due(on)
    issued, skipped = 0, 0
    for person in successors:
        try:
            request = basic_request(person_documents(person=person, on=on))
        except DocumentError:
            skipped += 1
            continue
        documents_issue([request], reason=IssueReason.RENEWAL, delivery=Delivery.MAIL, actor=actor)
        issued += 1
    to_print = IssuedDocument.objects.filter(
        delivery=Delivery.MAIL,
        renewal__isnull=True,
        batch__isnull=True,
        status=DocumentStatus.VALID,
    )
    name = f"daily-{on.isoformat()}"
    seq = MailingBatch.objects.filter(renewal__isnull=True, path__contains=name).count() + 1
    unprintable: dict[str, str] = {}
    batches = mailing_batches_print(
        to_print,
        unprintable=unprintable,
        directory=settings.KOKUHO_DOCUMENT_DIR / "daily",
        name=name,
        renewal=None,
        first_seq=seq,
        progress=report,
    )
    letters, letters_error = _return_letters(on, actor)
    counts = {
        "persons_checked": len(changed),
        **reconciled.as_dict(),
        "successors": issued,
        "successors_skipped": skipped,
        "batches": batches,
        "unprintable": unprintable,
        "return_letters": letters,
        "return_letters_error": letters_error,
        "run_on": started_day.isoformat(),
    }
    return DailyRun.objects.create(on=on, ran_at=started, since=since, counts=counts)
