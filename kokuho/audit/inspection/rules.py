"""自己点検: finding kinds, the checklist, the month window and the dated thresholds."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.utils import timezone

from kokuho.accounts.selectors import DORMANT_AFTER, ReviewFlag
from kokuho.rules.params import parameters

# The text width of kokuho.core.pdf's A4 page (210 mm less 15 mm margins), in points.
PAGE_TEXT_WIDTH = 180 * 72 / 25.4

# The shape of `SelfInspection.findings`; a reader of an older row checks this first.
SCHEMA_VERSION = 1


class FindingKind(StrEnum):
    """指摘の種類. The value is the key in the snapshot and the audit event's counts."""

    EXPIRED_ACCOUNT = "expired_account"
    DORMANT_ACCOUNT = "dormant_account"
    UNTRAINED_ACCOUNT = "untrained_account"
    REVEAL_OFF_HOURS = "reveal_off_hours"
    REVEAL_BULK = "reveal_bulk"
    LOGIN_FAILURE_BURST = "login_failure_burst"
    EXPORT = "export"
    OWN_HOUSEHOLD = "own_household"
    CONCENTRATED_VIEWS = "concentrated_views"

    @property
    def label(self) -> str:
        return FINDING_LABELS[self]


FINDING_LABELS: dict[FindingKind, str] = {
    FindingKind.EXPIRED_ACCOUNT: "利用期間終了後も有効なアカウント",
    FindingKind.DORMANT_ACCOUNT: f"休眠アカウント（{DORMANT_AFTER.days}日超ログインなし）",
    FindingKind.UNTRAINED_ACCOUNT: "研修が有効でない個人情報取扱権限者",
    FindingKind.REVEAL_OFF_HOURS: "勤務時間外の個人番号の表示",
    FindingKind.REVEAL_BULK: "個人番号の大量表示",
    FindingKind.LOGIN_FAILURE_BURST: "ログイン失敗の集中",
    FindingKind.EXPORT: "個人情報の外部出力・開示資料の作成（全件確認）",
    FindingKind.OWN_HOUSEHOLD: "自己・同一世帯の情報の閲覧",
    FindingKind.CONCENTRATED_VIEWS: "同一住民への集中した閲覧",
}

_ACCOUNT_FLAGS: dict[FindingKind, ReviewFlag] = {
    FindingKind.EXPIRED_ACCOUNT: ReviewFlag.EXPIRED_BUT_ACTIVE,
    FindingKind.DORMANT_ACCOUNT: ReviewFlag.DORMANT,
    FindingKind.UNTRAINED_ACCOUNT: ReviewFlag.TRAINING_LAPSED,
}


class ChecklistItem(StrEnum):
    """点検項目: what the 所属長 confirms, each answered 問題なし or 要対応."""

    RIGHTS = "rights"
    LEAVERS = "leavers"
    TRAINING = "training"
    REVEALS = "reveals"
    EXPORTS = "exports"
    OWN_HOUSEHOLD = "own_household"
    CONCENTRATED_VIEWS = "concentrated_views"
    LOGIN_FAILURES = "login_failures"

    @property
    def label(self) -> str:
        return CHECKLIST_LABELS[self]


CHECKLIST_LABELS: dict[ChecklistItem, str] = {
    ChecklistItem.RIGHTS: "権限の付与は適切か",
    ChecklistItem.LEAVERS: "退職・異動者のアカウントは停止されたか",
    ChecklistItem.TRAINING: "研修の受講状況は適切か",
    ChecklistItem.REVEALS: "個人番号表示の必要性を確認したか",
    ChecklistItem.EXPORTS: "外部出力は記録どおりか",
    ChecklistItem.OWN_HOUSEHOLD: "自己・家族の閲覧はないか",
    ChecklistItem.CONCENTRATED_VIEWS: "同一住民への集中した閲覧の理由を確認したか",
    ChecklistItem.LOGIN_FAILURES: "ログイン失敗の原因を確認したか",
}


class ChecklistAnswer(StrEnum):
    OK = "ok"
    ACTION = "action"

    @property
    def label(self) -> str:
        return "問題なし" if self is ChecklistAnswer.OK else "要対応"


# --- The month and the rules -------------------------------------------------------------


@dataclass(frozen=True)
class InspectionWindow:
    """The month inspected: [start, end) at the office's clock; account findings as of
    `as_of` (the month's last day, or today for the month in progress)."""

    month: dt.date
    start: dt.datetime
    end: dt.datetime
    as_of: dt.date


def month_first(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def inspection_window(*, month: dt.date, today: dt.date) -> InspectionWindow:
    first = month_first(month)
    following = _next_month(first)
    zone = timezone.get_current_timezone()
    return InspectionWindow(
        month=first,
        start=timezone.make_aware(dt.datetime.combine(first, dt.time()), zone),
        end=timezone.make_aware(dt.datetime.combine(following, dt.time()), zone),
        as_of=min(following - dt.timedelta(days=1), today),
    )


@dataclass(frozen=True)
class InspectionRules:
    """The thresholds in force for the month (the city's policy; dated parameters)."""

    office_start: dt.time
    office_end: dt.time
    reveal_daily_limit: int
    reveal_burst_count: int
    reveal_burst_minutes: int
    login_burst_count: int
    login_burst_minutes: int
    many_viewers: int
    references: tuple[tuple[str, str], ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "office_hours": {
                "start": self.office_start.strftime("%H:%M"),
                "end": self.office_end.strftime("%H:%M"),
            },
            "closed_days": "土曜・日曜（祝日・年末年始は判定しない）",
            "reveal_daily_limit": self.reveal_daily_limit,
            "reveal_burst": {
                "count": self.reveal_burst_count,
                "minutes": self.reveal_burst_minutes,
            },
            "login_failure_burst": {
                "count": self.login_burst_count,
                "minutes": self.login_burst_minutes,
            },
            "many_viewers": self.many_viewers,
            "dormant_days": DORMANT_AFTER.days,
            "references": dict(self.references),
        }


_RULE_NAMES = (
    "office_hours",
    "reveal_daily_limit",
    "reveal_burst",
    "login_failure_burst",
    "many_viewers",
)


def inspection_rules(*, month: dt.date) -> InspectionRules:
    """The parameters in force on the first day of `month` (ParameterError if none)."""
    tree = parameters()
    entries = {n: tree.get(f"privacy.self_inspection_{n}").entry_at(month) for n in _RULE_NAMES}
    hours = entries["office_hours"].value
    return InspectionRules(
        office_start=dt.time.fromisoformat(hours["start"]),
        office_end=dt.time.fromisoformat(hours["end"]),
        reveal_daily_limit=int(entries["reveal_daily_limit"].value),
        reveal_burst_count=int(entries["reveal_burst"].value["count"]),
        reveal_burst_minutes=int(entries["reveal_burst"].value["minutes"]),
        login_burst_count=int(entries["login_failure_burst"].value["count"]),
        login_burst_minutes=int(entries["login_failure_burst"].value["minutes"]),
        many_viewers=int(entries["many_viewers"].value),
        references=tuple((n, e.reference) for n, e in entries.items()),
    )
