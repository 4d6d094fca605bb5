"""計算明細: the engine's step rows as lines a staff member can follow, and the calc JSON.

Only wording happens here; every number comes from the engine's output tables.
"""

import datetime as dt
from typing import Any

from kokuho.benefits.kogaku.household import Outcome, Step
from kokuho.benefits.kogaku.rules import ELDERLY, Band
from kokuho.core.wareki import format_wareki

SETTING = {"inpatient": "入院", "outpatient": "外来"}
BRANCH = {"medical": "医科", "dental": "歯科"}


def _yen(amount: int) -> str:
    return f"{amount:,}円"


def _limit_text(band: Band, step: Step, ratio: float, rate_percent: str) -> str:
    """How the limit was reached: 多数回, a flat amount, or the 1% formula written out."""
    if step.many_applied:
        return f"{_yen(step.limit)}（{band.label}・多数回）"
    if band.threshold is None or step.cost is None:
        return f"{_yen(step.limit)}（{band.label}）"
    base, threshold = int(band.base * ratio), int(band.threshold * ratio)
    return (
        f"{_yen(step.limit)}（{band.label}: {base:,} + ({step.cost:,} − {threshold:,})"
        f" × {rate_percent} = {step.limit:,}）"
    )


def _paid_month(month: dt.date, carried: dict[dt.date, str]) -> str:
    """A 多数回 month as the 計算明細 lists it; one paid by the former city of the prefecture
    names its 保険者番号 (高額該当の引継ぎ)."""
    if month in carried:
        return f"{month:%Y-%m}（前住所地 保険者番号 {carried[month]}）"
    return f"{month:%Y-%m}"


def outcome_steps(outcome: Outcome) -> list[str]:
    rules = outcome.rules
    household = outcome.household
    rate = f"{float(rules.formula_rate * 100):g}%"
    half = float(rules.birthday_75_ratio)
    by_id = {m.id: m for m in household.members}
    lines = [
        f"診療月 {outcome.month:%Y-%m}（{format_wareki(outcome.month).rsplit('月', 1)[0]}月）"
        + ("【試算: 未確定の値を含む】" if rules.provisional else "")
    ]
    for m in household.members:
        age = "70〜74歳" if m.group == ELDERLY else "70歳未満"
        notes = []
        if m.halved and not m.special_75_dependent:
            notes.append(f"75歳到達月のため限度額は{half:g}倍")
        if m.special_75_dependent:
            notes.append(f"被扶養者の75歳到達月の特例のため限度額・合算の下限は{half:g}倍")
        lines.append(
            f"{m.id}: {m.birth:%Y-%m-%d}生・{age}・区分 {m.band.label}"
            + (f"（{'、'.join(notes)}）" if notes else "")
        )
    for u in outcome.units:
        member = by_id[u.person]
        head = (
            f"{u.person} {u.provider} {SETTING[u.setting]} {BRANCH[u.branch]}: "
            f"一部負担金 {_yen(u.copay)}・医療費 {_yen(u.cost)}"
        )
        extra = []
        if u.claims > 1:
            extra.append(f"レセプト {u.claims} 件を合わせる（調剤は処方元に合算）")
        if u.specific_disease:
            extra.append("特定疾病: 医療機関の限度額までの額")
        if u.limit_applied:
            extra.append("医療機関で限度額適用済み")
        if member.group == ELDERLY:
            verdict = "70〜74歳はすべて合算"
        else:
            floor = rules.aggregation_threshold
            if member.special_75_dependent:
                floor = int(floor * half)
            verdict = (
                f"{floor:,}円以上のため合算" if u.counted else f"{floor:,}円未満のため合算しない"
            )
        lines.append(head + (f"（{'、'.join(extra)}）" if extra else "") + f" → {verdict}")
    window = rules.many_window_months - 1
    if outcome.counted_prior:
        months = "、".join(_paid_month(m, outcome.carried) for m in outcome.counted_prior)
        lines.append(
            f"多数回: 直前{window}か月の支給月 {len(outcome.counted_prior)} 回（{months}）→ "
            + ("該当" if len(outcome.counted_prior) >= rules.many_min_prior_months else "非該当")
        )
    else:
        lines.append(f"多数回: 直前{window}か月の支給月なし → 非該当")
    eld_band = next((m.band for m in household.members if m.group == ELDERLY), None)
    u70_band = next((m.band for m in household.members if m.group != ELDERLY), None)
    for step in outcome.steps:
        result = f" → 支給 {_yen(step.benefit)}"
        if step.step == "1":
            lines.append(
                f"手順1 {step.person} 外来（個人）: {_yen(step.entering)} − 限度額 "
                f"{_yen(step.limit)}{result}"
            )
        elif step.step == "1a":
            lines.append(
                f"手順1 {step.person} 外来の年間上限: 年度内の負担済み {_yen(step.cost or 0)}、"
                f"残り {_yen(max(step.limit, 0))} に対し今月 {_yen(step.entering)}{result}"
            )
        elif step.step == "5":
            band = by_id[step.person].band if step.person else None
            limit = _limit_text(band, step, half, rate) if band else _yen(step.limit)
            lines.append(
                f"手順5 {step.person} 75歳到達月の特例（本人分のみ先に計算）: "
                f"{_yen(step.entering)} − 限度額 {limit}{result}"
            )
        elif step.step == "2" and eld_band:
            lines.append(
                f"手順2 70〜74歳の世帯合算: {_yen(step.entering)} − 限度額 "
                f"{_limit_text(eld_band, step, 1, rate)}{result}"
            )
        elif step.step == "3" and u70_band:
            lines.append(
                f"手順3 世帯全体の合算: {_yen(step.entering)} − 限度額 "
                f"{_limit_text(u70_band, step, 1, rate)}{result}"
            )
        shares = outcome.shares.get(step.step)
        if shares and step.benefit and len(shares) > 1:
            parts = "、".join(f"{p} {_yen(a)} → {_yen(s)}" for p, a, s in shares)
            lines.append(f"按分（手順{step.step}）: {parts}（円未満切捨て、端数は最も多い人）")
    if rules.annual_cap is not None and rules.annual_cap.unit not in ("person", "household"):
        lines.append("年間上限: 計算の単位（個人・世帯）が未確定のため適用していません")
    lines.append(f"支給額 {_yen(outcome.benefit)}")
    return lines


def outcome_json(outcome: Outcome) -> dict[str, Any]:
    data: dict[str, Any] = {
        "month": f"{outcome.month:%Y-%m}",
        "benefit": outcome.benefit,
        "many_times": outcome.many_times,
        "household_limit": outcome.household_limit,
        "persons": {
            pid: {"counted_copay": counted, "benefit": benefit}
            for pid, (counted, benefit) in outcome.persons.items()
        },
        "steps": outcome_steps(outcome),
        "provisional": outcome.rules.provisional,
        "parameters": [
            {
                "name": u.name,
                "from": u.start.isoformat(),
                "status": u.status,
                "reference": u.reference,
            }
            for u in outcome.rules.used
        ],
    }
    return data
