"""The 減免 rule: a pure function from an application's facts to a decision's outcome.

The 2010 通知 (保発0913第2号) as the city's 要綱 adopts it, every number a dated parameter
of the period's first day:

- standard = the 生活保護基準額 for the household's size (`reduction.welfare_standard`);
- ratio = the household's actual monthly income ÷ standard;
- 免除 / 減額 need savings ≤ `savings_months` × standard; then 免除 when the income is at
  most `exemption_ratio` × standard, 減額 at the rate of the first band of
  `reduction.reduction_table` it falls in, up to `reduction_ratio` × standard; else 不承認;
- 徴収猶予 (when asked for) when the income is at most `reduction_ratio` × standard, for
  no more than `max_deferral_months` in all, extensions counted;
- every decision covers whole months, at most `max_months_per_decision`.

Comparisons are exact (the income against ratio × standard in Decimal), so a household
exactly at 1.0 or 1.15 times the standard is inside the band.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from kokuho.benefits.lifecycle.rules import FactError, Params
from kokuho.rules.params import ParameterError, parameters

REASONS = {
    "disaster": "震災・風水害・火災その他の災害",
    "business": "事業の休止・廃止",
    "unemployment": "失業",
    "crop": "干ばつ・冷害等による農作物の不作・不漁",
    "other": "その他これらに類する事由",
}
KINDS = {"reduction": "減額", "exemption": "免除", "deferral": "徴収猶予"}


class ReductionParams(Params):
    """`Params` that may also read the city's provisional table, recording its status and
    source with the value (the welfare standard is a simplification awaiting the 告示)."""

    def get(self, name: str, *, provisional_ok: bool = False) -> Any:
        if not provisional_ok:
            return super().get(name)
        parameter = parameters().get(name)
        entry = parameter.entry_at(self.day)
        if not any(u["name"] == name for u in self.used):
            self.used.append(
                {
                    "name": name,
                    "since": entry.start.isoformat(),
                    "value": entry.value,
                    "reference": entry.reference,
                    "status": entry.status,
                    "source": entry.source,
                }
            )
        return entry.value


@dataclass(frozen=True)
class ReductionFacts:
    reason: str
    reason_detail: str
    monthly_income: int
    savings: int
    members: int
    requested_kind: str
    period_start: dt.date  # the first day of a month
    months: int  # asked for
    insured: bool  # the subject insured here on `period_start`
    deferred_months_before: int = 0  # 徴収猶予 months of the decisions this one extends


@dataclass
class ReductionOutcome:
    result: str  # exemption / reduction / deferral / refused
    rate_percent: int = 0
    reason: str = ""
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    months: int = 0
    steps: list[str] = field(default_factory=list)
    parameters: list[dict[str, Any]] = field(default_factory=list)


def month_add(month: dt.date, months: int) -> dt.date:
    """The first day of the month `months` after `month` (a first day)."""
    index = month.year * 12 + month.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def month_label(day: dt.date) -> str:
    return f"{day.year}年{day.month}月"


def welfare_standard(table: dict[str, int], members: int) -> int:
    """The month's standard of a household of `members`: the table up to 6, then the
    per-member addition."""
    largest = max(int(key) for key in table if key.isdigit())
    if members <= largest:
        return int(table[str(members)])
    return int(table[str(largest)]) + (members - largest) * int(table["additional"])


def reduction_rate(table: dict[str, int], ratio: Decimal) -> int | None:
    """The 減額 rate of the first band (by its upper ratio, ascending) holding `ratio`."""
    for bound, percent in sorted(table.items(), key=lambda item: Decimal(item[0])):
        if ratio <= Decimal(bound):
            return int(percent)
    return None


def _yen(amount: int | Decimal) -> str:
    return f"{int(amount):,}円"


def decide(facts: ReductionFacts) -> ReductionOutcome:
    """The outcome of one application (or extension) for its period; see the docstring."""
    if facts.reason not in REASONS:
        raise FactError(
            "reason", f"申請の事由が法第44条の特別の理由にあたりません: {facts.reason!r}"
        )
    if facts.reason == "other" and not facts.reason_detail.strip():
        raise FactError("reason_detail", "「その他」の事由は内容を入力してください")
    if facts.requested_kind not in KINDS:
        raise FactError("requested_kind", f"申請の種類が不明です: {facts.requested_kind!r}")
    if facts.members < 1 or facts.months < 1 or facts.period_start.day != 1:
        raise FactError("period_start", "世帯の人数・月数は1以上、期間は月の初日からです")
    start = facts.period_start
    params = ReductionParams(start)
    steps = [
        f"申請の事由: {REASONS[facts.reason]}"
        + (f"（{facts.reason_detail.strip()}）" if facts.reason_detail.strip() else ""),
        f"申請の種類: {KINDS[facts.requested_kind]}、{month_label(start)}から{facts.months}か月",
    ]

    def refused(reason: str) -> ReductionOutcome:
        return ReductionOutcome(
            "refused", reason=reason, steps=[*steps, f"不承認: {reason}"], parameters=params.used
        )

    if not facts.insured:
        return refused(f"{start} に当市の国民健康保険の被保険者ではありません")
    criteria = params.get("reduction.criteria")
    try:
        table = params.get("reduction.welfare_standard", provisional_ok=True)
    except ParameterError:
        raise FactError("period_start", f"{start} の生活保護基準額の表がありません") from None
    standard = welfare_standard(table, facts.members)
    ratio = Decimal(facts.monthly_income) / Decimal(standard)
    steps.append(
        f"生活保護基準額（{facts.members}人世帯、{month_label(start)}）{_yen(standard)}"
        + ("（市の簡易表・暫定値）" if params.used[-1].get("status") == "provisional" else "")
    )
    steps.append(
        f"世帯の実収月額 {_yen(facts.monthly_income)} ÷ 基準額 {_yen(standard)} = "
        f"{ratio.quantize(Decimal('0.0001'))}（基準額の{ratio * 100:.2f}%）"
    )
    upper = Decimal(str(criteria["reduction_ratio"])) * standard
    if facts.requested_kind == "deferral":
        return _deferral(facts, criteria, upper, steps, params, refused)
    savings_cap = int(criteria["savings_months"]) * standard
    steps.append(
        f"預貯金 {_yen(facts.savings)}（上限は基準額の{criteria['savings_months']}か月分 "
        f"{_yen(savings_cap)}）"
    )
    if facts.savings > savings_cap:
        return refused(
            f"世帯の預貯金 {_yen(facts.savings)} が生活保護基準額の"
            f"{criteria['savings_months']}か月分 {_yen(savings_cap)} を超えています"
        )
    exemption_at = Decimal(str(criteria["exemption_ratio"])) * standard
    if facts.monthly_income <= exemption_at:
        steps.append(
            f"実収月額が基準額の{criteria['exemption_ratio']}倍（{_yen(exemption_at)}）以下のため免除"
        )
        return _approved(facts, "exemption", 100, criteria, steps, params)
    if facts.monthly_income <= upper:
        bands = params.get("reduction.reduction_table")
        rate = reduction_rate(bands, ratio)
        if rate is None:
            raise ParameterError(f"reduction.reduction_table に比率 {ratio:.4f} の区分がありません")
        steps.append(
            f"実収月額が基準額の{criteria['reduction_ratio']}倍（{_yen(upper)}）以下のため減額、"
            f"市の区分表により{rate}%（{rate // 10}割）減額"
        )
        return _approved(facts, "reduction", rate, criteria, steps, params)
    return refused(
        f"世帯の実収月額 {_yen(facts.monthly_income)} が生活保護基準額の"
        f"{criteria['reduction_ratio']}倍 {_yen(upper)} を超えています"
    )


def _deferral(
    facts: ReductionFacts,
    criteria: dict[str, Any],
    upper: Decimal,
    steps: list[str],
    params: ReductionParams,
    refused: Callable[[str], ReductionOutcome],
) -> ReductionOutcome:
    if facts.monthly_income > upper:
        return refused(
            f"世帯の実収月額 {_yen(facts.monthly_income)} が生活保護基準額の"
            f"{criteria['reduction_ratio']}倍 {_yen(upper)} を超えています"
        )
    cap = int(criteria["max_deferral_months"])
    left = cap - facts.deferred_months_before
    if left <= 0:
        return refused(
            f"徴収猶予の期間は通算{cap}か月までです（これまでに{facts.deferred_months_before}か月）"
        )
    steps.append(
        f"実収月額が基準額の{criteria['reduction_ratio']}倍（{_yen(upper)}）以下のため徴収猶予"
        f"（通算{cap}か月まで、これまでに{facts.deferred_months_before}か月）"
    )
    return _approved(facts, "deferral", 0, criteria, steps, params, limit=left)


def _approved(
    facts: ReductionFacts,
    result: str,
    rate: int,
    criteria: dict[str, Any],
    steps: list[str],
    params: ReductionParams,
    *,
    limit: int | None = None,
) -> ReductionOutcome:
    cap = int(criteria["max_months_per_decision"])
    months = min(facts.months, cap, limit if limit is not None else cap)
    if months < facts.months:
        steps.append(
            f"期間は1回の決定で{cap}か月まで"
            + (f"（徴収猶予は残り{limit}か月）" if limit is not None and limit < cap else "")
            + f"のため、申請の{facts.months}か月のうち{months}か月"
        )
    end = month_add(facts.period_start, months) - dt.timedelta(days=1)
    steps.append(f"期間 {facts.period_start} から {end} まで（{months}か月）")
    return ReductionOutcome(
        result,
        rate_percent=rate,
        period_start=facts.period_start,
        period_end=end,
        months=months,
        steps=steps,
        parameters=params.used,
    )
