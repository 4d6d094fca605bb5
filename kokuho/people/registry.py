"""Registry changes (住民基本台帳の異動) applied to the mirror: one service per kind of change.

Each service updates the current row, appends the history snapshot and the audit event in
one transaction (joining the caller's without a savepoint: an error always propagates, and
savepoints were a third of the queries of a bulk import). They are called by the 住基異動
importer, the scenario runner and tests alike; eligibility consequences are drawn by
`kokuho.eligibility.events`, not here.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.core.kana import kana_search_key, normalize_kana_name
from kokuho.people.models import (
    ChangeCode,
    Household,
    HouseholdHistory,
    Person,
    PersonHistory,
    Relation,
)


class RegistryError(ValueError):
    """A change that contradicts the registry as we hold it (e.g. 転入 of a current resident)."""


@dataclass(frozen=True)
class ResidentData:
    """What an A-code record (転入・出生・職権記載) carries about the person."""

    atena_no: str
    name: str
    name_kana: str
    birth_date: dt.date
    sex: int
    address: str = ""
    postal_code: str = ""
    is_foreign: bool = False
    residence_status: str = ""
    residence_until: dt.date | None = None


@dataclass(frozen=True)
class ChangeContext:
    """When the change happened, when it was reported and recorded, by whom, from where."""

    change_date: dt.date
    reported_on: dt.date
    recorded_at: dt.datetime
    source: str
    actor: Any | None = None


def snapshot(person: Person, **extra: Any) -> dict[str, Any]:
    """The person's registry data as `PersonHistory.snapshot` keeps it."""
    return {
        "household_no": person.household.household_no,
        "relation": person.relation,
        "name": person.name,
        "name_kana": person.name_kana,
        "address": person.address,
        "postal_code": person.postal_code,
        "resident_from": person.resident_from.isoformat(),
        "resident_until": person.resident_until.isoformat() if person.resident_until else None,
        **extra,
    }


def resident_changed_extra(code: ChangeCode, ctx: ChangeContext) -> dict[str, Any]:
    """`extra` of the RESIDENT_CHANGED audit event."""
    return {"code": code.value, "change_date": ctx.change_date.isoformat(), "source": ctx.source}


# --- The rules of each change, on objects in memory -------------------------------------------
# Each `*_check` raises `RegistryError` before anything is changed; each `*_set` changes the
# objects and returns the names of the fields it changed. The services below persist one
# change at a time; `kokuho.eligibility.bulk` persists a batch of them. Both use these.

ARRIVAL_CODES = (ChangeCode.MOVE_IN, ChangeCode.BIRTH, ChangeCode.OFFICIAL_ENTRY)
DEPARTURE_CODES = (ChangeCode.MOVE_OUT, ChangeCode.DEATH, ChangeCode.OFFICIAL_DELETION)
HOUSEHOLD_CODES = (ChangeCode.HOUSEHOLD_SPLIT, ChangeCode.HOUSEHOLD_JOIN)


def arrival_check(*, code: ChangeCode, atena_no: str, existing: Person | None) -> None:
    if code not in ARRIVAL_CODES:
        raise RegistryError(f"住民となる異動ではありません: {code}")
    if existing is not None and existing.resident_until is None:
        raise RegistryError(f"宛名番号 {atena_no} は既に住民です（転入・出生は登録済み）")


def arrival_fields(
    *, data: ResidentData, household: Household, relation: str, change_date: dt.date
) -> dict[str, Any]:
    """Every field a 転入・出生・職権記載 sets (a returning resident gets all of them anew)."""
    kana = normalize_kana_name(data.name_kana)
    return {
        "name": data.name,
        "name_kana": kana,
        "kana_key": kana_search_key(kana),
        "birth_date": data.birth_date,
        "sex": data.sex,
        "address": data.address,
        "postal_code": data.postal_code,
        "household": household,
        "relation": relation,
        "resident_from": change_date,
        "resident_until": None,
        "is_foreign": data.is_foreign,
        "residence_status": data.residence_status,
        "residence_until": data.residence_until,
    }


def departure_set(*, person: Person, code: ChangeCode, change_date: dt.date) -> list[str]:
    """A death may also be recorded for someone who has moved out but stays insured here
    (住所地特例): then nothing changes but the history row."""
    if code not in DEPARTURE_CODES:
        raise RegistryError(f"住民でなくなる異動ではありません: {code}")
    if person.resident_until is None:
        person.resident_until = max(change_date, person.resident_from)
        return ["resident_until"]
    if code != ChangeCode.DEATH:
        raise RegistryError(f"宛名番号 {person.atena_no} は既に住民ではありません")
    return []


def relocation_set(*, person: Person, address: str, postal_code: str) -> list[str]:
    person.address, person.postal_code = address or person.address, postal_code
    return ["address", "postal_code"]


def _in_household(person: Person, household: Household) -> bool:
    if household.pk is not None and person.household_id is not None:
        return person.household_id == household.pk
    return person.household is household  # both still in memory (a batch not yet written)


def head_change_check(*, household: Household, new_head: Person) -> None:
    if not _in_household(new_head, household):
        raise RegistryError(
            f"{new_head.atena_no} は世帯 {household.household_no} の世帯員ではありません"
        )


def household_change_check(*, code: ChangeCode) -> None:
    if code not in HOUSEHOLD_CODES:
        raise RegistryError(f"世帯の異動ではありません: {code}")


def rename_set(*, person: Person, name: str, name_kana: str) -> list[str]:
    kana = normalize_kana_name(name_kana)
    person.name, person.name_kana, person.kana_key = name, kana, kana_search_key(kana)
    return ["name", "name_kana", "kana_key"]


# --- Services: one change, persisted --------------------------------------------------------


def _record(person: Person, code: ChangeCode, ctx: ChangeContext, **extra: Any) -> None:
    PersonHistory.objects.create(
        person=person,
        change_code=code,
        change_date=ctx.change_date,
        reported_on=ctx.reported_on,
        recorded_at=ctx.recorded_at,
        source=ctx.source,
        snapshot=snapshot(person, **extra),
    )
    audit_event_record(
        event_type=EventType.RESIDENT_CHANGED,
        actor=ctx.actor,
        subject_type=SubjectType.PERSON,
        subject_id=person.atena_no,
        extra=resident_changed_extra(code, ctx),
    )


def _record_household(household: Household, code: ChangeCode, ctx: ChangeContext) -> None:
    HouseholdHistory.objects.create(
        household=household,
        change_code=code,
        change_date=ctx.change_date,
        recorded_at=ctx.recorded_at,
        source=ctx.source,
        snapshot={"head": household.head.atena_no if household.head else None},
    )


def _household(household_no: str, ctx: ChangeContext, code: ChangeCode) -> Household:
    household, created = Household.objects.get_or_create(
        household_no=household_no, defaults={"formed_on": ctx.change_date}
    )
    if created:
        _record_household(household, code, ctx)
    return household


def _become_head(
    person: Person, household: Household, ctx: ChangeContext, code: ChangeCode
) -> None:
    household.head = person
    household.save(update_fields=["head"])
    _record_household(household, code, ctx)


def resident_arrive(
    *, data: ResidentData, household_no: str, relation: str, code: ChangeCode, ctx: ChangeContext
) -> Person:
    """転入 (A01), 出生 (A02), 職権記載 (A03): the person becomes a resident on `change_date`."""
    person = Person.objects.filter(atena_no=data.atena_no).first()
    arrival_check(code=code, atena_no=data.atena_no, existing=person)
    with transaction.atomic(savepoint=False):
        household = _household(household_no, ctx, code)
        fields = arrival_fields(
            data=data, household=household, relation=relation, change_date=ctx.change_date
        )
        if person is None:
            person = Person.objects.create(atena_no=data.atena_no, **fields)
        else:
            for name, value in fields.items():
                setattr(person, name, value)
            person.save()
        _record(person, code, ctx)
        if relation == Relation.HEAD:
            _become_head(person, household, ctx, code)
    return person


def resident_depart(
    *, person: Person, code: ChangeCode, abroad: bool, ctx: ChangeContext
) -> Person:
    """転出 (B01), 死亡 (B02), 職権消除 (B03)."""
    with transaction.atomic(savepoint=False):
        if changed := departure_set(person=person, code=code, change_date=ctx.change_date):
            person.save(update_fields=changed)
        _record(person, code, ctx, destination="abroad" if abroad else "domestic")
    return person


def resident_relocate(
    *, person: Person, address: str, postal_code: str, ctx: ChangeContext
) -> Person:
    """転居 (C01): a new address inside the city."""
    with transaction.atomic(savepoint=False):
        changed = relocation_set(person=person, address=address, postal_code=postal_code)
        person.save(update_fields=changed)
        _record(person, ChangeCode.RELOCATION, ctx)
    return person


def household_head_change(
    *, household: Household, new_head: Person, ctx: ChangeContext
) -> Household:
    """世帯主変更 (C02)."""
    head_change_check(household=household, new_head=new_head)
    with transaction.atomic(savepoint=False):
        new_head.relation = Relation.HEAD
        new_head.save(update_fields=["relation"])
        _record(new_head, ChangeCode.HEAD_CHANGE, ctx)
        _become_head(new_head, household, ctx, ChangeCode.HEAD_CHANGE)
    return household


def resident_change_household(
    *, person: Person, household_no: str, relation: str, code: ChangeCode, ctx: ChangeContext
) -> Person:
    """世帯分離 (C03) / 世帯合併 (C04): the person moves to household `household_no`."""
    household_change_check(code=code)
    with transaction.atomic(savepoint=False):
        old = person.household
        target = _household(household_no, ctx, code)
        person.household, person.relation = target, relation
        person.save(update_fields=["household", "relation"])
        _record(person, code, ctx)
        if old.head_id == person.pk and old.pk != target.pk:
            old.head = None  # the registry names the new head with its own C02 record
            old.save(update_fields=["head"])
            _record_household(old, code, ctx)
        if relation == Relation.HEAD:
            _become_head(person, target, ctx, code)
    return person


def resident_rename(*, person: Person, name: str, name_kana: str, ctx: ChangeContext) -> Person:
    """氏名・カナ変更 (C05)."""
    with transaction.atomic(savepoint=False):
        changed = rename_set(person=person, name=name, name_kana=name_kana)
        person.save(update_fields=changed)
        _record(person, ChangeCode.NAME_CHANGE, ctx)
    return person
