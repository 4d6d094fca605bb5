"""The `kokuho gassan calc` input, checked field by field.

Every refusal names the place in the document (`costs[1].medical`) and the reason, in
Japanese, so that a one-line error tells the author what to fix.
"""

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from kokuho.benefits.gassan.engine import (
    ELDERLY,
    GROUP_TEXT,
    UNDER70,
    HouseholdYear,
    MemberYear,
    YearNotCovered,
    YearRules,
    is_late_elderly,
    member_group,
    year_rules,
)

YEAR = re.compile(r"^\d{4}$")
TOP_KEYS = ("year", "household_category", "household_category_70", "members", "costs")
MEMBER_KEYS = ("id", "birth")
COST_KEYS = ("person", "medical", "care")
# Which document key holds the 所得区分 of each age group.
CATEGORY_KEY = {UNDER70: "household_category", ELDERLY: "household_category_70"}


class CalcInputError(ValueError):
    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


def _mapping(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise CalcInputError(path, "対応表（キー: 値）で書きます")
    return value


def _list(value: Any, path: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise CalcInputError(path, "一覧（- で始まる行）で書きます")
    return value


def _known_keys(raw: Mapping[str, Any], allowed: tuple[str, ...], path: str) -> None:
    """A misspelt key would otherwise be silently ignored (a cost read as 0)."""
    for key in raw:
        if key not in allowed:
            where = f"{path}.{key}" if path else str(key)
            hint = ""
            if key == "category":
                hint = (
                    "所得区分は世帯ごとに household_category / household_category_70 に書きます。"
                )
            raise CalcInputError(where, f"{hint}書ける項目は {'・'.join(allowed)} です")


def _year(value: Any) -> int:
    if value is None:
        raise CalcInputError("year", "計算期間の年（8月1日の年、例: 2025）がありません")
    if isinstance(value, bool) or not (
        isinstance(value, int) or (isinstance(value, str) and YEAR.match(value))
    ):
        raise CalcInputError("year", f"年は4桁の整数で書きます（例: 2025）: {value!r}")
    return int(value)


def _date(value: Any, path: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise CalcInputError(path, f"日付は YYYY-MM-DD で書きます: {value!r}") from None


def _amount(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CalcInputError(path, f"自己負担額は0以上の整数（円）で書きます: {value!r}")
    return value


def _member(raw: Any, path: str, rules: YearRules) -> tuple[str, dt.date]:
    raw = _mapping(raw, path)
    _known_keys(raw, MEMBER_KEYS, path)
    if raw.get("id") in (None, ""):
        raise CalcInputError(f"{path}.id", "被保険者の id がありません")
    if "birth" not in raw:
        raise CalcInputError(f"{path}.birth", "生年月日がありません")
    birth = _date(raw["birth"], f"{path}.birth")
    day = rules.reference_day
    if birth > day:
        raise CalcInputError(f"{path}.birth", f"基準日 {day} より後の生年月日です: {birth}")
    if is_late_elderly(birth, rules):
        raise CalcInputError(
            f"{path}.birth",
            f"基準日 {day} には{rules.late_elderly_age}歳の誕生日を迎えて後期高齢者医療の被保険者"
            f"です（{birth}生）: 国保の世帯員として計算できません",
        )
    return str(raw["id"]), birth


def _category(document: Mapping[str, Any], group: str, present: bool, rules: YearRules) -> Any:
    """The band key of `group`, or None; required exactly when the group has a member."""
    key = CATEGORY_KEY[group]
    label = document.get(key)
    age = GROUP_TEXT[group]
    if not present:
        if label is not None:
            raise CalcInputError(
                key, f"基準日 {rules.reference_day} に{age}の被保険者がいないため書きません"
            )
        return None
    labels = "・".join(rules.labels(group))
    if label is None:
        raise CalcInputError(
            key,
            f"基準日 {rules.reference_day} に{age}の被保険者がいるため、所得区分"
            f"（{labels}）が要ります",
        )
    band = rules.band_for_label(group, str(label))
    if band is None:
        raise CalcInputError(key, f"{age}の所得区分は {labels} のいずれかです: {label!r}")
    return band.key


def _costs(document: Mapping[str, Any], births: dict[str, dt.date]) -> dict[str, list[int]]:
    """Each member's [medical, care]; a member listed twice (two 証明書) has them added."""
    totals = {pid: [0, 0] for pid in births}
    for i, raw in enumerate(_list(document.get("costs"), "costs")):
        path = f"costs[{i}]"
        raw = _mapping(raw, path)
        _known_keys(raw, COST_KEYS, path)
        person = raw.get("person")
        if person is None or str(person) not in births:
            raise CalcInputError(f"{path}.person", f"members にない被保険者です: {person!r}")
        for side, key in enumerate(("medical", "care")):
            totals[str(person)][side] += _amount(raw.get(key, 0), f"{path}.{key}")
    return totals


def calc_input_parse(document: Any) -> tuple[HouseholdYear, YearRules]:
    """The document as a `HouseholdYear` and the rules of its year; refuses bad input and a
    year without (confirmed) limits."""
    document = _mapping(document, "(文書)")
    _known_keys(document, TOP_KEYS, "")
    year = _year(document.get("year"))
    try:
        rules = year_rules(year)
    except YearNotCovered as error:
        raise CalcInputError("year", str(error)) from None
    raw_members = _list(document.get("members"), "members")
    if not raw_members:
        raise CalcInputError("members", "被保険者が1人もいません")
    births: dict[str, dt.date] = {}
    for i, raw in enumerate(raw_members):
        pid, birth = _member(raw, f"members[{i}]", rules)
        if pid in births:
            raise CalcInputError(f"members[{i}].id", f"id が重複しています: {pid!r}")
        births[pid] = birth
    groups = {member_group(birth, rules) for birth in births.values()}
    category = _category(document, UNDER70, UNDER70 in groups, rules)
    category_70 = _category(document, ELDERLY, ELDERLY in groups, rules)
    costs = _costs(document, births)
    members = tuple(
        MemberYear(pid, birth, medical=costs[pid][0], care=costs[pid][1])
        for pid, birth in births.items()
    )
    household = HouseholdYear(
        year=year, category=category, category_70=category_70, members=members
    )
    return household, rules


__all__ = ["CalcInputError", "calc_input_parse"]
