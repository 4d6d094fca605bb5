"""The benefits' rules: pure functions from an application's facts to a decision's outcome.

Each rule reads its amounts from the dated parameters of the day the law ties them to (the
birth, the funeral, the day of treatment) through `Params`, which records every value it
used with its reference, so the decision keeps what it rested on. 時効 (法110条) is checked
first, from the day after the benefit's own event (payments.md §1).

A fact that is missing or malformed raises `FactError` naming the field, in Japanese.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kokuho.core.dates import months_later
from kokuho.rules.params import parameters

DAY = dt.timedelta(days=1)


class FactError(ValueError):
    """A fact of the application that the rule cannot use."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name


class Params:
    """Confirmed parameter values of one day, each use recorded with its reference."""

    def __init__(self, day: dt.date) -> None:
        self.day = day
        self.used: list[dict[str, Any]] = []

    def get(self, name: str) -> Any:
        parameter = parameters().get(name)
        value = parameter.confirmed_at(self.day)
        entry = parameter.entry_at(self.day)
        if not any(u["name"] == name for u in self.used):
            self.used.append(
                {
                    "name": name,
                    "since": entry.start.isoformat(),
                    "value": value,
                    "reference": entry.reference,
                }
            )
        return value


@dataclass(frozen=True)
class Context:
    """What a rule may know: the application's facts and what the system knows."""

    event_date: dt.date
    received_on: dt.date
    facts: dict[str, Any]
    insured_on: Callable[[dt.date], bool]  # was the subject insured here on that day?
    copay_percent: Callable[[dt.date], int]  # 負担割合 of the subject on that day
    decided_on: dt.date | None = None  # the decision's date (海外療養費's exchange rate)


@dataclass
class RuleOutcome:
    outcome: str  # paid / partial / refused
    amount: int
    reason: str = ""
    institution_amount: int = 0
    steps: list[str] = field(default_factory=list)
    parameters: list[dict[str, Any]] = field(default_factory=list)
    # 療養費: the 一部負担金相当額 the household bore, which counts toward the 高額療養費 of the
    # 診療月 like a claim's co-payment (payments.md §2).
    counted_copay: int = 0


def _date(facts: dict[str, Any], name: str, *, required: bool = True) -> dt.date | None:
    value = facts.get(name)
    if value in (None, ""):
        if required:
            raise FactError(name, "日付を入力してください")
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise FactError(name, f"日付（YYYY-MM-DD）ではありません: {value!r}") from None


def _int(facts: dict[str, Any], name: str, *, default: int | None = None, low: int = 0) -> int:
    value = facts.get(name, default)
    if value is None or value == "":
        raise FactError(name, "数値を入力してください")
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise FactError(name, f"整数ではありません: {value!r}")
    try:
        number = int(value)
    except ValueError:
        raise FactError(name, f"整数ではありません: {value!r}") from None
    if number < low:
        raise FactError(name, f"{low} 以上の数です: {number}")
    return number


def _bool(facts: dict[str, Any], name: str, default: bool = False) -> bool:
    value = facts.get(name, default)
    if not isinstance(value, bool):
        raise FactError(name, f"はい・いいえ（true / false）で指定します: {value!r}")
    return value


def limitation_refusal(*, start: dt.date, received_on: dt.date, params: Params) -> str:
    """'' when the application is in time; else the 時効 reason. `start` is the first day
    of the period (the day after the event): the right is gone from `start` + 2 years."""
    years = params.get("benefits.claim_limitation")
    # 民法143条: the same day `years` later; without one (2/29), the month's last day.
    expiry = months_later(start, 12 * years)
    if received_on >= expiry:
        return (
            f"時効により権利が消滅しています（起算日 {start}、{years}年を経過した "
            f"{expiry} 以降の申請）"
        )
    return ""


def _standing_refusal(ctx: Context, params: Params, *, insured_day: dt.date, day: str) -> str:
    """The refusals every benefit shares, in order: 時効 (from the day after the event),
    then not insured here on the day the benefit is tied to ('' when neither)."""
    if reason := limitation_refusal(
        start=ctx.event_date + DAY, received_on=ctx.received_on, params=params
    ):
        return reason
    if not ctx.insured_on(insured_day):
        return f"{day}に当市の国民健康保険の被保険者ではありません"
    return ""


def _refused(reason: str, params: Params, steps: list[str]) -> RuleOutcome:
    return RuleOutcome("refused", 0, reason, steps=[*steps, reason], parameters=params.used)


def funeral(ctx: Context) -> RuleOutcome:
    """葬祭費 (法58条1項, 条例): the ordinance amount to the person who held the funeral,
    unless the former employee insurer pays 埋葬料 (death within 3 months after leaving it
    as an insured person)."""
    death = _date(ctx.facts, "death_date")
    assert death is not None
    if not str(ctx.facts.get("chief_mourner", "")).strip():
        raise FactError("chief_mourner", "喪主（葬祭を行った者）の氏名を入力してください")
    if ctx.event_date < death:
        raise FactError("event_date", "葬祭日が死亡日より前です")
    params = Params(ctx.event_date)
    steps = [f"死亡日 {death}、葬祭日 {ctx.event_date}、喪主 {ctx.facts['chief_mourner']}"]
    if reason := _standing_refusal(ctx, params, insured_day=death, day="死亡日"):
        return _refused(reason, params, steps)
    left = _date(ctx.facts, "left_employee_insurance_on", required=False)
    if left is not None:
        window = params.get("benefits.former_insurer")["burial_within_months"]
        if death <= months_later(left, window) - DAY:
            return _refused(
                f"被用者保険の資格喪失（{left}）後{window}か月以内の死亡のため、"
                "前の保険者から埋葬料が支給されます（国保法56条）",
                params,
                steps,
            )
    amount = params.get("benefits.funeral_expenses")
    steps.append(f"葬祭費 {amount:,}円（条例の額）")
    return RuleOutcome("paid", amount, steps=steps, parameters=params.used)


def childbirth(ctx: Context) -> RuleOutcome:
    """出産育児一時金 (法58条1項): per child, births from 85 days of pregnancy (stillbirths
    included), the lower amount outside the 産科医療補償制度; under 直接支払制度 the
    hospital is paid up to its cost and the household the difference (差額)."""
    gestation = _int(ctx.facts, "gestation_days")
    children = _int(ctx.facts, "children", default=1, low=1)
    covered = _bool(ctx.facts, "compensation_covered", True)
    direct = _bool(ctx.facts, "direct_payment")
    params = Params(ctx.event_date)
    steps = [f"出産日 {ctx.event_date}、妊娠 {gestation}日、{children}児"]
    if reason := _standing_refusal(ctx, params, insured_day=ctx.event_date, day="出産日"):
        return _refused(reason, params, steps)
    minimum = params.get("benefits.childbirth_min_gestation_days")
    if gestation < minimum:
        return _refused(f"妊娠{minimum}日未満の出産は対象になりません", params, steps)
    left = _date(ctx.facts, "former_insurer_left_on", required=False)
    if left is not None and _bool(ctx.facts, "former_insurer_claimed"):
        rule = params.get("benefits.former_insurer")
        years = _int(ctx.facts, "former_insurer_years", default=0)
        months = rule["childbirth_within_months"]
        if years >= rule["min_insured_years"] and ctx.event_date < months_later(left, months):
            return _refused(
                f"被用者保険の資格喪失（{left}）後{months}か月以内の出産で、"
                "前の保険者に請求されたため支給しません（国保法56条）",
                params,
                steps,
            )
    rates = params.get("benefits.childbirth_lump_sum")
    per_child = rates["covered" if covered else "not_covered"]
    amount = per_child * children
    steps.append(
        f"1児 {per_child:,}円（産科医療補償制度の{'対象' if covered else '対象外'}）"
        f" × {children} = {amount:,}円"
    )
    institution = 0
    if direct:
        cost = _int(ctx.facts, "delivery_cost")
        institution = min(cost, amount)
        steps.append(
            f"直接支払制度: 出産費用 {cost:,}円のうち {institution:,}円を医療機関等へ"
            f"（国保連経由）、差額 {amount - institution:,}円を世帯へ"
        )
    return RuleOutcome(
        "paid", amount, institution_amount=institution, steps=steps, parameters=params.used
    )


def medical_expenses(ctx: Context) -> RuleOutcome:
    """療養費 (法54条; 立替払い and 治療用装具): the lesser of the fee-schedule cost and what
    was paid (and of the 告示 ceiling for a device), less the co-payment of the day of
    treatment rounded to 10 yen. `event_date` is the day the patient paid."""
    treated = _date(ctx.facts, "service_date")
    assert treated is not None
    cost = _int(ctx.facts, "fee_schedule_cost", low=1)
    paid = _int(ctx.facts, "paid_amount", low=1)
    ceiling = ctx.facts.get("device_ceiling")
    params = Params(treated)
    steps = [f"受診・装着日 {treated}、支払日 {ctx.event_date}"]
    if reason := _standing_refusal(ctx, params, insured_day=treated, day="受診日"):
        return _refused(reason, params, steps)
    base = min(cost, paid)
    reasons = []
    if paid > cost:
        reasons.append(f"支払額 {paid:,}円のうち保険診療の費用額 {cost:,}円を超える部分は対象外")
    if ceiling not in (None, ""):
        limit = _int(ctx.facts, "device_ceiling", low=1)
        if base > limit:
            reasons.append(f"治療用装具の上限額 {limit:,}円を超える部分は対象外")
            base = limit
    percent = ctx.copay_percent(treated)
    copay, amount = reimbursed(base, percent, params)
    steps.append(
        f"対象額 {base:,}円 − 一部負担金相当額 {copay:,}円（{percent}%、10円未満四捨五入）"
        f" = {amount:,}円"
    )
    if amount <= 0:
        return _refused("一部負担金相当額を超える支給額がありません", params, steps)
    return RuleOutcome(
        "partial" if reasons else "paid",
        amount,
        reason="、".join(reasons),
        steps=steps + reasons,
        parameters=params.used,
        counted_copay=copay,
    )


def reimbursed(base: int, percent: int, params: Params) -> tuple[int, int]:
    """(一部負担金相当額, 支給額) of a cost: the co-payment rounded to the unit, half up."""
    unit = params.get("copay.rounding_unit")
    copay = (base * percent + 50 * unit) // (100 * unit) * unit
    return copay, base - copay


def overseas(ctx: Context) -> RuleOutcome:
    """海外療養費 (法54条): care abroad, the lesser of the bill converted at the exchange
    rate of the 支給決定日 and the Japanese fee-schedule cost of the same care, less the
    co-payment; never for a trip made to be treated."""
    treated = _date(ctx.facts, "service_date")
    assert treated is not None
    bill = ctx.facts.get("foreign_amount")
    try:
        foreign = float(str(bill))
    except ValueError:
        raise FactError("foreign_amount", f"外貨の金額ではありません: {bill!r}") from None
    if foreign <= 0:
        raise FactError("foreign_amount", "外貨の金額を入力してください")
    currency = str(ctx.facts.get("currency", "")).strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        raise FactError("currency", "通貨は ISO 4217 の3文字（USD など）です")
    rate = ctx.facts.get("exchange_rate")
    rate_date = _date(ctx.facts, "exchange_rate_date")
    try:
        yen_per_unit = float(str(rate))
    except ValueError:
        raise FactError("exchange_rate", f"為替レートではありません: {rate!r}") from None
    if ctx.decided_on is not None and rate_date != ctx.decided_on:
        raise FactError(
            "exchange_rate_date", f"支給決定日（{ctx.decided_on}）の為替レートを入力してください"
        )
    japan = _int(ctx.facts, "japan_cost", low=1)
    params = Params(treated)
    steps = [f"受診日 {treated}（海外）、支払日 {ctx.event_date}"]
    if reason := _standing_refusal(ctx, params, insured_day=treated, day="受診日"):
        return _refused(reason, params, steps)
    if _bool(ctx.facts, "trip_for_treatment"):
        return _refused("治療を目的とした渡航による診療は対象になりません", params, steps)
    converted = int(foreign * yen_per_unit)  # 円未満切り捨て
    steps.append(
        f"外国での支払 {foreign:,.2f} {currency} × {yen_per_unit} 円（{rate_date} の為替"
        f"レート、{ctx.facts.get('exchange_rate_source', '')}）= {converted:,}円"
    )
    base = min(converted, japan)
    reasons = []
    if converted > japan:
        reasons.append(f"日本の保険診療の費用額 {japan:,}円を超える部分は対象外")
    percent = ctx.copay_percent(treated)
    copay, amount = reimbursed(base, percent, params)
    steps.append(f"対象額 {base:,}円 − 一部負担金相当額 {copay:,}円（{percent}%） = {amount:,}円")
    if amount <= 0:
        return _refused("一部負担金相当額を超える支給額がありません", params, steps)
    return RuleOutcome(
        "partial" if reasons else "paid",
        amount,
        reason="、".join(reasons),
        steps=steps + reasons,
        parameters=params.used,
        counted_copay=copay,
    )


def transport(ctx: Context) -> RuleOutcome:
    """移送費 (法54条の4): the cost of the most economical usual route and means, when a
    doctor found the move necessary and the city approved it (beforehand, or afterwards
    for an emergency); nothing of it is a co-payment."""
    actual = _int(ctx.facts, "actual_cost", low=1)
    economical = _int(ctx.facts, "economical_cost", low=1)
    params = Params(ctx.event_date)
    steps = [f"移送日 {ctx.event_date}、実費 {actual:,}円、最も経済的な経路・方法 {economical:,}円"]
    if reason := _standing_refusal(ctx, params, insured_day=ctx.event_date, day="移送日"):
        return _refused(reason, params, steps)
    if not _bool(ctx.facts, "doctor_instruction"):
        return _refused("医師の意見（移送の必要性）がありません", params, steps)
    if not (_bool(ctx.facts, "approved_beforehand") or _bool(ctx.facts, "emergency")):
        return _refused("事前の承認がなく、緊急の移送でもありません", params, steps)
    amount = min(actual, economical)
    reason = "" if actual <= economical else "最も経済的な経路・方法の額を超える部分は対象外"
    steps.append(f"支給額 {amount:,}円（実費と経済的な額の少ない方）")
    return RuleOutcome(
        "partial" if reason else "paid",
        amount,
        reason=reason,
        steps=steps + ([reason] if reason else []),
        parameters=params.used,
    )


def combined(ctx: Context) -> RuleOutcome:
    """高額介護合算療養費 (法57条の3): the medical side's share of the year's excess, as the
    yearly run computed it (`result_*` facts, a snapshot of the stored result); the care
    side's share is the 介護保険's to pay. `event_date` is the 基準日 (7/31)."""
    paid = _bool(ctx.facts, "result_paid")
    share = _int(ctx.facts, "result_medical_share")
    excess = _int(ctx.facts, "result_excess")
    params = Params(ctx.event_date)
    steps = [str(s) for s in ctx.facts.get("result_steps", [])]
    if reason := _standing_refusal(ctx, params, insured_day=ctx.event_date, day="基準日"):
        return _refused(reason, params, steps)
    if not paid or share <= 0:
        return _refused(
            f"世帯の超過額 {excess:,}円が支給の基準（500円を超えること）に達しません",
            params,
            steps,
        )
    steps.append(f"医療保険の負担分 {share:,}円を支給（介護保険の負担分は介護保険から）")
    return RuleOutcome("paid", share, steps=steps, parameters=params.used)


RULES: dict[str, Callable[[Context], RuleOutcome]] = {
    "gassan": combined,
    "kaigai": overseas,
    "isouhi": transport,
    "sosai": funeral,
    "shussan": childbirth,
    "ryoyohi": medical_expenses,
}
