"""The scenario runner (`kokuho scenario run FILE`): scenarios.md §1, on the real services.

A scenario document is validated whole before anything runs; every problem is reported as
`FILE: path.in.document: reason`. Events then go through `event_apply` — the same entry
point as the 住基異動 importer and the counter — in document order, each recorded as of its
report date, on the fresh database the CLI gives this command.
"""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from django.db import transaction

from kokuho.core.kana import KanaError, normalize_kana_name
from kokuho.core.wareki import WarekiError, parse_date
from kokuho.eligibility.burden import Decision
from kokuho.eligibility.derivation import insured_on
from kokuho.eligibility.events import ChangeEvent, ChangeType, event_apply
from kokuho.eligibility.models import EligibilityNotice
from kokuho.eligibility.selectors import (
    eligibility_periods,
    household_head_on,
    insured_number_of,
    person_state_on,
)
from kokuho.eligibility.services import (
    EligibilityError,
    Recorded,
    eligibility_recompute,
    kijun_apply,
)
from kokuho.people.income import IncomeValues, income_record
from kokuho.people.models import Household, Income, Person, Relation, Sex
from kokuho.people.registry import ResidentData
from kokuho.rules.numbers import insurer_number_is_valid

TOKYO = ZoneInfo("Asia/Tokyo")


class ScenarioError(ValueError):
    """Invalid scenario input: `path` inside the document and the reason."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


# 続柄 in the scenario's English words. Only 世帯主 matters to eligibility; any other word is
# kept as その他 rather than refusing the whole case.
RELATIONS = {
    "head": Relation.HEAD,
    "wife": Relation.WIFE,
    "husband": Relation.HUSBAND,
    "child": Relation.CHILD,
    "son": Relation.CHILD,
    "daughter": Relation.CHILD,
    "father": Relation.FATHER,
    "mother": Relation.MOTHER,
    "grandchild": Relation.GRANDCHILD,
    "grandson": Relation.GRANDCHILD,
    "granddaughter": Relation.GRANDCHILD,
    "grandfather": Relation.GRANDFATHER,
    "grandmother": Relation.GRANDMOTHER,
    "lodger": Relation.LODGER,
    "other": Relation.OTHER,
    "parent": None,  # 父 or 母 by sex
    "spouse": None,  # 妻 or 夫 by sex
    "grandparent": None,  # 祖父 or 祖母 by sex
}
SEXES = {
    "M": Sex.MALE,
    "F": Sex.FEMALE,
    "MALE": Sex.MALE,
    "FEMALE": Sex.FEMALE,
    "1": Sex.MALE,
    "2": Sex.FEMALE,
    "男": Sex.MALE,
    "女": Sex.FEMALE,
}
NEEDS_HOUSEHOLD = {
    ChangeType.MOVE_IN,
    ChangeType.BIRTH,
    ChangeType.HOUSEHOLD_SPLIT,
    ChangeType.HOUSEHOLD_JOIN,
}
INCOME_FIELDS = ("total_income", "taxable", "revenue")


@dataclass
class ScenarioResident:
    key: str
    name: str
    kana: str
    birth: dt.date
    sex: int


@dataclass
class ScenarioEvent:
    path: str
    type: ChangeType
    date: dt.date
    reported: dt.date
    resident: str
    household: str = ""
    relation: str = ""
    destination_abroad: bool = False
    special_address: bool = False
    new_head: str = ""


@dataclass
class Scenario:
    as_of: dt.date
    residents: dict[str, ScenarioResident]
    events: list[ScenarioEvent]
    income: list[tuple[str, dict[str, Any]]]
    applications: list[tuple[str, dt.date]]
    queries: list[dt.date]
    insurer_number: str | None = None
    households: list[str] = field(default_factory=list)


def _date(value: Any, path: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return parse_date(value)
        except WarekiError as error:
            raise ScenarioError(path, str(error)) from None
    raise ScenarioError(path, f"日付が必要です（{value!r}）")


def _mapping(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ScenarioError(path, "対応表（key: value）が必要です")
    return value


def _required(data: Mapping[str, Any], key: str, path: str) -> Any:
    if key not in data or data[key] in (None, ""):
        raise ScenarioError(f"{path}.{key}", "必須項目がありません")
    return data[key]


def _int(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ScenarioError(path, f"0以上の整数（円）が必要です（{value!r}）")
    return value


def _bool(value: Any, path: str) -> bool:
    if isinstance(value, bool):
        return value
    if value in (0, 1):
        return bool(value)
    raise ScenarioError(path, f"true / false が必要です（{value!r}）")


def scenario_parse(document: Any, *, today: dt.date) -> Scenario:
    """Validate a scenario document (already parsed from YAML/JSON)."""
    doc = _mapping(document, "(document)")
    known = {"as_of", "insurer_number", "residents", "events", "income", "applications", "queries"}
    for key in doc:
        if key not in known:
            raise ScenarioError(
                str(key), f"不明な項目です（使える項目: {', '.join(sorted(known))}）"
            )
    as_of = _date(doc["as_of"], "as_of") if "as_of" in doc else today
    insurer = doc.get("insurer_number")
    if insurer is not None and not insurer_number_is_valid(str(insurer)):
        raise ScenarioError(
            "insurer_number", f"保険者番号 {insurer!r} の検証番号が正しくありません"
        )
    residents = _residents(doc.get("residents") or {})
    events = _events(doc.get("events") or [], residents)
    income = _income(doc.get("income") or [], residents)
    applications = _applications(doc.get("applications") or [], residents)
    queries_raw = doc.get("queries") or []
    if not isinstance(queries_raw, list):
        raise ScenarioError("queries", "日付の一覧が必要です")
    queries = [_date(q, f"queries[{i}]") for i, q in enumerate(queries_raw)]
    households = []
    for event in events:
        if event.household and event.household not in households:
            households.append(event.household)
    return Scenario(
        as_of,
        residents,
        events,
        income,
        applications,
        queries,
        str(insurer) if insurer else None,
        households,
    )


def _residents(raw: Any) -> dict[str, ScenarioResident]:
    residents = {}
    for key, value in _mapping(raw, "residents").items():
        path = f"residents.{key}"
        if len(str(key)) > 15:
            raise ScenarioError(path, "住民のキーは15文字以内です")
        data = _mapping(value, path)
        sex = SEXES.get(str(_required(data, "sex", path)).strip().upper())
        if sex is None:
            raise ScenarioError(f"{path}.sex", f"M / F が必要です（{data['sex']!r}）")
        kana = str(_required(data, "kana", path))
        try:
            normalize_kana_name(kana)
        except KanaError as error:
            raise ScenarioError(f"{path}.kana", str(error)) from None
        residents[str(key)] = ScenarioResident(
            key=str(key),
            name=str(_required(data, "name", path)),
            kana=kana,
            birth=_date(_required(data, "birth", path), f"{path}.birth"),
            sex=sex,
        )
    return residents


def _resident_ref(
    data: Mapping[str, Any], key: str, path: str, residents: Mapping[str, Any]
) -> str:
    ref = str(_required(data, key, path))
    if ref not in residents:
        raise ScenarioError(f"{path}.{key}", f"residents にない住民です: {ref!r}")
    return ref


def _relation(value: Any, sex: int, path: str) -> str:
    text = str(value).strip()
    if text in Relation.values:
        return text
    word = text.lower()
    female = sex == Sex.FEMALE
    if word == "spouse":
        return Relation.WIFE if female else Relation.HUSBAND
    if word == "parent":
        return Relation.MOTHER if female else Relation.FATHER
    if word == "grandparent":
        return Relation.GRANDMOTHER if female else Relation.GRANDFATHER
    return RELATIONS.get(word) or Relation.OTHER


def _events(raw: Any, residents: dict[str, ScenarioResident]) -> list[ScenarioEvent]:
    if not isinstance(raw, list):
        raise ScenarioError("events", "異動の一覧が必要です")
    events = []
    for index, value in enumerate(raw):
        path = f"events[{index}]"
        data = _mapping(value, path)
        try:
            kind = ChangeType(str(_required(data, "type", path)))
        except ValueError:
            raise ScenarioError(f"{path}.type", f"不明な異動です: {data['type']!r}") from None
        date = _date(_required(data, "date", path), f"{path}.date")
        reported = _date(data["reported"], f"{path}.reported") if data.get("reported") else date
        if reported < date:
            raise ScenarioError(f"{path}.reported", "届出日が異動日より前です")
        if kind == ChangeType.HEAD_CHANGE:
            new_head = _resident_ref(data, "new_head", path, residents)
            resident = str(data.get("resident") or new_head)
            event = ScenarioEvent(
                path,
                kind,
                date,
                reported,
                resident,
                str(data.get("household", "")),
                new_head=new_head,
            )
        else:
            resident = _resident_ref(data, "resident", path, residents)
            household = str(data.get("household", ""))
            if kind in NEEDS_HOUSEHOLD and not household:
                raise ScenarioError(f"{path}.household", "必須項目がありません")
            relation = ""
            if kind in NEEDS_HOUSEHOLD:
                relation = _relation(
                    data.get("relation", "other"), residents[resident].sex, f"{path}.relation"
                )
            destination = str(data.get("destination", "domestic"))
            if destination not in ("domestic", "abroad"):
                raise ScenarioError(f"{path}.destination", "domestic か abroad です")
            event = ScenarioEvent(
                path,
                kind,
                date,
                reported,
                resident,
                household,
                relation,
                destination_abroad=destination == "abroad",
                special_address=_bool(
                    data.get("special_address", False), f"{path}.special_address"
                ),
            )
        events.append(event)
    return events


def _income(raw: Any, residents: dict[str, ScenarioResident]) -> list[tuple[str, dict[str, Any]]]:
    if not isinstance(raw, list):
        raise ScenarioError("income", "所得の一覧が必要です")
    rows = []
    for index, value in enumerate(raw):
        path = f"income[{index}]"
        data = _mapping(value, path)
        resident = _resident_ref(data, "resident", path, residents)
        year = _int(_required(data, "year", path), f"{path}.year")
        row = {f: _int(_required(data, f, path), f"{path}.{f}") for f in INCOME_FIELDS}
        row["tax_exempt"] = _bool(_required(data, "tax_exempt", path), f"{path}.tax_exempt")
        row["pension_revenue"] = _int(data.get("pension_revenue", 0), f"{path}.pension_revenue")
        row["pension_income"] = _int(data.get("pension_income", 0), f"{path}.pension_income")
        row["unreported"] = _bool(data.get("unreported", False), f"{path}.unreported")
        row["income_year"] = year
        rows.append((resident, row))
    return rows


def _applications(raw: Any, residents: dict[str, ScenarioResident]) -> list[tuple[str, dt.date]]:
    if not isinstance(raw, list):
        raise ScenarioError("applications", "申請の一覧が必要です")
    found = []
    for index, value in enumerate(raw):
        path = f"applications[{index}]"
        data = _mapping(value, path)
        if set(data) != {"kijun_application"}:
            raise ScenarioError(path, "kijun_application のみ指定できます")
        inner = _mapping(data["kijun_application"], f"{path}.kijun_application")
        resident = _resident_ref(inner, "resident", f"{path}.kijun_application", residents)
        date = _date(
            _required(inner, "date", f"{path}.kijun_application"), f"{path}.kijun_application.date"
        )
        found.append((resident, date))
    return found


class _StringDateLoader(yaml.SafeLoader):
    """YAML without implicit timestamps: dates stay text and are parsed by `parse_date`,
    so 2026-02-30 is reported at its path instead of failing inside the YAML library."""


_StringDateLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def scenario_load(path: Path, *, today: dt.date) -> Scenario:
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_StringDateLoader)  # noqa: S506
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError("(file)", f"読めません: {error}") from None
    except yaml.YAMLError as error:
        raise ScenarioError(
            "(file)", "YAML/JSON として読めません: " + " ".join(str(error).split())
        ) from None
    return scenario_parse(document, today=today)


class _Clock:
    """Transaction time for the run: each fact is recorded on its report date, in order."""

    def __init__(self) -> None:
        self.last: dt.datetime | None = None

    def at(self, day: dt.date) -> dt.datetime:
        moment = dt.datetime.combine(day, dt.time(9, 0), tzinfo=TOKYO)
        if self.last is not None and moment <= self.last:
            moment = self.last + dt.timedelta(microseconds=1)
        self.last = moment
        return moment


def _change_event(event: ScenarioEvent, resident: ScenarioResident) -> ChangeEvent:
    return ChangeEvent(
        type=event.type,
        date=event.date,
        reported_on=event.reported,
        atena_no=event.resident,
        household_no=event.household,
        relation=event.relation,
        resident=ResidentData(
            atena_no=resident.key,
            name=resident.name,
            name_kana=resident.kana,
            birth_date=resident.birth,
            sex=resident.sex,
            address="（シナリオ）",
        ),
        abroad=event.destination_abroad,
        special_address=event.special_address,
        new_head_atena_no=event.new_head,
        source="scenario",
    )


def scenario_run(scenario: Scenario) -> dict[str, Any]:
    """Apply the scenario and answer in the format of scenarios.md."""
    clock = _Clock()
    with transaction.atomic():
        pending: dict[str, list[ScenarioEvent]] = {}
        arrived: set[str] = set()
        arrivals = {e.resident for e in scenario.events if e.type in ARRIVALS}
        for event in scenario.events:
            subject = event.resident
            if event.type in ARRIVALS:
                arrived.add(subject)
                _apply(event, scenario, clock, with_facts=pending.pop(subject, []))
            elif subject in arrived:
                _apply(event, scenario, clock)
            elif subject not in arrivals:
                raise ScenarioError(
                    event.path, f"{subject} は転入・出生していないため適用できません"
                )
            else:
                # A fact about someone not yet living here (e.g. 社保 since before the move):
                # handed in with their 転入/出生, with its own dates.
                pending.setdefault(subject, []).append(event)
        _store_income(scenario, clock)
        for resident, applied_on in scenario.applications:
            person = Person.objects.filter(atena_no=resident).first()
            if person is None:
                raise ScenarioError("applications", f"{resident} は住民になっていません")
            kijun_apply(
                person=person,
                applied_on=applied_on,
                recorded=Recorded(
                    clock.at(applied_on), applied_on, applied_on, "kijun_application"
                ),
            )
        # The daily age job has run up to as_of: 75th birthdays by then are facts.
        final = clock.at(scenario.as_of)
        for person in Person.objects.all():
            eligibility_recompute(
                person=person,
                recorded=Recorded(final, scenario.as_of, scenario.as_of, "age_75"),
                as_of=scenario.as_of,
            )
        return _answer(scenario)


ARRIVALS = (ChangeType.MOVE_IN, ChangeType.BIRTH)


def _apply(
    event: ScenarioEvent, scenario: Scenario, clock: _Clock, with_facts: list[ScenarioEvent] = ()
) -> None:
    try:
        event_apply(
            _change_event(event, scenario.residents[event.resident]),
            recorded_at=clock.at(event.reported),
            actor=None,
            with_facts=tuple(_change_event(f, scenario.residents[f.resident]) for f in with_facts),
        )
    except EligibilityError as error:
        raise ScenarioError(event.path, str(error)) from None
    except Household.DoesNotExist:
        raise ScenarioError(event.path, f"世帯 {event.household!r} がありません") from None


def _store_income(scenario: Scenario, clock: _Clock) -> None:
    """Income rows are the tax data as known for each year (no 更正 dates in the format)."""
    for resident, row in scenario.income:
        person = Person.objects.filter(atena_no=resident).first()
        if person is None:
            continue  # income of someone who never lived here does not enter any household
        values = IncomeValues(**{k: v for k, v in row.items() if k != "income_year"})
        Income.objects.filter(person=person, income_year=row["income_year"]).delete()
        income_record(
            person=person,
            income_year=row["income_year"],
            values=values,
            reported_on=scenario.as_of,
            recorded_at=clock.at(scenario.as_of),
        )


def _decision_value(decision: Decision | None) -> Any:
    return decision.value if decision else None


def _answer(scenario: Scenario) -> dict[str, Any]:
    people = {p.atena_no: p for p in Person.objects.all()}
    persons = {}
    for key in scenario.residents:
        person = people.get(key)
        periods = eligibility_periods(person=person) if person else []
        number = insured_number_of(person=person) if person else None
        persons[key] = {
            "periods": [p.as_dict() for p in periods],
            "insured_number": {
                "symbol": number.household_number.symbol,
                "number": number.household_number.number,
                "branch": number.branch,
            }
            if number
            else None,
        }
    households = {}
    for key in scenario.households:
        household = Household.objects.filter(household_no=key).first()
        head = household_head_on(household=household, on=scenario.as_of) if household else None
        head_insured = bool(head and insured_on(eligibility_periods(person=head), scenario.as_of))
        households[key] = {
            "head": head.atena_no if head else None,
            "pseudo_head": bool(head) and not head_insured,
        }
    states: dict[str, Any] = {}
    for day in scenario.queries:
        states[day.isoformat()] = {}
        for key in scenario.residents:
            person = people.get(key)
            state = person_state_on(person=person, on=day) if person else None
            if state is None or not state.insured:
                states[day.isoformat()][key] = {"insured": False}
            else:
                states[day.isoformat()][key] = {
                    "insured": True,
                    "household": state.household_no,
                    "copay_rate": _decision_value(state.copay),
                    "category": _decision_value(state.category),
                }
    warnings = [
        {"resident": n.person.atena_no, "code": n.code, "message": n.message}
        for n in EligibilityNotice.objects.select_related("person").order_by("created_at", "id")
    ]
    return {
        "as_of": scenario.as_of.isoformat(),
        "persons": persons,
        "households": households,
        "states": states,
        "warnings": warnings,
    }
