"""自己点検 presentation: tables, the PDF report and the page context, from a stored snapshot."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from kokuho.audit.inspection.rules import (
    PAGE_TEXT_WIDTH,
    ChecklistAnswer,
    ChecklistItem,
    FindingKind,
)
from kokuho.audit.inspection.services import (
    month_label,
)
from kokuho.audit.models import SelfInspection, SubjectType, event_type_label
from kokuho.core.pdf import Report, Section
from kokuho.core.purposes import Purpose
from kokuho.core.wareki import format_wareki

# --- Presentation of a stored snapshot (screens, PDF, command) ----------------------------


@dataclass(frozen=True)
class FindingTable:
    kind: FindingKind
    label: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    weights: tuple[int, ...]  # relative column widths (the PDF)

    @property
    def count(self) -> int:
        return len(self.rows)


def _when(value: str | None) -> str:
    if not value:
        return ""
    moment = dt.datetime.fromisoformat(value)
    return f"{format_wareki(moment.date())} {moment:%H:%M}"


def _day(value: str | None) -> str:
    return format_wareki(dt.date.fromisoformat(value)) if value else ""


def _staff(username: str, full_name: str) -> str:
    return f"{full_name}（{username}）" if full_name else username


def _span(first: str, last: str) -> str:
    if first == last:
        return _when(first)
    start, end = dt.datetime.fromisoformat(first), dt.datetime.fromisoformat(last)
    tail = f"{end:%H:%M}" if start.date() == end.date() else _when(last)
    return f"{_when(first)}〜{tail}"


def _purpose(code: str) -> str:
    try:
        return Purpose(code).label
    except ValueError:
        return code


def _listed(values: Sequence[str], limit: int = 20) -> str:
    shown = "、".join(values[:limit])
    return shown + (f" ほか{len(values) - limit}件" if len(values) > limit else "")


_ACCOUNT_HEADERS = ("職員", "所属", "役割", "利用終了日", "最終ログイン", "研修の有効期限")


def _account_row(f: Mapping[str, Any]) -> tuple[str, ...]:
    return (
        _staff(f["username"], f["full_name"]),
        f["department"],
        "・".join(f["roles"]),
        _day(f["valid_until"]) or "なし",
        _when(f["last_login"]) or "なし",
        _day(f["training_valid_until"]) or "記録なし",
    )


def _login_key(f: Mapping[str, Any]) -> str:
    if f["by"] == "terminal":
        return f"端末 {f['key']}"
    return f"ユーザー名 {_staff(f['key'], f['full_name'])}"


@dataclass(frozen=True)
class _Layout:
    headers: tuple[str, ...]
    weights: tuple[int, ...]
    row: Callable[[Mapping[str, Any]], tuple[str, ...]]


_ACCOUNTS = _Layout(_ACCOUNT_HEADERS, (4, 3, 2, 3, 3, 3), _account_row)
_TABLES: dict[FindingKind, _Layout] = {
    FindingKind.EXPIRED_ACCOUNT: _ACCOUNTS,
    FindingKind.DORMANT_ACCOUNT: _ACCOUNTS,
    FindingKind.UNTRAINED_ACCOUNT: _ACCOUNTS,
    FindingKind.REVEAL_OFF_HOURS: _Layout(
        ("職員", "日時", "区分", "宛名番号", "事務"),
        (4, 4, 2, 3, 5),
        lambda f: (
            _staff(f["username"], f["full_name"]),
            _when(f["occurred_at"]),
            f["reason"],
            f["atena_no"],
            _purpose(f["purpose"]),
        ),
    ),
    FindingKind.REVEAL_BULK: _Layout(
        ("職員", "日", "その日の件数", "最も集中した時間帯", "宛名番号"),
        (4, 3, 2, 4, 6),
        lambda f: (
            _staff(f["username"], f["full_name"]),
            _day(f["day"]),
            f"{f['day_count']} 件",
            f"{f['window_count']} 件（{_span(f['window_start'], f['window_end'])}）",
            _listed(f["atena_nos"]),
        ),
    ),
    FindingKind.LOGIN_FAILURE_BURST: _Layout(
        ("対象", "期間", "失敗", "ロックアウト", "端末／試されたユーザー名"),
        (5, 5, 2, 2, 5),
        lambda f: (
            _login_key(f),
            _span(f["first_at"], f["last_at"]),
            f"{f['failures']} 回",
            f"{f['lockouts']} 回",
            _listed(f["related"]),
        ),
    ),
    FindingKind.EXPORT: _Layout(
        ("職員", "日時", "種類", "内容", "件数", "宛名番号"),
        (4, 4, 3, 4, 2, 3),
        lambda f: (
            _staff(f["username"], f["full_name"]) or "システム",
            _when(f["occurred_at"]),
            event_type_label(f["event_type"]),
            f"{f['kind']}（出力記録 {f['export_id']}）" if f["export_id"] else f["kind"],
            f"{f['records']} 件" if f["records"] is not None else "",
            f["atena_no"],
        ),
    ),
    FindingKind.OWN_HOUSEHOLD: _Layout(
        ("職員", "職員本人の宛名番号", "閲覧の対象", "関係", "操作", "回数", "期間"),
        (4, 3, 4, 3, 3, 2, 5),
        lambda f: (
            _staff(f["username"], f["full_name"]),
            f["staff_atena_no"],
            ("世帯番号 " if f["subject_type"] == SubjectType.HOUSEHOLD else "宛名番号 ")
            + f["subject_id"],
            f["relation"],
            event_type_label(f["event_type"]),
            f"{f['count']} 回",
            _span(f["first_at"], f["last_at"]),
        ),
    ),
    FindingKind.CONCENTRATED_VIEWS: _Layout(
        ("宛名番号", "閲覧した職員数", "閲覧件数", "職員（ユーザー名）", "期間"),
        (3, 2, 2, 6, 5),
        lambda f: (
            f["atena_no"],
            f"{f['staff_count']} 人",
            f"{f['event_count']} 件",
            _listed(f["usernames"]),
            _span(f["first_at"], f["last_at"]),
        ),
    ),
}


def inspection_tables(*, inspection: SelfInspection) -> list[FindingTable]:
    """The stored findings as tables, one per kind, in the order of `FindingKind`."""
    stored = inspection.findings.get("findings", {})
    tables = []
    for kind in FindingKind:
        layout = _TABLES[kind]
        rows = tuple(layout.row(f) for f in stored.get(kind.value, []))
        tables.append(FindingTable(kind, kind.label, layout.headers, rows, layout.weights))
    return tables


def inspection_rules_text(*, inspection: SelfInspection) -> list[tuple[str, str]]:
    """点検の基準 as (label, value) rows, from the snapshot."""
    rules = inspection.findings.get("rules", {})
    hours = rules.get("office_hours", {})
    burst = rules.get("reveal_burst", {})
    login = rules.get("login_failure_burst", {})
    return [
        ("勤務時間", f"平日 {hours.get('start')}〜{hours.get('end')}"),
        ("時間外とする日", str(rules.get("closed_days", ""))),
        (
            "個人番号の大量表示",
            f"1日 {rules.get('reveal_daily_limit')} 件超、または "
            f"{burst.get('minutes')} 分以内に {burst.get('count')} 件以上",
        ),
        (
            "ログイン失敗の集中",
            f"{login.get('minutes')} 分以内に {login.get('count')} 回以上"
            "（ユーザー名ごと・端末ごと）",
        ),
        ("同一住民への集中した閲覧", f"1か月に {rules.get('many_viewers')} 人以上の職員"),
        ("休眠とする期間", f"{rules.get('dormant_days')} 日超ログインなし"),
        (
            "基準の根拠",
            "市の運用方針の既定値（法令の定めではありません）: "
            + "; ".join(sorted(set(rules.get("references", {}).values()))),
        ),
    ]


def _person(user: Any | None) -> str:
    if user is None:
        return "システム"
    profile = getattr(user, "staff_profile", None)
    return _staff(user.get_username(), profile.full_name if profile else "")


def inspection_meta(*, inspection: SelfInspection) -> list[tuple[str, str]]:
    """The report's heading rows: month, run, sign-off."""
    snapshot = inspection.findings
    signed = (
        f"{_when(timezone.localtime(inspection.signed_at).isoformat())} "
        f"{_person(inspection.signed_by)}"
        if inspection.signed_at
        else "未確認"
    )
    return [
        ("点検対象月", f"{month_label(inspection.month)}（{inspection.month:%Y-%m}）"),
        ("アカウントの基準日", _day(snapshot.get("as_of"))),
        (
            "実施",
            f"{_when(timezone.localtime(inspection.run_at).isoformat())} "
            f"{_person(inspection.run_by)}（点検番号 {inspection.pk}）",
        ),
        ("所属長の確認", signed),
    ]


def inspection_checklist_rows(*, inspection: SelfInspection) -> list[tuple[str, str, str]]:
    """(点検項目, 回答, 内容) for a signed inspection."""
    rows = []
    for item in ChecklistItem:
        given = inspection.checklist.get(item.value)
        if given:
            rows.append((item.label, ChecklistAnswer(given["answer"]).label, given.get("note", "")))
    return rows


def _widths(weights: Sequence[int]) -> list[float]:
    """Column widths on the report's A4 text width (180 mm) in the given proportions."""
    return [PAGE_TEXT_WIDTH * w / sum(weights) for w in weights]


def inspection_report(*, inspection: SelfInspection) -> Report:
    """The PDF's content (kokuho.core.pdf): the same snapshot as the screen."""
    tables = inspection_tables(inspection=inspection)
    sections = [
        Section(
            heading="指摘の件数",
            table_header=("指摘の種類", "件数"),
            table=[(t.label, f"{t.count} 件") for t in tables],
            col_widths=_widths((5, 1)),
        )
    ]
    sections += [
        Section(
            heading=f"{t.label}（{t.count} 件）",
            table_header=t.headers,
            table=t.rows,
            empty_text="該当なし",
            col_widths=_widths(t.weights),
        )
        for t in tables
    ]
    events = inspection.findings.get("event_counts", [])
    sections.append(
        Section(
            heading="監査ログの種類別件数",
            table_header=("種類", "件数"),
            table=[(e["label"], f"{e['count']:,}") for e in events],
            empty_text="この月の記録はありません",
            col_widths=_widths((5, 1)),
        )
    )
    sections.append(
        Section(heading="点検の基準", rows=inspection_rules_text(inspection=inspection))
    )
    checklist = inspection_checklist_rows(inspection=inspection)
    if checklist:
        sections.append(
            Section(
                heading="所属長の確認",
                table_header=("点検項目", "回答", "内容"),
                table=checklist,
                col_widths=_widths((4, 1, 4)),
                paragraphs=[f"所見: {inspection.comment}"] if inspection.comment else [],
            )
        )
    return Report(
        title="特定個人情報等の取扱いに関する自己点検結果",
        subtitle=f"{month_label(inspection.month)}分",
        meta=inspection_meta(inspection=inspection),
        sections=sections,
        footer=f"自己点検 {inspection.month:%Y-%m}（点検番号 {inspection.pk}）",
    )


def inspection_page(*, inspection: SelfInspection) -> dict[str, Any]:
    """What the report page shows (screen, HTML download and `kokuho audit`), from the
    snapshot."""
    return {
        "inspection": inspection,
        "month_label": month_label(inspection.month),
        "meta": inspection_meta(inspection=inspection),
        "tables": inspection_tables(inspection=inspection),
        "events": inspection.findings.get("event_counts", []),
        "rules": inspection_rules_text(inspection=inspection),
        "checklist_rows": inspection_checklist_rows(inspection=inspection),
    }
