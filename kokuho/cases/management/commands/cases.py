"""Case commands (調査・求償の案件).

`kokuho cases list [--kind K] [--status S] [--json]` — every case: id, kind, subject (宛名番号),
status, opened, due, amounts claimed, recovered and outstanding.

`kokuho cases detect [--date YYYY-MM-DD]` — the detections (資格喪失後受診: claims paid for
months not insured as now known); idempotent: run again, it finds nothing new.

`kokuho cases report --from YYYY-MM --to YYYY-MM [--date YYYY-MM-DD] [--csv FILE]` — per kind
and month: opened, closed, claimed, recovered; the ageing of the open cases on the day.

`kokuho cases remind [--date YYYY-MM-DD]` — the 督促状 of the 返還請求 not paid by a date
(one PDF under KOKUHO_DOCUMENT_DIR/cases/); once per missed date.
"""

import datetime as dt
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from kokuho.cases.after_loss import after_loss_detect
from kokuho.cases.models import CaseKind, CaseStatus
from kokuho.cases.reminders import reminders_issue
from kokuho.cases.report import AGEING_BANDS, cases_report, report_csv
from kokuho.cases.selectors import case_row, cases_filtered


def _day(text: str | None) -> dt.date:
    try:
        return dt.date.fromisoformat(text) if text else timezone.localdate()
    except ValueError as error:
        raise CommandError(f"--date: 日付は YYYY-MM-DD で指定してください（{text}）") from error


class Command(BaseCommand):
    help = "調査・求償の案件: 一覧（list）と検出（detect）"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="案件の一覧")
        listing.add_argument("--kind", choices=[k.value for k in CaseKind], help="案件の種類")
        listing.add_argument("--status", choices=[s.value for s in CaseStatus], help="状態")
        listing.add_argument("--json", action="store_true", help="JSON で出力する")
        detect = sub.add_parser(
            "detect", help="案件の検出（何度実行しても同じ事実から二重に開かない）"
        )
        detect.add_argument("--date", help="基準日 YYYY-MM-DD（省略時は今日）")
        report = sub.add_parser(
            "report", help="案件の月次報告（種類別・月別の件数と金額、経過日数）"
        )
        report.add_argument("--from", dest="first", required=True, help="最初の月 YYYY-MM")
        report.add_argument("--to", dest="last", required=True, help="最後の月 YYYY-MM")
        report.add_argument("--date", help="経過日数の基準日 YYYY-MM-DD（省略時は今日）")
        report.add_argument("--csv", type=Path, help="CSV（UTF-8 BOM付き）を書き出すファイル")
        remind = sub.add_parser("remind", help="納期限を過ぎた返還請求の督促状を作成する")
        remind.add_argument("--date", help="督促状の発行日 YYYY-MM-DD（省略時は今日）")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "list":
            self._list(options["kind"], options["status"], as_json=options["json"])
        elif action == "report":
            self._report(options)
        elif action == "remind":
            self._remind(_day(options["date"]))
        else:
            self._detect(_day(options["date"]))

    def _list(self, kind: str | None, status: str | None, *, as_json: bool) -> None:
        rows = [case_row(case) for case in cases_filtered(kind=kind, status=status)]
        if as_json:
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        if not rows:
            self.stdout.write("案件はありません")
            return
        for r in rows:
            self.stdout.write(
                f"#{r['id']} {r['kind_label']} 宛名番号 {r['subject']} {r['status_label']}"
                f" 開始 {r['opened']} 期限 {r['due'] or '—'}"
                f" 請求 {r['claimed_yen']:,}円 収納 {r['recovered_yen']:,}円"
                f" 未収 {r['outstanding_yen']:,}円"
            )

    def _report(self, options: dict[str, Any]) -> None:
        months = []
        for name in ("first", "last"):
            try:
                months.append(dt.date.fromisoformat(f"{options[name]}-01"))
            except ValueError as error:
                flag = "--from" if name == "first" else "--to"
                message = f"{flag}: 月は YYYY-MM で指定してください（{options[name]}）"
                raise CommandError(message) from error
        if months[0] > months[1]:
            raise CommandError("--from の月が --to の月より後です")
        report = cases_report(first=months[0], last=months[1], on=_day(options["date"]))
        for _kind, label, month, r in report.rows():
            if r.opened or r.closed or r.recovered_yen:
                self.stdout.write(
                    f"{label} {month:%Y-%m}: 開始 {r.opened}件・終結 {r.closed}件・"
                    f"請求 {r.claimed_yen:,}円・収納 {r.recovered_yen:,}円"
                )
        bands = [label for _low, _high, label in AGEING_BANDS]
        for kind in CaseKind:
            counts = "・".join(
                f"{b} {n}件" for b, n in zip(bands, report.ageing[kind], strict=True)
            )
            self.stdout.write(f"未終結 {kind.label}（{report.on.isoformat()} 現在）: {counts}")
        if options["csv"]:
            options["csv"].write_text(report_csv(report), encoding="utf-8", newline="")
            self.stdout.write(f"CSV を書き出しました: {options['csv']}")

    def _remind(self, on: dt.date) -> None:
        count, path = reminders_issue(on=on, actor=None)
        if not count:
            self.stdout.write(f"{on.isoformat()}: 督促する案件はありません")
            return
        self.stdout.write(f"督促状 {count} 通を作成しました: {path}")

    def _detect(self, on: dt.date) -> None:
        # 資格喪失後受診 is found from what is recorded, whatever the day; the day is the run's.
        done = after_loss_detect(source=f"案件の検出（kokuho cases detect, {on.isoformat()}）")
        self.stdout.write(
            f"資格喪失後受診: 新しい案件 {len(done.opened)}件・追加したレセプト {done.added}件・"
            f"資格の回復で取り下げたレセプト {done.withdrawn}件"
        )
