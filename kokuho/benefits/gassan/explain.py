"""計算明細 of 高額介護合算療養費: the engine's outcome as steps a clerk can read aloud, and the
calc JSON. Each step is a dict: `step` (what it is), `text` (the sentence) and the numbers
in it, so that a notice or a screen can lay them out without parsing the text.

Only wording happens here; every number comes from the engine's outcome.
"""

from typing import Any

from kokuho.benefits.gassan.engine import ELDERLY, GROUP_TEXT, GassanOutcome, MemberLine, Step
from kokuho.core.wareki import format_wareki


def _yen(amount: int) -> str:
    return f"{amount:,}円"


def _member_step(line: MemberLine, outcome: GassanOutcome) -> dict[str, Any]:
    rules = outcome.rules
    note = ""
    if line.age >= rules.late_elderly_age:
        # Reached 75 on the 基準日 itself (the day before the birthday), but 後期高齢者医療
        # only starts on the birthday: still a 70–74 member of the NHI household.
        note = "（後期高齢者医療は誕生日から: 基準日は国保の70〜74歳）"
    return {
        "step": "member",
        "person": line.id,
        "birth": line.birth.isoformat(),
        "age": line.age,
        "group": line.group,
        "medical": line.medical,
        "care": line.care,
        "text": (
            f"{line.id}: {line.birth}生・基準日に{line.age}歳・{GROUP_TEXT[line.group]}{note}、"
            f"医療 {_yen(line.medical)}・介護 {_yen(line.care)}"
        ),
    }


def _limit_step(step: Step, number: int, reduced: bool) -> dict[str, Any]:
    if step.name == ELDERLY:
        what = "70〜74歳の被保険者の合算"
    elif reduced:
        what = "世帯全体の合算（70〜74歳の分は手順1の超過額を除いた額）"
    else:
        what = "世帯全体の合算"
    sum_text = f"医療 {_yen(step.medical)} + 介護 {_yen(step.care)} = {_yen(step.entering)}"
    limit = f"算定基準額 {_yen(step.band.limit)}（{step.band.label}）"
    if step.excess:
        text = (
            f"手順{number} {what}: {sum_text} − {limit} = 超過額 {_yen(step.excess)}"
            f"（按分: 医療 {_yen(step.medical_share)}・介護 {_yen(step.care_share)}）"
        )
    else:
        text = f"手順{number} {what}: {sum_text} は{limit}以下 → 超過額なし"
    return {
        "step": step.name,
        "category": step.band.label,
        "medical": step.medical,
        "care": step.care,
        "entering": step.entering,
        "limit": step.band.limit,
        "excess": step.excess,
        "medical_share": step.medical_share,
        "care_share": step.care_share,
        "text": text,
    }


def outcome_explanation(outcome: GassanOutcome) -> list[dict[str, Any]]:
    rules = outcome.rules
    start, day = rules.period_start, rules.reference_day
    steps: list[dict[str, Any]] = [
        {
            "step": "period",
            "from": start.isoformat(),
            "to": day.isoformat(),
            "reference_day": day.isoformat(),
            "text": (
                f"計算期間 {format_wareki(start)}〜{format_wareki(day)}"
                f"（{start}〜{day}）、基準日 {format_wareki(day)}"
            ),
        }
    ]
    steps += [_member_step(line, outcome) for line in outcome.members]
    has_elderly = any(s.name == ELDERLY for s in outcome.steps)
    for number, step in enumerate(outcome.steps, start=1):
        steps.append(_limit_step(step, number, reduced=has_elderly and step.name != ELDERLY))
    minimum = rules.minimum_payment
    parts = " + ".join(_yen(s.excess) for s in outcome.steps)
    total = (
        f"超過額 {parts} = {_yen(outcome.excess)}"
        if len(outcome.steps) > 1
        else (f"超過額 {_yen(outcome.excess)}")
    )
    if outcome.paid:
        decision = (
            f"{total}: {_yen(minimum)}を超えるため支給。医療保険（高額介護合算療養費）"
            f"{_yen(outcome.medical_share)}・介護保険（高額医療合算介護サービス費）"
            f"{_yen(outcome.care_share)}（按分は円未満切捨て、端数は介護）"
        )
    else:
        decision = f"{total}: {_yen(minimum)}以下のため支給しない"
    steps.append(
        {
            "step": "total",
            "excess": outcome.excess,
            "minimum_payment": minimum,
            "paid": outcome.paid,
            "medical_share": outcome.medical_share,
            "care_share": outcome.care_share,
            "text": decision,
        }
    )
    return steps


def outcome_json(outcome: GassanOutcome) -> dict[str, Any]:
    rules = outcome.rules
    return {
        "year": rules.year,
        "period": {"from": rules.period_start.isoformat(), "to": rules.reference_day.isoformat()},
        "reference_day": rules.reference_day.isoformat(),
        "excess_70_74": outcome.excess_70_74,
        "excess": outcome.excess,
        "paid": outcome.paid,
        "medical_share": outcome.medical_share,
        "care_share": outcome.care_share,
        "explanation": outcome_explanation(outcome),
        "parameters": [
            {
                "name": u.name,
                "from": u.start.isoformat(),
                "status": u.status,
                "reference": u.reference,
            }
            for u in rules.used
        ],
    }
