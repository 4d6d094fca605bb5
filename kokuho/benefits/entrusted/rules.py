"""The rules of the two 国保連 files: pure functions from a line to a decision's outcome.

They read their values through the life cycle's `Params` (each value recorded with its
reference) and share its 時効 (`limitation_refusal`) and the co-payment's rounding, so a
受領委任 line and a counter 療養費 are decided alike.
"""

import datetime as dt

from kokuho.benefits.entrusted.models import TreatmentCategory
from kokuho.benefits.lifecycle.rules import (
    Params,
    RuleOutcome,
    limitation_refusal,
    reimbursed,  # the 法42条 rounding of the counter's 療養費, shared on purpose
)

DAY = dt.timedelta(days=1)


def _month_end(month: dt.date) -> dt.date:
    return (month.replace(day=28) + 4 * DAY).replace(day=1) - DAY


def _refused(reason: str, params: Params, steps: list[str]) -> RuleOutcome:
    return RuleOutcome("refused", 0, reason, steps=[*steps, reason], parameters=params.used)


def entrusted_outcome(
    *,
    category: TreatmentCategory,
    service_month: dt.date,
    days: int,
    cost: int,
    copay: int,
    claimed: int,
    received_on: dt.date,
    insured_day: dt.date | None,
    percent: int | None,
) -> RuleOutcome:
    """療養費 (法54条) of one 受領委任 line, paid to the 施術所 (受領委任の取扱い), in order:

    1. the 施術区分 must be under 受領委任 in the 施術年月 (a parameter: あはき from 2019-01);
    2. 時効 (法110条): 2 years from the day after the 施術年月's last day (the 施術所 claims a
       month at once; the latest day of it is the patient's benefit);
    3. the person insured here on a day of the 施術年月 (`insured_day`, with its 負担割合);
    4. 請求額 = 費用額 − 一部負担金, else 不支給 (返戻: the claim is wrong as written);
    5. 一部負担金 = 費用額 × 負担割合 rounded to the unit (10 yen, half up, as 法42条): more
       is 不支給 (返戻: the patient was over-charged and must be refunded first); less
       makes the insurer's share 費用額 − the right 一部負担金 (一部支給 with the reason).
    """
    params = Params(service_month)
    label = TreatmentCategory(category).label
    steps = [
        f"{label} 施術年月 {service_month:%Y年%m月}（{days}日）、費用額 {cost:,}円、"
        f"一部負担金 {copay:,}円、請求額 {claimed:,}円"
    ]
    if not params.get("benefits.entrusted_categories")[str(category)]:
        return _refused(
            f"{service_month:%Y年%m月}の{label}は受領委任の対象ではありません"
            "（被保険者からの償還払いの申請になります）",
            params,
            steps,
        )
    start = _month_end(service_month) + DAY
    if reason := limitation_refusal(start=start, received_on=received_on, params=params):
        return _refused(reason, params, steps)
    if insured_day is None or percent is None:
        return _refused(
            f"施術年月（{service_month:%Y年%m月}）に当市の国民健康保険の被保険者ではありません",
            params,
            steps,
        )
    if claimed != cost - copay:
        return _refused(
            f"請求額 {claimed:,}円が 費用額 {cost:,}円 − 一部負担金 {copay:,}円 = "
            f"{cost - copay:,}円 と一致しません（請求の誤りのため施術所へ返戻）",
            params,
            steps,
        )
    expected, due = reimbursed(cost, percent, params)
    steps.append(
        f"{insured_day} の負担割合 {percent}%: 一部負担金 {expected:,}円"
        f"（{params.get('copay.rounding_unit')}円未満四捨五入）、保険者負担 {due:,}円"
    )
    if copay > expected:
        return _refused(
            f"一部負担金 {copay:,}円が負担割合（{percent}%）による額 {expected:,}円を超えています"
            "（被保険者から過大に徴収。施術所へ返戻）",
            params,
            steps,
        )
    if due <= 0:
        return _refused("保険者負担の額がありません", params, steps)
    if claimed > due:
        reason = (
            f"一部負担金 {copay:,}円が負担割合（{percent}%）による額 {expected:,}円より少ないため、"
            f"保険者負担 {due:,}円を支給（請求額との差 {claimed - due:,}円は支給しません）"
        )
        return RuleOutcome(
            "partial",
            due,
            reason=reason,
            institution_amount=due,
            steps=[*steps, reason],
            parameters=params.used,
        )
    steps.append(f"受領委任により施術所へ {claimed:,}円を支払います")
    return RuleOutcome(
        "paid", claimed, institution_amount=claimed, steps=steps, parameters=params.used
    )
