"""住基異動 (resident-registry changes) — `residents-changes.csv`, interfaces.md §1.

The layout, and the mapping of one validated record to the services: every code except C05
becomes a `ChangeEvent` applied through `event_apply`, the one entry point for facts that
can change eligibility; C05 (氏名・カナ変更) only changes people data (`resident_rename`).
A file is applied in batches (`eligibility.bulk`), which is tested to give what these
one-record functions give; they remain the path for a batch that must be redone.
"""

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from kokuho.eligibility.bulk import BatchItem, Rename, registry_changes_apply
from kokuho.eligibility.events import ChangeEvent, ChangeType, event_apply
from kokuho.eligibility.services import UnknownHousehold, UnknownResident
from kokuho.interfaces.importer import ApplyContext, Importer, RowRejected
from kokuho.interfaces.layout import (
    Column,
    FieldInvalid,
    Layout,
    choice,
    date_value,
    digits,
    flag,
    identifier,
    kana_name,
    nfkc,
    text,
)
from kokuho.interfaces.models import ImportErrorCode, ImportKind
from kokuho.people.models import ChangeCode, Person, Relation
from kokuho.people.registry import ChangeContext, ResidentData, resident_rename

# 異動事由 → scenario event type (interfaces.md §1). C05 has none: it is people data only.
CODE_EVENTS: dict[str, ChangeType | None] = {
    "A01": ChangeType.MOVE_IN,
    "A02": ChangeType.BIRTH,
    "A03": ChangeType.MOVE_IN,
    "B01": ChangeType.MOVE_OUT,
    "B02": ChangeType.DEATH,
    "B03": ChangeType.MOVE_OUT,
    "C01": ChangeType.RELOCATION,
    "C02": ChangeType.HEAD_CHANGE,
    "C03": ChangeType.HOUSEHOLD_SPLIT,
    "C04": ChangeType.HOUSEHOLD_JOIN,
    "C05": None,
}
RENAME = "C05"
_POSTAL_CODE = re.compile(r"([0-9]{3})-?([0-9]{4})")


def _on(*codes: str) -> Callable[[Mapping[str, Any]], bool]:
    """Required on these change codes; a one-letter code stands for its whole group (A…)."""

    def required(parsed: Mapping[str, Any]) -> bool:
        code = parsed.get("change_code")
        return code is not None and (code in codes or code[:1] in codes)

    return required


def _change_code(value: str) -> str:
    return choice({code: code for code in CODE_EVENTS})(value.upper())


def _postal_code(value: str) -> str:
    match = _POSTAL_CODE.fullmatch(nfkc(value))
    if match is None:
        raise FieldInvalid(
            f"郵便番号は 7 桁（例: 799-0001）で入力してください: '{value}'",
            ImportErrorCode.INVALID_VALUE,
        )
    return f"{match[1]}-{match[2]}"


def _checks(record: Mapping[str, Any]) -> Iterator[tuple[str, str, ImportErrorCode]]:
    if record["residence_until"] is not None and not record["foreign"]:
        # The registry keeps 在留期間 for foreign residents only (Person's own constraint).
        yield (
            "residence_until",
            "在留期間の満了日は外国人住民（foreign=1）にのみ指定できます",
            ImportErrorCode.INVALID_VALUE,
        )
    if record["special_address"] and record["change_code"] != "A01":
        yield (
            "special_address",
            "住所地特例（special_address=1）は転入（A01）にのみ指定できます",
            ImportErrorCode.INVALID_VALUE,
        )


LAYOUT = Layout(
    title="住基異動",
    columns=(
        Column("record_id", "異動連番", text(40), required=True, screen=False),
        Column("change_code", "異動事由", _change_code, required=True),
        Column("change_date", "異動日", date_value, required=True),
        Column("report_date", "届出日", date_value),
        Column("atena_no", "宛名番号", digits(15), required=True),
        Column("household_no", "世帯番号", identifier(15), required=True),
        Column("relation", "続柄", choice({r.value: r.value for r in Relation}), _on("A", "C")),
        Column("name", "氏名", text(60), _on("A", RENAME), default=""),
        Column("name_kana", "氏名カナ", kana_name(120), _on("A", RENAME), default=""),
        Column("birth_date", "生年月日", date_value, _on("A")),
        Column("sex", "性別", choice({"1": 1, "2": 2}), _on("A")),
        Column("postal_code", "郵便番号", _postal_code, _on("A", "C01"), default=""),
        Column("address", "住所", text(200), _on("A", "C01"), default=""),
        Column("foreign", "外国人住民", flag, default=False),
        Column("residence_status", "在留資格", text(40), default=""),
        Column("residence_until", "在留期間の満了日", date_value),
        Column(
            "destination",
            "転出先",
            choice({"domestic": "domestic", "abroad": "abroad"}, normalize=str.lower),
            # Required, not defaulted: domestic and abroad lose eligibility on different days.
            _on("B01"),
            default="",
        ),
        Column("special_address", "住所地特例", flag, default=False),
    ),
    checks=(_checks,),
)


def change_event(record: Mapping[str, Any], *, source: str) -> ChangeEvent:
    """The `ChangeEvent` a record (any code but C05) stands for."""
    code = record["change_code"]
    event_type = CODE_EVENTS[code]
    assert event_type is not None, "C05 is not an event"
    resident = None
    if code.startswith("A"):
        resident = ResidentData(
            atena_no=record["atena_no"],
            name=record["name"],
            name_kana=record["name_kana"],
            birth_date=record["birth_date"],
            sex=record["sex"],
            address=record["address"],
            postal_code=record["postal_code"],
            is_foreign=record["foreign"],
            residence_status=record["residence_status"],
            residence_until=record["residence_until"],
        )
    return ChangeEvent(
        type=event_type,
        date=record["change_date"],
        reported_on=record["report_date"] or record["change_date"],
        atena_no=record["atena_no"],
        household_no=record["household_no"],
        relation=record["relation"] or "",
        resident=resident,
        # 職権消除 (B03) loses eligibility the next day, like a move abroad (interfaces.md).
        abroad=(code == "B01" and record["destination"] == "abroad") or code == "B03",
        special_address=record["special_address"],
        # C02: the record's person is the new head of the record's household.
        new_head_atena_no=record["atena_no"] if code == "C02" else "",
        address=record["address"],
        postal_code=record["postal_code"],
        source=source,
        code=ChangeCode(code),
    )


def _rename(record: Mapping[str, Any], ctx: ApplyContext) -> Rename:
    return Rename(
        atena_no=record["atena_no"],
        name=record["name"],
        name_kana=record["name_kana"],
        change_date=record["change_date"],
        reported_on=record["report_date"] or record["change_date"],
        source=ctx.source,
    )


def change_apply_batch(
    records: list[tuple[Mapping[str, Any], ApplyContext]],
) -> list[RowRejected | None]:
    """Apply validated records as one batch (`eligibility.bulk`), in file order: for each,
    None or why it is refused. Raises `BatchAborted` when the batch must be redone a record
    at a time (the importer does that). All records share one run, hence one actor."""
    items = [
        BatchItem(
            _rename(record, ctx)
            if record["change_code"] == RENAME
            else change_event(record, source=ctx.source),
            ctx.recorded_at,
        )
        for record, ctx in records
    ]
    outcomes = registry_changes_apply(items, actor=records[0][1].actor if records else None)
    return [
        None if refusal is None else change_explain(record, refusal)
        for (record, _ctx), refusal in zip(records, outcomes, strict=True)
    ]


def change_apply(record: Mapping[str, Any], ctx: ApplyContext) -> None:
    """Apply one validated record through the services (joins the caller's transaction)."""
    if record["change_code"] == RENAME:
        person = Person.objects.filter(atena_no=record["atena_no"]).first()
        if person is None:
            raise _unknown_resident(record)
        change = ChangeContext(
            change_date=record["change_date"],
            reported_on=record["report_date"] or record["change_date"],
            recorded_at=ctx.recorded_at,
            source=ctx.source,
            actor=ctx.actor,
        )
        resident_rename(
            person=person, name=record["name"], name_kana=record["name_kana"], ctx=change
        )
        return
    event_apply(
        change_event(record, source=ctx.source), recorded_at=ctx.recorded_at, actor=ctx.actor
    )


def _unknown_resident(record: Mapping[str, Any]) -> RowRejected:
    return RowRejected(
        "atena_no",
        f"宛名番号 {record['atena_no']} の住民が見つかりません",
        ImportErrorCode.UNKNOWN_RESIDENT,
    )


def change_explain(record: Mapping[str, Any], error: Exception) -> RowRejected:
    """Say which field a service's refusal is about (the same for a record applied alone or
    in a batch: it reads nothing but the error)."""
    if isinstance(error, RowRejected):
        return error
    if isinstance(error, UnknownResident):
        return _unknown_resident(record)
    if isinstance(error, UnknownHousehold):
        return RowRejected("household_no", str(error), ImportErrorCode.UNKNOWN_HOUSEHOLD)
    code = record["change_code"]
    return RowRejected(
        "", f"{ChangeCode(code).label}を反映できません: {error}", ImportErrorCode.REJECTED
    )


IMPORTER = Importer(
    kind=ImportKind.RESIDENTS_CHANGES,
    layout=LAYOUT,
    apply=change_apply,
    explain=change_explain,
    apply_batch=change_apply_batch,
    source_prefix="住基異動",
)
