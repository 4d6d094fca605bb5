"""Registry changes applied as a batch (住基異動の一括反映): load once, apply in memory, write once.

`events.event_apply` applies one change with ~30 queries; a monthly 住基異動 file holds tens of
thousands. This module gives the same result for a batch of registry changes with a fixed
number of queries: it loads the persons, households, histories, other coverages, current
eligibility versions and numbers the batch refers to, applies the changes in file order to
objects in memory with the *same* rules (`people.registry`'s `*_check`/`*_set`,
`facts.person_intervals`, `derivation.derive_periods`, `services.version_plan`,
`late_report_message`, the numbering rules), and writes every row with bulk inserts and one
append to the audit chain.

Each change is checked before anything is changed: a refused change (unknown resident,
転入 of a current resident …) leaves the batch untouched and is returned as that change's
outcome, to be quarantined. An error once a change has started to apply cannot be undone in
memory, so it raises `BatchAborted`: the caller rolls the transaction back and applies
the batch one change at a time through `event_apply`, the reference path, which is tested to
give the same result (tests/test_bulk_equivalence.py).
"""

import bisect
import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Max

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import AuditEntry, audit_events_record
from kokuho.core.bulkwrite import row_writer
from kokuho.eligibility.derivation import Period, derive_periods
from kokuho.eligibility.events import ChangeEvent, ChangeType
from kokuho.eligibility.facts import CoverageFact, KeptFact, RegistryFact, person_intervals
from kokuho.eligibility.listeners import periods_changed_many
from kokuho.eligibility.models import (
    BranchNumber,
    CurrentEligibility,
    EligibilityNotice,
    EligibilityPeriod,
    EligibilityVersion,
    HouseholdNumber,
    KeptInsured,
    NoticeCode,
)
from kokuho.eligibility.services import (
    EligibilityError,
    Recorded,
    UnknownHousehold,
    UnknownResident,
    branch_after,
    late_report_message,
    number_after,
    numbers_needed,
    recompute_as_of,
    version_plan,
)
from kokuho.people.models import (
    ChangeCode,
    CoverageKind,
    Household,
    HouseholdHistory,
    OtherCoverage,
    Person,
    PersonHistory,
    Relation,
)
from kokuho.people.registry import (
    ChangeContext,
    RegistryError,
    arrival_check,
    arrival_fields,
    departure_set,
    head_change_check,
    household_change_check,
    relocation_set,
    rename_set,
    resident_changed_extra,
    snapshot,
)
from kokuho.rules.params import parameters

# The registry changes a batch can apply (the 住基異動 file's codes); the counter's 届出 go
# through `event_apply` one at a time.
BATCH_TYPES = frozenset(
    {
        ChangeType.MOVE_IN,
        ChangeType.BIRTH,
        ChangeType.MOVE_OUT,
        ChangeType.DEATH,
        ChangeType.RELOCATION,
        ChangeType.HEAD_CHANGE,
        ChangeType.HOUSEHOLD_SPLIT,
        ChangeType.HOUSEHOLD_JOIN,
    }
)
# The columns written for new rows (the others keep their defaults).
PERSON_FIELDS = (
    "atena_no",
    "name",
    "name_kana",
    "kana_key",
    "birth_date",
    "sex",
    "postal_code",
    "address",
    "household",
    "relation",
    "resident_from",
    "resident_until",
    "is_foreign",
    "residence_status",
    "residence_until",
)
VERSION_FIELDS = (
    "person",
    "seq",
    "recorded_at",
    "cause",
    "fact_date",
    "reported_on",
    "changed_from",
    "is_retroactive",
)
# History rows written in this batch sort after every stored row of the same day, as their
# ids will.
_NEW_ROW = 1 << 62


@dataclass(frozen=True)
class Rename:
    """氏名・カナ変更 (C05): people data only, no eligibility consequence."""

    atena_no: str
    name: str
    name_kana: str
    change_date: dt.date
    reported_on: dt.date
    source: str


@dataclass(frozen=True)
class BatchItem:
    change: ChangeEvent | Rename
    recorded_at: dt.datetime


class BatchAborted(Exception):
    """A change failed after it had started to apply: redo the batch one change at a time."""


# What a change can be refused with before anything of it is applied (→ quarantine).
Refusal = EligibilityError | RegistryError


def registry_changes_apply(items: list[BatchItem], *, actor: Any | None) -> list[Refusal | None]:
    """Apply the changes in order; for each, None (applied) or why it was refused.

    Must run inside a transaction: on `BatchAborted` (or any database error) the caller
    rolls it back, nothing of the batch having been written."""
    for item in items:
        change = item.change
        if isinstance(change, ChangeEvent) and change.type not in BATCH_TYPES:
            raise BatchAborted(f"{change.type.label} は一括反映の対象外です")
    batch = _Batch(items, actor)
    outcomes: list[Refusal | None] = []
    for item in items:
        try:
            apply = batch.check(item)
        except (EligibilityError, RegistryError) as refusal:
            outcomes.append(refusal)
            continue
        try:
            apply()
        except Exception as error:
            raise BatchAborted(f"{type(error).__name__}: {error}") from error
        outcomes.append(None)
    batch.write()
    return outcomes


class _Batch:
    """The slice of the database a batch touches, kept in memory until `write`."""

    def __init__(self, items: list[BatchItem], actor: Any | None) -> None:
        self.actor = actor
        self.symbol = settings.KOKUHO_NUMBER_SYMBOL
        self._load(items)
        # Rows to write, in the order the reference path would have written them.
        self.new_households: list[Household] = []
        self.household_history: list[tuple[Any, ...]] = []
        self.heads_changed: set[str] = set()
        self.new_persons: list[Person] = []
        self.person_fields: dict[str, set[str]] = defaultdict(set)
        self.person_history: list[tuple[Any, ...]] = []
        self.new_coverages: list[tuple[Any, ...]] = []
        self.kept_changed: dict[int, KeptInsured] = {}
        # (person, the VERSION_FIELDS values after `person`, periods); written with ids
        # allocated at write time. latest_version: index of each person's newest one.
        self.versions: list[tuple[Person, tuple[Any, ...], list[Period]]] = []
        self.latest_version: dict[str, int] = {}
        self.new_numbers: list[HouseholdNumber] = []
        self.new_branches: list[tuple[HouseholdNumber, Person, str, dt.date]] = []
        self.notices: list[tuple[Any, ...]] = []
        self.audit: list[AuditEntry] = []
        self._order = itertools.count(_NEW_ROW)

    # --- loading ------------------------------------------------------------------------------

    def _load(self, items: list[BatchItem]) -> None:
        atena_nos: set[str] = set()
        household_nos: set[str] = set()
        for item in items:
            change = item.change
            atena_nos.add(change.atena_no)
            if isinstance(change, ChangeEvent):
                atena_nos.add(change.new_head_atena_no)
                household_nos.add(change.household_no)
        atena_nos.discard("")
        household_nos.discard("")
        persons = list(Person.objects.filter(atena_no__in=atena_nos))
        # Two plain index look-ups; an OR of both made the planner scan (measured at 100,000).
        fields = ("pk", "household_no", "formed_on", "dissolved_on", "head__atena_no")
        households = {
            row[0]: row
            for query in (
                Household.objects.filter(household_no__in=household_nos),
                Household.objects.filter(pk__in={p.household_id for p in persons}),
            )
            for row in query.values_list(*fields)
        }.values()
        by_id: dict[int, Household] = {}
        self.households: dict[str, Household] = {}
        self.heads: dict[str, str | None] = {}
        for pk, household_no, formed_on, dissolved_on, head in households:
            household = Household(
                pk=pk, household_no=household_no, formed_on=formed_on, dissolved_on=dissolved_on
            )
            by_id[pk] = self.households[household_no] = household
            self.heads[household_no] = head
        self.persons: dict[str, Person] = {}
        for person in persons:
            person.household = by_id[person.household_id]  # one object per household
            self.persons[person.atena_no] = person
        atena_of = {p.pk: p.atena_no for p in persons}

        self.history: dict[str, list[tuple[dt.date, int, RegistryFact]]] = defaultdict(list)
        for pk, person_id, code, date, destination in (
            PersonHistory.objects.filter(person_id__in=atena_of)
            .order_by("person_id", "change_date", "id")
            .values_list("pk", "person_id", "change_code", "change_date", "snapshot__destination")
        ):
            self.history[atena_of[person_id]].append(
                (date, pk, RegistryFact(code, date, destination == "abroad"))
            )
        self.coverages: dict[str, list[CoverageFact]] = defaultdict(list)
        for person_id, kind, start, end in OtherCoverage.objects.filter(
            person_id__in=atena_of
        ).values_list("person_id", "kind", "start", "end"):
            self.coverages[atena_of[person_id]].append(CoverageFact(kind, start, end))
        self.kept: dict[str, list[KeptInsured]] = defaultdict(list)
        for kept in KeptInsured.objects.filter(person_id__in=atena_of).order_by("pk"):
            self.kept[atena_of[kept.person_id]].append(kept)

        # Who has a current version (its pointer row is updated, not inserted), and its periods.
        self.pointers: set[str] = set()
        self.current: dict[str, tuple[int | None, list[Period]]] = {}
        pointers = list(
            CurrentEligibility.objects.filter(person_id__in=atena_of).values_list(
                "person_id", "version_id", "version__seq"
            )
        )
        periods: dict[int, list[Period]] = defaultdict(list)
        for version_id, start, end, acquired, lost in (
            EligibilityPeriod.objects.filter(version_id__in=[v for _p, v, _s in pointers])
            .order_by("start")
            .values_list("version_id", "start", "end", "acquired", "lost")
        ):
            periods[version_id].append(Period(start, end, acquired, lost or None))
        for person_id, version_id, seq in pointers:
            self.pointers.add(atena_of[person_id])
            self.current[atena_of[person_id]] = (seq, periods[version_id])

        household_ids = list(by_id)
        self.numbers: dict[str, HouseholdNumber] = {}
        for number in HouseholdNumber.objects.filter(household_id__in=household_ids):
            number.household = by_id[number.household_id]
            self.numbers[number.household.household_no] = number
        # 枝番 in use per household, by person id (by 宛名番号 for persons new in the batch).
        self.branches: dict[str, dict[int | str, str]] = defaultdict(dict)
        household_of = {n.pk: n.household.household_no for n in self.numbers.values()}
        for number_id, person_id, branch in BranchNumber.objects.filter(
            household_number_id__in=list(household_of)
        ).values_list("household_number_id", "person_id", "branch"):
            self.branches[household_of[number_id]][person_id] = branch
        self._last_number: str | None = None
        self._last_number_loaded = False

    # --- checks: each returns the function that applies the change ------------------------

    def check(self, item: BatchItem) -> Callable[[], None]:
        change = item.change
        if isinstance(change, Rename):
            person = self._person(change.atena_no)
            return lambda: self._rename(person, change, item.recorded_at)
        ctx = ChangeContext(change.date, change.reported_on, item.recorded_at, change.source)
        kind = change.type
        if kind in (ChangeType.MOVE_IN, ChangeType.BIRTH):
            if change.resident is None:
                raise EligibilityError(f"{kind.label}: 住民の情報（氏名・生年月日等）が必要です")
            code = ChangeCode.BIRTH if kind == ChangeType.BIRTH else ChangeCode.MOVE_IN
            if change.code == ChangeCode.OFFICIAL_ENTRY:
                code = ChangeCode.OFFICIAL_ENTRY
            atena_no = change.resident.atena_no
            arrival_check(code=code, atena_no=atena_no, existing=self.persons.get(atena_no))
            return lambda: self._event(change, ctx, item, lambda: self._arrive(change, code, ctx))
        person = self._person(change.atena_no)
        if kind in (ChangeType.MOVE_OUT, ChangeType.DEATH):
            code = ChangeCode.DEATH if kind == ChangeType.DEATH else ChangeCode.MOVE_OUT
            if change.code == ChangeCode.OFFICIAL_DELETION and kind == ChangeType.MOVE_OUT:
                code = ChangeCode.OFFICIAL_DELETION
            # departure_set checks before it changes anything; on a copy, so that a refusal
            # leaves the person as loaded.
            departure_set(
                person=Person(
                    atena_no=person.atena_no,
                    resident_from=person.resident_from,
                    resident_until=person.resident_until,
                ),
                code=code,
                change_date=change.date,
            )
            return lambda: self._event(
                change, ctx, item, lambda: self._depart(person, change, code, ctx)
            )
        if kind == ChangeType.RELOCATION:
            return lambda: self._event(
                change, ctx, item, lambda: self._relocate(person, change, ctx)
            )
        if kind == ChangeType.HEAD_CHANGE:
            household_no = change.household_no or person.household.household_no
            household = self.households.get(household_no)
            if household is None:
                raise UnknownHousehold(change.household_no)
            new_head = (
                self._person(change.new_head_atena_no) if change.new_head_atena_no else person
            )
            head_change_check(household=household, new_head=new_head)
            return lambda: self._event(
                change, ctx, item, lambda: self._head_change(household, new_head, ctx)
            )
        code = (
            ChangeCode.HOUSEHOLD_SPLIT
            if kind == ChangeType.HOUSEHOLD_SPLIT
            else ChangeCode.HOUSEHOLD_JOIN
        )
        household_change_check(code=code)
        return lambda: self._event(
            change, ctx, item, lambda: self._change_household(person, change, code, ctx)
        )

    def _person(self, atena_no: str) -> Person:
        person = self.persons.get(atena_no)
        if person is None:
            raise UnknownResident(atena_no)
        return person

    # --- registry changes, in memory (as people.registry's services) ------------------------

    def _record(self, person: Person, code: ChangeCode, ctx: ChangeContext, **extra: Any) -> None:
        self.person_history.append(
            (
                person,
                code,
                ctx.change_date,
                ctx.reported_on,
                ctx.recorded_at,
                ctx.source,
                snapshot(person, **extra),
            )
        )
        fact = RegistryFact(code, ctx.change_date, extra.get("destination") == "abroad")
        bisect.insort(self.history[person.atena_no], (ctx.change_date, next(self._order), fact))
        self.audit.append(
            AuditEntry(
                EventType.RESIDENT_CHANGED,
                SubjectType.PERSON,
                person.atena_no,
                extra=resident_changed_extra(code, ctx),
            )
        )

    def _record_household(self, household: Household, code: ChangeCode, ctx: ChangeContext):
        self.household_history.append(
            (
                household,
                code,
                ctx.change_date,
                ctx.recorded_at,
                ctx.source,
                {"head": self.heads[household.household_no]},
            )
        )

    def _household(self, household_no: str, ctx: ChangeContext, code: ChangeCode) -> Household:
        household = self.households.get(household_no)
        if household is None:
            household = Household(household_no=household_no, formed_on=ctx.change_date)
            self.households[household_no] = household
            self.heads[household_no] = None
            self.new_households.append(household)
            self._record_household(household, code, ctx)
        return household

    def _become_head(
        self, person: Person, household: Household, ctx: ChangeContext, code: ChangeCode
    ) -> None:
        self.heads[household.household_no] = person.atena_no
        self.heads_changed.add(household.household_no)
        self._record_household(household, code, ctx)

    def _changed(self, person: Person, fields: list[str]) -> None:
        if person.pk is not None and fields:
            self.person_fields[person.atena_no].update(fields)

    def _arrive(self, change: ChangeEvent, code: ChangeCode, ctx: ChangeContext) -> list[Person]:
        data = change.resident
        assert data is not None
        household = self._household(change.household_no, ctx, code)
        fields = arrival_fields(
            data=data, household=household, relation=change.relation, change_date=change.date
        )
        person = self.persons.get(data.atena_no)
        if person is None:
            person = Person(atena_no=data.atena_no, **fields)
            self.persons[data.atena_no] = person
            self.new_persons.append(person)
        else:
            for name, value in fields.items():
                setattr(person, name, value)
            self._changed(person, list(fields))
        self._record(person, code, ctx)
        if change.relation == Relation.HEAD:
            self._become_head(person, household, ctx, code)
        if change.special_address:
            self.new_coverages.append(
                (person, CoverageKind.OTHER_MUNICIPALITY, change.date, None, ctx.recorded_at)
            )
            self.coverages[person.atena_no].append(
                CoverageFact(CoverageKind.OTHER_MUNICIPALITY, change.date, None)
            )
        return [person]

    def _depart(
        self, person: Person, change: ChangeEvent, code: ChangeCode, ctx: ChangeContext
    ) -> list[Person]:
        self._changed(person, departure_set(person=person, code=code, change_date=change.date))
        abroad = change.abroad and change.type == ChangeType.MOVE_OUT
        self._record(person, code, ctx, destination="abroad" if abroad else "domestic")
        if code == ChangeCode.DEATH:  # as services.kept_end_all
            for kept in self.kept[person.atena_no]:
                if kept.end is None and kept.start <= change.date:
                    kept.end = change.date
                    self.kept_changed[kept.pk] = kept
        return [person]

    def _relocate(self, person: Person, change: ChangeEvent, ctx: ChangeContext) -> list[Person]:
        self._changed(
            person,
            relocation_set(person=person, address=change.address, postal_code=change.postal_code),
        )
        self._record(person, ChangeCode.RELOCATION, ctx)
        return [person]

    def _head_change(
        self, household: Household, new_head: Person, ctx: ChangeContext
    ) -> list[Person]:
        new_head.relation = Relation.HEAD
        self._changed(new_head, ["relation"])
        self._record(new_head, ChangeCode.HEAD_CHANGE, ctx)
        self._become_head(new_head, household, ctx, ChangeCode.HEAD_CHANGE)
        return [new_head]

    def _change_household(
        self, person: Person, change: ChangeEvent, code: ChangeCode, ctx: ChangeContext
    ) -> list[Person]:
        old = person.household
        target = self._household(change.household_no, ctx, code)
        person.household, person.relation = target, change.relation
        self._changed(person, ["household", "relation"])
        self._record(person, code, ctx)
        if self.heads[old.household_no] == person.atena_no and old is not target:
            self.heads[old.household_no] = None  # the registry names the new head (C02)
            self.heads_changed.add(old.household_no)
            self._record_household(old, code, ctx)
        if change.relation == Relation.HEAD:
            self._become_head(person, target, ctx, code)
        return [person]

    def _rename(self, person: Person, change: Rename, recorded_at: dt.datetime) -> None:
        ctx = ChangeContext(change.change_date, change.reported_on, recorded_at, change.source)
        self._changed(
            person, rename_set(person=person, name=change.name, name_kana=change.name_kana)
        )
        self._record(person, ChangeCode.NAME_CHANGE, ctx)

    # --- eligibility consequences (as events.event_apply) ---------------------------------

    def _event(
        self,
        change: ChangeEvent,
        ctx: ChangeContext,
        item: BatchItem,
        apply: Callable[[], list[Person]],
    ) -> None:
        touched = apply()
        recorded = Recorded(
            item.recorded_at, change.reported_on, change.date, change.type.value, self.actor
        )
        if message := late_report_message(recorded):
            self._notice(touched[0], NoticeCode.LATE_REPORT, message, recorded)
        for person in touched:
            periods = self._recompute(person, recorded)
            if numbers_needed(periods, change.date):
                self._numbers_ensure(person, change.date)

    def _periods(self, person: Person, as_of: dt.date) -> list[Period]:
        atena_no = person.atena_no
        basis, exclusions = person_intervals(
            birth_date=person.birth_date,
            registry=[fact for _date, _order, fact in self.history[atena_no]],
            coverages=self.coverages[atena_no],
            kept=[KeptFact(k.kind, k.start, k.end) for k in self.kept[atena_no]],
            late_elderly_age=parameters().at(as_of).eligibility.late_elderly_age,
            as_of=as_of,
        )
        return derive_periods(basis=basis, exclusions=exclusions)

    def _recompute(self, person: Person, recorded: Recorded) -> list[Period]:
        periods = self._periods(person, recompute_as_of(recorded))
        previous_seq, old = self.current.get(person.atena_no, (None, []))
        plan = version_plan(previous_seq=previous_seq, old=old, new=periods, recorded=recorded)
        if plan is None:
            return periods
        version = (
            plan.seq,
            recorded.recorded_at,
            recorded.cause,
            recorded.fact_date,
            recorded.reported_on,
            plan.changed_from,
            plan.retroactive,
        )
        self.latest_version[person.atena_no] = len(self.versions)
        self.versions.append((person, version, periods))
        self.current[person.atena_no] = (plan.seq, periods)
        if plan.retroactive:
            self._notice(person, NoticeCode.RETROACTIVE, plan.notice_message(recorded), recorded)
        self.audit.append(
            AuditEntry(
                EventType.ELIGIBILITY_CHANGED,
                SubjectType.PERSON,
                person.atena_no,
                extra=plan.audit_extra(recorded, periods),
            )
        )
        return periods

    def _notice(self, person: Person, code: NoticeCode, message: str, recorded: Recorded) -> None:
        self.notices.append(
            (
                person,
                code,
                message,
                recorded.fact_date,
                recorded.reported_on,
                recorded.recorded_at,
            )
        )

    def _numbers_ensure(self, person: Person, on: dt.date) -> None:
        """As services.numbers_ensure: the person's 枝番 under their household's 記号・番号."""
        household = person.household
        branches = self.branches[household.household_no]
        key = person.pk if person.pk is not None else person.atena_no
        if key in branches:
            return
        number = self.numbers.get(household.household_no)
        if number is None:
            if not self._last_number_loaded:
                self._last_number = HouseholdNumber.objects.filter(symbol=self.symbol).aggregate(
                    m=Max("number")
                )["m"]
                self._last_number_loaded = True
            self._last_number = number_after(self._last_number)
            number = HouseholdNumber(
                household=household, symbol=self.symbol, number=self._last_number, assigned_on=on
            )
            self.numbers[household.household_no] = number
            self.new_numbers.append(number)
        branch = branch_after(max(branches.values(), default=None))
        branches[key] = branch
        self.new_branches.append((number, person, branch, on))

    # --- writing ----------------------------------------------------------------------------

    def write(self) -> None:
        """Every row, parents before children; the audit chain last (its head is locked from
        there to the commit). Rows whose ids are needed go through the ORM; the rest as
        plain tuples (`core.bulkwrite`)."""
        writer = row_writer(connection)
        writer.create(Household, self.new_households, ["household_no", "formed_on"])
        for person in self.new_persons:
            person.household = person.household  # the id of a household created above
        writer.create(Person, self.new_persons, PERSON_FIELDS)
        by_fields: dict[tuple[str, ...], list[tuple[Any, ...]]] = defaultdict(list)
        for atena_no, names in self.person_fields.items():
            person = self.persons[atena_no]
            person.household = person.household  # the id of a household created above
            fields = tuple(sorted(names))
            attnames = [Person._meta.get_field(name).attname for name in fields]
            by_fields[fields].append((*(getattr(person, a) for a in attnames), person.pk))
        for fields, rows in by_fields.items():
            writer.update(Person, fields, rows)
        heads = []
        for household_no in sorted(self.heads_changed):
            household, head = self.households[household_no], self.heads[household_no]
            heads.append((self.persons[head].pk if head else None, household.pk))
        writer.update(Household, ["head"], heads)
        writer.insert(
            HouseholdHistory,
            ["household", "change_code", "change_date", "recorded_at", "source", "snapshot"],
            [(household.pk, *rest) for household, *rest in self.household_history],
        )
        writer.insert(
            PersonHistory,
            [
                "person",
                "change_code",
                "change_date",
                "reported_on",
                "recorded_at",
                "source",
                "snapshot",
            ],
            [(person.pk, *rest) for person, *rest in self.person_history],
        )
        writer.insert(
            OtherCoverage,
            ["person", "kind", "start", "end", "recorded_at"],
            [(person.pk, *rest) for person, *rest in self.new_coverages],
        )
        writer.update(KeptInsured, ["end"], [(k.end, k.pk) for k in self.kept_changed.values()])
        version_ids = writer.create_rows(
            EligibilityVersion,
            VERSION_FIELDS,
            [(person.pk, *values) for person, values, _periods in self.versions],
        )
        writer.insert(
            EligibilityPeriod,
            ["version", "start", "end", "acquired", "lost"],
            [
                (version_id, p.start, p.end, p.acquired, p.lost or "")
                for version_id, (_person, _values, periods) in zip(
                    version_ids, self.versions, strict=True
                )
                for p in periods
            ],
        )
        moved, created = [], []
        for atena_no, index in self.latest_version.items():
            person_id, version_id = self.persons[atena_no].pk, version_ids[index]
            if atena_no in self.pointers:
                moved.append((version_id, person_id))
            else:
                created.append((person_id, version_id))
        writer.insert(CurrentEligibility, ["person", "version"], created)
        writer.update(CurrentEligibility, ["version"], moved)
        HouseholdNumber.objects.bulk_create(self.new_numbers)
        writer.insert(
            BranchNumber,
            ["household_number", "person", "branch", "assigned_on"],
            [(number.pk, person.pk, *rest) for number, person, *rest in self.new_branches],
        )
        writer.insert(
            EligibilityNotice,
            ["person", "code", "message", "fact_date", "reported_on", "created_at"],
            [(person.pk, *rest) for person, *rest in self.notices],
        )
        # As `services` does for one change: those resting on eligibility hear of it (the
        # claims of months now lost or gained, the decided months to compute again).
        periods_changed_many(
            [(person, values[5]) for person, values, _periods in self.versions if values[5]]
        )
        audit_events_record(self.audit, actor=self.actor)
