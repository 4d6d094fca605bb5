"""減免 reads the screens share: an application's state as the list and the detail show it."""

from kokuho.benefits.reduction.models import (
    CopayReductionApplication,
    CopayReductionDecision,
    ReductionResult,
)
from kokuho.core.wareki import format_wareki


def reduction_result_label(result: str, rate_percent: int) -> str:
    """免除 / 減額（50%） / 徴収猶予 / 不承認."""
    label = ReductionResult(result).label
    return f"{label}（{rate_percent}%）" if result == ReductionResult.REDUCTION else label


def reduction_period(decision: CopayReductionDecision) -> str:
    if decision.period_start is None or decision.period_end is None:
        return ""
    return f"{format_wareki(decision.period_start)}〜{format_wareki(decision.period_end)}"


def reduction_status(decisions: list[CopayReductionDecision]) -> str:
    """The 状態: 審査中, or the newest decision (in id order) with its period."""
    if not decisions:
        return "審査中"
    newest = decisions[-1]
    text = reduction_result_label(newest.result, newest.rate_percent)
    if newest.extends_id:
        text += "（延長）"
    period = reduction_period(newest)
    return f"{text} {period}" if period else text


def copay_reduction_application_shown(application: CopayReductionApplication) -> dict[str, str]:
    """What the detail page shows of the application's state, by label: a conflicting save
    (`kokuho.core.concurrency`) lists the ones that differ."""
    decisions = list(application.decisions.order_by("pk"))
    return {"決定区分": reduction_status(decisions), "決定の件数": f"{len(decisions)}件"}
