"""The 高額療養費 rules of one 診療月, read from the dated parameter files.

A month is computed with the values in force on its first day (benefits.md §3). A value
still marked provisional refuses the month (`MonthUnconfirmed`) unless a 試算 is asked for:
the answer is never computed with the previous period's values.
"""

import datetime as dt
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kokuho.rules.params import Parameter, ParameterError, parameters

UNDER70 = "under70"
ELDERLY = "elderly"

# Parameter names the engine reads, with what a refusal says about each.
LIMIT_PARAMETERS = {
    "kogaku.under70_limits": "70歳未満の月額上限",
    "kogaku.elderly_limits": "70〜74歳の外来・世帯上限",
    "kogaku.aggregation_threshold": "合算対象の下限（21,000円）",
    "kogaku.formula_rate": "1%加算の率",
    "kogaku.specific_disease": "特定疾病の限度額",
    "kogaku.birthday_75_ratio": "75歳到達月の特例",
    "kogaku.many_times": "多数回該当の回数",
}
ANNUAL_CAP = "kogaku.annual_cap"


class MonthUnconfirmed(ParameterError):
    """The month needs a value that is not confirmed from the official text."""


@dataclass(frozen=True)
class Band:
    """所得区分 one limit row: `key` in the files, `label` as staff and inputs say it."""

    group: str  # UNDER70 | ELDERLY
    key: str
    label: str
    base: int
    threshold: int | None
    many: int | None  # 多数回該当
    outpatient: int | None = None  # 70–74 外来（個人）
    outpatient_annual: int | None = None  # 70–74 外来年間上限（8月〜7月）
    dialysis_upper: bool = False  # 特定疾病: 人工透析の上位所得者の限度額


@dataclass(frozen=True)
class AnnualCap:
    """年間上限 (from the 2026-08 revision): per band amounts and the unit they apply to."""

    unit: str  # person | household | unconfirmed
    start_month: int
    under70: dict[str, int]
    elderly: dict[str, int]


@dataclass(frozen=True)
class UsedValue:
    """Which dated value was applied, for the explanation and the stored result."""

    name: str
    start: dt.date
    status: str
    reference: str


@dataclass(frozen=True)
class MonthRules:
    month: dt.date
    provisional: bool  # computed on at least one provisional value (試算)
    bands: dict[tuple[str, str], Band]  # (group, key) → band
    aggregation_threshold: int
    formula_rate: Decimal
    specific_disease: int
    specific_disease_dialysis_upper: int
    birthday_75_ratio: Decimal
    many_window_months: int
    many_min_prior_months: int
    annual_cap: AnnualCap | None
    used: tuple[UsedValue, ...]
    unconfirmed: tuple[str, ...]  # parameter names whose value is provisional

    def band(self, group: str, key: str) -> Band:
        return self.bands[(group, key)]

    def band_for_label(self, group: str, label: str) -> Band | None:
        wanted = _label_key(label)
        for (g, _), band in self.bands.items():
            if g == group and _label_key(band.label) == wanted:
                return band
        return None

    def labels(self, group: str) -> list[str]:
        return [b.label for (g, _), b in self.bands.items() if g == group]


_ROMAN = str.maketrans({"1": "I", "2": "II", "3": "III"})


def _label_key(label: str) -> str:
    """現役並みⅢ, 現役並みIII and 現役並み3 name the same band (NFKC turns Ⅲ into III)."""
    text = unicodedata.normalize("NFKC", str(label)).replace(" ", "").upper()
    return text.translate(_ROMAN) if text[-1:].isdigit() and "区分" not in text else text


def _bands(group: str, value: dict[str, Any], dialysis: dict[str, Any]) -> dict:
    bands = {}
    for key, row in value.items():
        bands[(group, key)] = Band(
            group=group,
            key=key,
            label=str(row["label"]),
            base=int(row["base"]),
            threshold=_int_or_none(row.get("threshold")),
            many=_int_or_none(row.get("many")),
            outpatient=_int_or_none(row.get("outpatient")),
            outpatient_annual=_int_or_none(row.get("outpatient_annual")),
            dialysis_upper=group == UNDER70 and key in dialysis,
        )
    return bands


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def month_rules(month: dt.date, *, provisional: bool = False) -> MonthRules:
    """The rules in force for the 診療月 `month` (any day of it; its 1st is used).

    Raises `MonthUnconfirmed` naming every provisional value, unless `provisional` (試算).
    """
    day = month.replace(day=1)
    params = parameters()
    used: list[UsedValue] = []
    unconfirmed: list[str] = []

    def value(name: str) -> Any:
        parameter: Parameter = params.get(name)
        entry = parameter.entry_at(day)
        used.append(UsedValue(name, entry.start, entry.status, entry.reference))
        if not entry.confirmed:
            unconfirmed.append(name)
        return entry.value

    under70 = value("kogaku.under70_limits")
    # 70–74 limits are kept from 2017-08 (benefits.md §3): an earlier month can still be
    # computed for a household without 70–74 members.
    elderly_start = params.get("kogaku.elderly_limits").values[0].start
    elderly = value("kogaku.elderly_limits") if elderly_start <= day else {}
    threshold = value("kogaku.aggregation_threshold")
    rate = value("kogaku.formula_rate")
    disease = value("kogaku.specific_disease")
    ratio = value("kogaku.birthday_75_ratio")
    many = value("kogaku.many_times")
    annual = None
    cap = params.get(ANNUAL_CAP)
    if cap.values[0].start <= day:
        raw = value(ANNUAL_CAP)
        annual = AnnualCap(
            unit=str(raw["unit"]),
            start_month=int(raw["period_start_month"]),
            under70={k: int(v) for k, v in raw["under70"].items()},
            elderly={k: int(v) for k, v in raw["elderly"].items()},
        )
    if unconfirmed and not provisional:
        raise MonthUnconfirmed(unconfirmed_message(day, unconfirmed))
    dialysis = disease.get("dialysis_upper_bands", {})
    return MonthRules(
        month=day,
        provisional=bool(unconfirmed),
        bands={**_bands(UNDER70, under70, dialysis), **_bands(ELDERLY, elderly, dialysis)},
        aggregation_threshold=int(threshold),
        formula_rate=Decimal(str(rate)),
        specific_disease=int(disease["standard"]),
        specific_disease_dialysis_upper=int(disease["dialysis_upper"]),
        birthday_75_ratio=Decimal(str(ratio)),
        many_window_months=int(many["window_months"]),
        many_min_prior_months=int(many["min_prior_months"]),
        annual_cap=annual,
        used=tuple(used),
        unconfirmed=tuple(unconfirmed),
    )


def unconfirmed_message(day: dt.date, names: list[str]) -> str:
    what = "、".join(f"{LIMIT_PARAMETERS.get(n, '年間上限')} ({n})" for n in names)
    return (
        f"{day:%Y-%m} 以降の限度額が未確定: {what} は provisional です。"
        "確定値が入るまで計算しません（試算は --provisional）"
    )
