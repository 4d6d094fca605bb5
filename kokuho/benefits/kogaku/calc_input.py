"""The `kokuho kogaku calc` input (scenarios.md §2), checked field by field.

Every refusal names the place in the document (`members[1].category`) and the reason, in
Japanese, so that a one-line error tells the author what to fix.
"""

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from kokuho.benefits.kogaku.household import KINDS, SETTINGS, ClaimIn, HouseholdIn, MemberIn
from kokuho.benefits.kogaku.rules import ELDERLY, UNDER70, MonthRules, month_rules
from kokuho.eligibility.burden import is_elderly_on
from kokuho.eligibility.derivation import anniversary
from kokuho.rules.params import parameters

PROVIDER = re.compile(r"^\d{10}$")
MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class CalcInputError(ValueError):
    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


def _month(value: Any, path: str) -> dt.date:
    if isinstance(value, dt.date):
        return value.replace(day=1)
    match = MONTH.match(str(value)) if value is not None else None
    if not match or not 1 <= int(match[2]) <= 12:
        raise CalcInputError(path, f"診療月は YYYY-MM で書きます: {value!r}")
    return dt.date(int(match[1]), int(match[2]), 1)


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
        raise CalcInputError(path, f"0 以上の整数で書きます: {value!r}")
    return value


def _flag(value: Any, path: str) -> bool:
    if value in (None, False, 0):
        return False
    if value in (True, 1):
        return True
    raise CalcInputError(path, f"true か false で書きます: {value!r}")


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


def _member(raw: Any, path: str, month: dt.date, rules: MonthRules) -> MemberIn:
    raw = _mapping(raw, path)
    if not raw.get("id"):
        raise CalcInputError(f"{path}.id", "被保険者の id がありません")
    birth = _date(raw.get("birth"), f"{path}.birth")
    late = parameters().at(month).eligibility.late_elderly_age
    turns = anniversary(birth, late)
    if turns <= month:
        raise CalcInputError(
            f"{path}.birth",
            f"{month:%Y-%m} には {late}歳に達して後期高齢者医療の被保険者です（{birth}生）",
        )
    if birth > month.replace(day=28) + dt.timedelta(days=4):
        raise CalcInputError(f"{path}.birth", f"診療月より後の生年月日です: {birth}")
    group = ELDERLY if is_elderly_on(birth, month) else UNDER70
    label = raw.get("category")
    if not rules.labels(group):
        first = parameters().get("kogaku.elderly_limits").values[0].start
        raise CalcInputError(
            f"{path}.birth",
            f"{month:%Y-%m} の70〜74歳の限度額は登録されていません（{first:%Y-%m} から）",
        )
    band = rules.band_for_label(group, str(label)) if label is not None else None
    if band is None:
        age = "70〜74歳" if group == ELDERLY else "70歳未満"
        raise CalcInputError(
            f"{path}.category",
            f"{month:%Y-%m} の{age}の所得区分は {'・'.join(rules.labels(group))} のいずれかです:"
            f" {label!r}",
        )
    halved = turns.year == month.year and turns.month == month.month and turns.day != 1
    ytd = raw.get("outpatient_year_to_date")
    return MemberIn(
        id=str(raw["id"]),
        birth=birth,
        group=group,
        band=band,
        halved=halved or _flag(raw.get("special_75_dependent"), f"{path}.special_75_dependent"),
        special_75_dependent=_flag(raw.get("special_75_dependent"), f"{path}.special_75_dependent"),
        outpatient_year_to_date=None
        if ytd is None
        else _amount(ytd, f"{path}.outpatient_year_to_date"),
    )


def _claim(raw: Any, path: str, ids: set[str]) -> ClaimIn:
    raw = _mapping(raw, path)
    person = str(raw.get("person", ""))
    if person not in ids:
        raise CalcInputError(f"{path}.person", f"members にない被保険者です: {person!r}")
    provider = str(raw.get("provider", ""))
    if not PROVIDER.match(provider):
        raise CalcInputError(f"{path}.provider", f"医療機関コードは10桁の数字です: {provider!r}")
    setting = raw.get("setting")
    if setting not in SETTINGS:
        raise CalcInputError(
            f"{path}.setting", f"inpatient（入院）か outpatient（入院外）です: {setting!r}"
        )
    kind = raw.get("kind")
    if kind not in KINDS:
        raise CalcInputError(
            f"{path}.kind",
            f"medical（医科）・dental（歯科）・pharmacy（調剤）・visiting_nurse（訪問看護）の"
            f"いずれかです: {kind!r}",
        )
    prescribed_by = str(raw.get("prescribed_by") or "")
    if kind == "pharmacy" and not PROVIDER.match(prescribed_by):
        raise CalcInputError(
            f"{path}.prescribed_by",
            f"調剤には処方元の医療機関コード（10桁）が要ります: {prescribed_by!r}",
        )
    if kind != "pharmacy" and prescribed_by:
        raise CalcInputError(f"{path}.prescribed_by", "処方元は調剤のレセプトにだけ書きます")
    points = _amount(raw.get("points"), f"{path}.points")
    copay = _amount(raw.get("copay"), f"{path}.copay")
    if copay > points * 10:
        raise CalcInputError(
            f"{path}.copay", f"一部負担金 {copay:,}円 が医療費 {points * 10:,}円 を超えています"
        )
    return ClaimIn(
        person=person,
        provider=provider,
        setting=str(setting),
        kind=str(kind),
        points=points,
        copay=copay,
        prescribed_by=prescribed_by,
        specific_disease=_flag(raw.get("specific_disease"), f"{path}.specific_disease"),
        limit_applied=_flag(raw.get("limit_applied"), f"{path}.limit_applied"),
    )


def _same_band(members: list[MemberIn], group: str) -> None:
    bands = {m.band.key for m in members if m.group == group}
    if len(bands) > 1:
        age = "70〜74歳" if group == ELDERLY else "70歳未満"
        listed = "、".join(f"{m.id}: {m.band.label}" for m in members if m.group == group)
        raise CalcInputError(
            "members", f"所得区分は世帯で決まるため、{age}の被保険者で同じはずです（{listed}）"
        )


def calc_input_parse(document: Any, *, provisional: bool = False) -> HouseholdIn:
    """The document as a `HouseholdIn`; refuses bad input and unconfirmed months."""
    document = _mapping(document, "(文書)")
    month = _month(document.get("month"), "month")
    rules = month_rules(month, provisional=provisional)
    raw_members = _list(document.get("members"), "members")
    if not raw_members:
        raise CalcInputError("members", "被保険者が1人もいません")
    members = [_member(m, f"members[{i}]", month, rules) for i, m in enumerate(raw_members)]
    seen: set[str] = set()
    for i, member in enumerate(members):
        if member.id in seen:
            raise CalcInputError(f"members[{i}].id", f"id が重複しています: {member.id!r}")
        seen.add(member.id)
    _same_band(members, UNDER70)
    _same_band(members, ELDERLY)
    claims = [
        _claim(c, f"claims[{i}]", seen)
        for i, c in enumerate(_list(document.get("claims"), "claims"))
    ]
    prior = []
    for i, value in enumerate(
        _list(document.get("prior_high_cost_months"), "prior_high_cost_months")
    ):
        paid = _month(value, f"prior_high_cost_months[{i}]")
        if paid >= month:
            raise CalcInputError(
                f"prior_high_cost_months[{i}]", f"診療月 {month:%Y-%m} より前の月です: {value}"
            )
        prior.append(paid)
    return HouseholdIn(
        month=month, members=tuple(members), claims=tuple(claims), prior_months=tuple(prior)
    )


__all__ = ["CalcInputError", "calc_input_parse", "month_rules"]
