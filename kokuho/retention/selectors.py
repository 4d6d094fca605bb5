"""What is past retention (保存期間の経過), per data class — read only.

Each `*_due` selector answers "what may the job erase on this date" with the same rule the
job applies, so `retention_plan` predicts `retention_run`. The job calls them again inside
each chunk's transaction for the chunk's own rows, so a change made in between (a person
moving back, a number registered, a new upload of the same file) keeps the data.

Being conservative is the point: data is erased only when every reason to keep it is
known to have ended. Reasons we cannot see (a table added later that refers to a person)
keep the data too.
"""

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Exists, Model, OuterRef, Q, QuerySet

from kokuho.audit.models import AuditEvent
from kokuho.certificates.models import (
    CertificateApplication,
    IssuedDocument,
    MailingBatch,
    MynaRegistration,
)
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
from kokuho.identity.services import vault_linked_atena_nos
from kokuho.interfaces.models import (
    IMPORT_JOB_OPEN,
    ImportedRecord,
    ImportFile,
    ImportJob,
    QuarantinedRow,
    QuarantineStatus,
)
from kokuho.people.models import (
    Household,
    HouseholdHistory,
    Income,
    OtherCoverage,
    Person,
    PersonHistory,
)
from kokuho.retention.models import DataClass
from kokuho.retention.rules import (
    DAY,
    Rule,
    claims_source,
    local_day_start,
    record_source,
    retention_rules,
)
from kokuho.subject_requests.models import RequestStatus, SubjectRequest

# IN lists are cut to this size (SQLite's parameter limit, and query plans stay simple).
IN_CHUNK = 500

# What the records class erases itself; a relation from any other model keeps the row.
PERSON_RELATIONS = frozenset(
    {
        PersonHistory,
        OtherCoverage,
        Income,
        EligibilityVersion,
        CurrentEligibility,
        BranchNumber,
        KeptInsured,
        KijunApplication,
        EligibilityNotice,
        Household,  # Household.head: the head's household is erased with them or not at all
        # 証・通知 go with the person's records (decision 139).
        IssuedDocument,
        CertificateApplication,
        MynaRegistration,
    }
)
HOUSEHOLD_RELATIONS = frozenset({Person, HouseholdHistory, HouseholdNumber, IssuedDocument})
# A household's 記号・番号 goes with it; anything else referring to the number (a claim that
# quoted it with an unknown 枝番) keeps the household.
HOUSEHOLD_NUMBER_RELATIONS = frozenset({BranchNumber})
IMPORT_FILE_RELATIONS = frozenset({ImportedRecord, QuarantinedRow, ImportJob})

# Uploads are stored by their SHA-256 (interfaces.jobs); nothing else is ever removed.
STORED_NAME = re.compile(r"[0-9a-f]{64}")


def chunks(items: Sequence[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _unknown_references(model: type[Model], known: frozenset[type[Model]]) -> list[Exists]:
    """An `Exists` per relation into `model` from a model this job does not erase (e.g. a
    claims table added later): a row still referred to from there is kept."""
    found = []
    for rel in model._meta.get_fields(include_hidden=True):
        if not (rel.is_relation and rel.auto_created and not rel.concrete):
            continue
        if rel.related_model in known:
            continue
        target = rel.field.target_field.attname if not rel.many_to_many else "pk"
        refs = rel.related_model._base_manager.filter(**{rel.field.name: OuterRef(target)})
        found.append(Exists(refs))
    return found


def unknown_references(model: type[Model], known: frozenset[type[Model]]) -> list[Exists]:
    """Public for the apps' erasers (`benefits.retention`, `payments.retention`): a relation
    into `model` from a model outside `known` keeps the row."""
    return _unknown_references(model, known)


def _exclude_any(queryset: QuerySet, conditions: Iterable[Exists]) -> QuerySet:
    for condition in conditions:
        queryset = queryset.exclude(condition)
    return queryset


def _numbers_referenced() -> list[Exists]:
    """On a Household: its 記号・番号 is referred to from a model this job does not erase."""
    referenced = _unknown_references(HouseholdNumber, HOUSEHOLD_NUMBER_RELATIONS)
    numbers = HouseholdNumber.objects.filter(household=OuterRef("pk"))
    return [Exists(numbers.filter(condition)) for condition in referenced]


# --- My Number (vault) ------------------------------------------------------------------------


def _eligibility_not_past(cutoff: dt.date) -> Q:
    """On a CurrentEligibility: a period still open, or one whose 資格喪失日 (last insured
    day + 1) is on or after `cutoff`."""
    return Q(version__periods__end__isnull=False, version__periods__end__gte=cutoff - DAY) | Q(
        version__periods__isnull=False, version__periods__end__isnull=True
    )


def _losses_past(cutoff: dt.date) -> QuerySet[CurrentEligibility]:
    """Current eligibility of persons whose last NHI eligibility ended before `cutoff`: no
    open period and none ending later in their current version. A current version without
    periods (eligibility annulled) counts from the day it was recorded. Annotated with
    `heads_insured`: the person heads a household with a member whose eligibility is not
    past the same rule (擬制世帯主 and the like: the household's 事務 still use the head's
    number)."""
    periods = EligibilityPeriod.objects.filter(version=OuterRef("version"))
    members_not_past = CurrentEligibility.objects.filter(person__household=OuterRef("pk")).filter(
        _eligibility_not_past(cutoff)
    )
    headed = Household.objects.filter(head=OuterRef("person")).filter(Exists(members_not_past))
    return (
        CurrentEligibility.objects.annotate(
            open=Exists(periods.filter(end__isnull=True)),
            late=Exists(periods.filter(end__gte=cutoff - DAY)),
            any_period=Exists(periods),
            heads_insured=Exists(headed),
        )
        .filter(open=False, late=False)
        .filter(Q(any_period=True) | Q(version__recorded_at__lt=local_day_start(cutoff)))
    )


def _open_requests() -> QuerySet[SubjectRequest]:
    """開示等請求 not yet decided: their person's data and number are held until answered."""
    return SubjectRequest.objects.filter(status=RequestStatus.RECEIVED)


def my_number_persons_due(*, cutoff: dt.date, atena_nos: Iterable[str] | None = None) -> set[str]:
    """宛名番号 of persons whose number the My Number rule no longer keeps: their last NHI
    eligibility ended (資格喪失日) before `cutoff` and they do not head a household whose
    members still need it. Persons never insured are not chosen (no date to count from;
    see docs/decisions.md)."""
    current = _losses_past(cutoff).filter(heads_insured=False)
    pending = _open_requests().filter(atena_no=OuterRef("person__atena_no"))
    current = current.exclude(Exists(pending))
    if atena_nos is None:
        return set(current.values_list("person__atena_no", flat=True))
    found: set[str] = set()
    for chunk in chunks(sorted(set(atena_nos)), IN_CHUNK):
        found.update(
            current.filter(person__atena_no__in=chunk).values_list("person__atena_no", flat=True)
        )
    return found


def my_numbers_due(*, cutoff: dt.date) -> list[str]:
    """The persons above who have a number in the vault (what the job erases)."""
    return sorted(vault_linked_atena_nos(atena_nos=my_number_persons_due(cutoff=cutoff)))


def my_numbers_kept_for_households(*, cutoff: dt.date) -> int:
    """Numbers past the rule for their holder but kept because the holder heads a household
    whose members still need it (for the plan)."""
    heads = _losses_past(cutoff).filter(heads_insured=True)
    return len(vault_linked_atena_nos(atena_nos=heads.values_list("person__atena_no", flat=True)))


# --- people, households and eligibility records --------------------------------------------


def persons_past_retention(*, cutoff: dt.date) -> QuerySet[Person]:
    """Former residents with nothing about them dated on or after `cutoff` (最終異動日),
    no open eligibility in their current version and no open 住所地特例・修学中特例, and
    no row of another kind referring to them."""
    bound = local_day_start(cutoff)
    person = OuterRef("pk")
    young = [
        Exists(
            PersonHistory.objects.filter(person=person).filter(
                Q(change_date__gte=cutoff) | Q(reported_on__gte=cutoff) | Q(recorded_at__gte=bound)
            )
        ),
        Exists(
            EligibilityVersion.objects.filter(person=person).filter(
                Q(recorded_at__gte=bound)
                | Q(fact_date__gte=cutoff)
                | Q(reported_on__gte=cutoff)
                | Q(changed_from__gte=cutoff)
            )
        ),
        # 資格喪失日 is the day after the last insured day `end`.
        Exists(
            EligibilityPeriod.objects.filter(version__person=person).filter(
                Q(start__gte=cutoff) | Q(end__gte=cutoff - DAY)
            )
        ),
        Exists(
            CurrentEligibility.objects.filter(person=person, version__periods__end__isnull=True)
        ),
        Exists(
            OtherCoverage.objects.filter(person=person).filter(
                Q(start__gte=cutoff) | Q(end__gte=cutoff) | Q(recorded_at__gte=bound)
            )
        ),
        Exists(
            Income.objects.filter(person=person).filter(
                Q(applies_from__gte=cutoff) | Q(recorded_at__gte=bound)
            )
        ),
        Exists(
            KeptInsured.objects.filter(person=person).filter(
                Q(end__isnull=True)
                | Q(start__gte=cutoff)
                | Q(end__gte=cutoff)
                | Q(recorded_at__gte=bound)
            )
        ),
        Exists(
            KijunApplication.objects.filter(person=person).filter(
                Q(applied_on__gte=cutoff) | Q(recorded_at__gte=bound)
            )
        ),
        Exists(
            EligibilityNotice.objects.filter(person=person).filter(
                Q(fact_date__gte=cutoff) | Q(reported_on__gte=cutoff) | Q(created_at__gte=bound)
            )
        ),
        Exists(BranchNumber.objects.filter(person=person, assigned_on__gte=cutoff)),
        # A pending 開示・訂正・利用停止 request must be answered from the data it is about.
        Exists(_open_requests().filter(atena_no=OuterRef("atena_no"))),
    ]
    former = Person.objects.filter(
        resident_until__isnull=False, resident_until__lt=cutoff, resident_from__lt=cutoff
    )
    return _exclude_any(former, young)


def households_past_retention(*, cutoff: dt.date) -> QuerySet[Household]:
    """Households with nothing dated on or after `cutoff` (設定日, 消除日, history, 記号番号)."""
    bound = local_day_start(cutoff)
    household = OuterRef("pk")
    young = [
        Exists(
            HouseholdHistory.objects.filter(household=household).filter(
                Q(change_date__gte=cutoff) | Q(recorded_at__gte=bound)
            )
        ),
        Exists(HouseholdNumber.objects.filter(household=household, assigned_on__gte=cutoff)),
    ]
    past = Household.objects.filter(formed_on__lt=cutoff).exclude(dissolved_on__gte=cutoff)
    return _exclude_any(past, young)


@dataclass(frozen=True)
class Group:
    """Persons and households that can only go together: members of a household, the
    head of a household, holders of a 枝番 under a household's 記号・番号."""

    persons: tuple[int, ...]
    households: tuple[int, ...]


@dataclass
class RecordsDue:
    groups: list[Group] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def persons(self) -> int:
        return sum(len(g.persons) for g in self.groups)


class _Components:
    """Union-find over ("p", id) and ("h", id) nodes."""

    def __init__(self) -> None:
        self.parent: dict[tuple[str, int], tuple[str, int]] = {}

    def find(self, node: tuple[str, int]) -> tuple[str, int]:
        self.parent.setdefault(node, node)
        while self.parent[node] != node:
            self.parent[node] = self.parent[self.parent[node]]
            node = self.parent[node]
        return node

    def union(self, a: tuple[str, int], b: tuple[str, int]) -> None:
        self.parent[self.find(a)] = self.find(b)


def _links(person_ids: set[int]) -> tuple[dict[int, set[int]], dict[int, set[int]]]:
    """Households each person is tied to, and every person tied to those households."""
    of_person: dict[int, set[int]] = defaultdict(set)
    for chunk in chunks(sorted(person_ids), IN_CHUNK):
        for pk, household in Person.objects.filter(pk__in=chunk).values_list("pk", "household_id"):
            of_person[pk].add(household)
        for household, head in Household.objects.filter(head_id__in=chunk).values_list(
            "pk", "head_id"
        ):
            of_person[head].add(household)
        for pk, household in BranchNumber.objects.filter(person_id__in=chunk).values_list(
            "person_id", "household_number__household_id"
        ):
            of_person[pk].add(household)
    households = sorted({h for hs in of_person.values() for h in hs})
    of_household: dict[int, set[int]] = defaultdict(set)
    for chunk in chunks(households, IN_CHUNK):
        for pk, household in Person.objects.filter(household_id__in=chunk).values_list(
            "pk", "household_id"
        ):
            of_household[household].add(pk)
        for household, head in Household.objects.filter(
            pk__in=chunk, head_id__isnull=False
        ).values_list("pk", "head_id"):
            of_household[household].add(head)
        for pk, household in BranchNumber.objects.filter(
            household_number__household_id__in=chunk
        ).values_list("person_id", "household_number__household_id"):
            of_household[household].add(pk)
    return of_person, of_household


def _ids(queryset: QuerySet, within: Iterable[int] | None) -> set[int]:
    if within is None:
        return set(queryset.values_list("pk", flat=True))
    found: set[int] = set()
    for chunk in chunks(sorted(set(within)), IN_CHUNK):
        found.update(queryset.filter(pk__in=chunk).values_list("pk", flat=True))
    return found


def records_due(
    *,
    cutoff: dt.date,
    my_number_cutoff: dt.date,
    persons: Iterable[int] | None = None,
    households: Iterable[int] | None = None,
) -> RecordsDue:
    """The groups of persons and households the records rule erases (`persons` and
    `households` narrow the search to a chunk already chosen).

    A group goes only as a whole, and only when every person and household in it is past
    retention: a person whose household still has a retained member (or who heads a
    household, or holds a 枝番 under a 記号・番号, that is retained) is kept. A person whose
    My Number is still in the vault is kept too, unless the My Number rule erases it in the
    same run (`my_number_cutoff`); the job erases numbers first."""
    due = RecordsDue()
    base = persons_past_retention(cutoff=cutoff)
    candidates = _ids(base, persons)
    referenced = _unknown_references(Person, PERSON_RELATIONS)
    if referenced and candidates:
        kept = candidates - _ids(_exclude_any(base, referenced), candidates)
        if kept:
            due.skipped["referenced"] = len(kept)
        candidates -= kept
    atena = dict(
        (pk, a)
        for chunk in chunks(sorted(candidates), IN_CHUNK)
        for pk, a in Person.objects.filter(pk__in=chunk).values_list("pk", "atena_no")
    )
    linked = vault_linked_atena_nos(atena_nos=atena.values())
    if linked:
        linked -= my_number_persons_due(cutoff=my_number_cutoff, atena_nos=linked)
    with_number = {pk for pk, a in atena.items() if a in linked}
    if with_number:
        due.skipped["my_number_held"] = len(with_number)
    candidates -= with_number

    households_ok = _exclude_any(
        households_past_retention(cutoff=cutoff),
        [*_unknown_references(Household, HOUSEHOLD_RELATIONS), *_numbers_referenced()],
    )
    of_person, of_household = _links(candidates)
    erasable_households = _ids(households_ok, of_household.keys())
    components = _Components()
    for pk in candidates:
        components.find(("p", pk))
        for household in of_person[pk]:
            components.union(("p", pk), ("h", household))
    for household, members in of_household.items():
        for pk in members:
            components.union(("h", household), ("p", pk))
    grouped: dict[tuple[str, int], list[tuple[str, int]]] = defaultdict(list)
    for node in list(components.parent):
        grouped[components.find(node)].append(node)
    blocked = 0
    for nodes in grouped.values():
        group_persons = sorted(pk for kind, pk in nodes if kind == "p")
        group_households = sorted(pk for kind, pk in nodes if kind == "h")
        if set(group_persons) <= candidates and set(group_households) <= erasable_households:
            due.groups.append(Group(tuple(group_persons), tuple(group_households)))
        else:
            blocked += len(candidates.intersection(group_persons))
    if blocked:
        due.skipped["group_retained"] = blocked

    # Households nobody belongs to or heads any more, with no 枝番 under their number.
    alone = households_ok.filter(head__isnull=True).exclude(
        Exists(Person.objects.filter(household=OuterRef("pk")))
    )
    alone = alone.exclude(
        Exists(BranchNumber.objects.filter(household_number__household=OuterRef("pk")))
    )
    due.groups.extend(Group((), (pk,)) for pk in sorted(_ids(alone, households)))
    due.groups.sort(key=lambda g: (g.persons[:1], g.households[:1]))
    return due


# --- interface data (連携ファイル) ----------------------------------------------------------


def quarantined_rows_due(*, cutoff: dt.date) -> QuerySet[QuarantinedRow]:
    """保留行 resolved (re-submitted or discarded) before `cutoff`. Open rows are work
    still to do and are never erased by the job."""
    return QuarantinedRow.objects.exclude(status=QuarantineStatus.OPEN).filter(
        resolved_at__lt=local_day_start(cutoff)
    )


def quarantined_rows_open_past(*, cutoff: dt.date) -> int:
    return QuarantinedRow.objects.filter(
        status=QuarantineStatus.OPEN, file__started_at__lt=local_day_start(cutoff)
    ).count()


def upload_path(stored_name: str) -> Path | None:
    """Where an upload is stored; None for a name that is not a stored upload's."""
    if not STORED_NAME.fullmatch(stored_name):
        return None
    return Path(settings.KOKUHO_UPLOAD_DIR) / stored_name


def _upload_kept(*, cutoff: dt.date) -> Q:
    """Jobs whose upload the upload rule keeps: still queued or running, or finished on
    or after `cutoff`."""
    return Q(status__in=IMPORT_JOB_OPEN) | Q(finished_at__gte=local_day_start(cutoff))


def uploads_due(*, cutoff: dt.date, names: Iterable[str] | None = None) -> list[str]:
    """Stored uploads (取込ファイルの原本) of 取込依頼 that finished before `cutoff`, still on
    disk, and not also the upload of a job that is open or younger (the same content
    uploaded again is one file)."""
    jobs = ImportJob.objects.all()
    if names is not None:
        jobs = jobs.filter(stored_name__in=sorted(set(names)))
    expired = set(
        jobs.exclude(status__in=IMPORT_JOB_OPEN)
        .filter(finished_at__lt=local_day_start(cutoff))
        .values_list("stored_name", flat=True)
    )
    needed = set(jobs.filter(_upload_kept(cutoff=cutoff)).values_list("stored_name", flat=True))
    due = []
    for name in sorted(expired - needed):
        path = upload_path(name)
        if path is not None and path.is_file():
            due.append(name)
    return due


RETURN_LETTERS = re.compile(r"return-letters-(\d{4}-\d{2}-\d{2})\.pdf")


def document_prints_due(*, cutoff: dt.date) -> list[Path]:
    """Printed files of documents (郵送バッチ, the day's 返還のお願い) made before `cutoff`
    and still on disk. They hold names and addresses; the database keeps what was issued
    (and each batch's SHA-256), so the files themselves are only the print run's copy."""
    due = [
        Path(path)
        for path in MailingBatch.objects.filter(created_at__lt=local_day_start(cutoff))
        .exclude(path="")
        .values_list("path", flat=True)
    ]
    daily = Path(settings.KOKUHO_DOCUMENT_DIR) / "daily"
    if daily.is_dir():
        for path in daily.iterdir():
            found = RETURN_LETTERS.fullmatch(path.name)
            if found and dt.date.fromisoformat(found.group(1)) < cutoff:
                due.append(path)
    return sorted(p for p in due if p.is_file())


@dataclass(frozen=True)
class LedgerDue:
    files: list[int]
    jobs: list[int]  # 取込依頼 that never produced a ledger row

    @property
    def count(self) -> int:
        return len(self.files) + len(self.jobs)


def _job_blocks(job: dict[str, Any], *, cutoff: dt.date, upload_cutoff: dt.date) -> bool:
    """A 取込依頼 keeps its ledger while open, while younger than the ledger rule, and while
    the upload rule still keeps its file on disk."""
    status, finished_at, stored_name = job["status"], job["finished_at"], job["stored_name"]
    if status in IMPORT_JOB_OPEN or finished_at >= local_day_start(cutoff):
        return True
    path = upload_path(stored_name)
    on_disk = path is not None and path.is_file()
    return on_disk and finished_at >= local_day_start(upload_cutoff)


def ledger_due(
    *,
    cutoff: dt.date,
    quarantine_cutoff: dt.date,
    upload_cutoff: dt.date,
    files: Iterable[int] | None = None,
    jobs: Iterable[int] | None = None,
) -> LedgerDue:
    """取込台帳 (ImportFile with its ImportedRecord rows and 取込依頼) begun before `cutoff`,
    with no 保留行 the quarantine rule keeps and no 取込依頼 that keeps it."""
    bound = local_day_start(cutoff)
    kept_rows = QuarantinedRow.objects.filter(file=OuterRef("pk")).filter(
        Q(status=QuarantineStatus.OPEN) | Q(resolved_at__gte=local_day_start(quarantine_cutoff))
    )
    past = ImportFile.objects.filter(started_at__lt=bound).exclude(Exists(kept_rows))
    past = _exclude_any(past, _unknown_references(ImportFile, IMPORT_FILE_RELATIONS))
    file_ids = _ids(past, files)
    fields = ("status", "finished_at", "stored_name")
    for chunk in chunks(sorted(file_ids), IN_CHUNK):
        for job in ImportJob.objects.filter(import_file_id__in=chunk).values(
            "import_file_id", *fields
        ):
            if _job_blocks(job, cutoff=cutoff, upload_cutoff=upload_cutoff):
                file_ids.discard(job["import_file_id"])
    orphans = ImportJob.objects.filter(import_file__isnull=True).exclude(status__in=IMPORT_JOB_OPEN)
    orphans = orphans.filter(finished_at__lt=bound)
    if jobs is not None:
        orphans = orphans.filter(pk__in=sorted(set(jobs)))
    job_ids = [
        job["pk"]
        for job in orphans.values("pk", *fields)
        if not _job_blocks(job, cutoff=cutoff, upload_cutoff=upload_cutoff)
    ]
    return LedgerDue(sorted(file_ids), sorted(job_ids))


# --- audit trail --------------------------------------------------------------------------------


def audit_events_due_through(*, cutoff: dt.date) -> int | None:
    """The last seq of the oldest run of events all dated before `cutoff` (the chain is cut
    as a prefix, decision 42): one before the first event the rule keeps. None if none."""
    first_kept = (
        AuditEvent.objects.filter(occurred_at__gte=local_day_start(cutoff))
        .order_by("seq")
        .values_list("seq", flat=True)
        .first()
    )
    older = AuditEvent.objects.all()
    if first_kept is not None:
        older = older.filter(seq__lt=first_kept)
    return older.order_by("-seq").values_list("seq", flat=True).first()


def audit_events_due(*, cutoff: dt.date) -> int:
    through = audit_events_due_through(cutoff=cutoff)
    return 0 if through is None else AuditEvent.objects.filter(seq__lte=through).count()


# --- the plan ----------------------------------------------------------------------------------

SKIP_LABELS = {
    "household_head": "国保の被保険者がいる世帯の世帯主（擬制世帯主など）の個人番号",
    "referenced": "他の記録から参照されている住民",
    "my_number_held": "個人番号が保管庫に残っている住民",
    "group_retained": "同じ世帯・世帯主・枝番のつながりに保存期間内の住民・世帯がある住民",
    "open_quarantine": "未処理の保留行（処理されるまで消去しません）",
    "not_installed": "この区分の機能が未導入",
}


@dataclass(frozen=True)
class ClassPlan:
    """One data class in the plan: its rule, cutoff (the first reference date kept), how
    many it would erase and how many past the cutoff it keeps, by reason."""

    rule: Rule
    cutoff: dt.date
    count: int
    skipped: dict[str, int]


@dataclass(frozen=True)
class RetentionPlan:
    as_of: dt.date
    classes: tuple[ClassPlan, ...]

    def count(self, data_class: DataClass) -> int:
        return next(c.count for c in self.classes if c.rule.data_class == data_class)

    @property
    def total(self) -> int:
        return sum(c.count for c in self.classes)


def retention_plan(*, as_of: dt.date) -> RetentionPlan:
    """消去計画: what `retention_run(as_of=…)` would erase now, counted per data class.
    Reads only; writes nothing (not even an audit event: it shows counts, no one's data)."""
    rules = retention_rules(as_of=as_of)
    cut = {data_class: rule.cutoff(as_of=as_of) for data_class, rule in rules.items()}
    counts: dict[DataClass, tuple[int, dict[str, int]]] = {}
    heads = my_numbers_kept_for_households(cutoff=cut[DataClass.MY_NUMBER])
    counts[DataClass.MY_NUMBER] = (
        len(my_numbers_due(cutoff=cut[DataClass.MY_NUMBER])),
        {"household_head": heads} if heads else {},
    )
    records = records_due(cutoff=cut[DataClass.RECORDS], my_number_cutoff=cut[DataClass.MY_NUMBER])
    counts[DataClass.RECORDS] = (records.persons, records.skipped)
    source = claims_source()
    counts[DataClass.CLAIMS] = (
        (source.claims_count(cutoff=cut[DataClass.CLAIMS]), {})
        if source
        else (0, {"not_installed": 0})
    )
    for data_class in (DataClass.BENEFIT_DECISIONS, DataClass.PAYMENTS, DataClass.PAYEE_ACCOUNTS):
        plugged = record_source(data_class)
        counts[data_class] = (
            (plugged.count(cutoff=cut[data_class], as_of=as_of), {})
            if plugged
            else (0, {"not_installed": 0})
        )
    open_rows = quarantined_rows_open_past(cutoff=cut[DataClass.INTERFACE_RAW])
    counts[DataClass.INTERFACE_RAW] = (
        quarantined_rows_due(cutoff=cut[DataClass.INTERFACE_RAW]).count(),
        {"open_quarantine": open_rows} if open_rows else {},
    )
    counts[DataClass.INTERFACE_UPLOADS] = (
        len(uploads_due(cutoff=cut[DataClass.INTERFACE_UPLOADS])),
        {},
    )
    ledger = ledger_due(
        cutoff=cut[DataClass.INTERFACE_LEDGER],
        quarantine_cutoff=cut[DataClass.INTERFACE_RAW],
        upload_cutoff=cut[DataClass.INTERFACE_UPLOADS],
    )
    counts[DataClass.INTERFACE_LEDGER] = (ledger.count, {})
    counts[DataClass.DOCUMENT_PRINTS] = (
        len(document_prints_due(cutoff=cut[DataClass.DOCUMENT_PRINTS])),
        {},
    )
    counts[DataClass.AUDIT] = (audit_events_due(cutoff=cut[DataClass.AUDIT]), {})
    return RetentionPlan(
        as_of,
        tuple(
            ClassPlan(rule, cut[data_class], *counts[data_class])
            for data_class, rule in rules.items()
        ),
    )
