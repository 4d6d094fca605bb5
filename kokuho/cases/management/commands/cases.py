"""Case commands (調査・求償の案件).

`kokuho cases list [--kind K] [--status S] [--json]` — every case: id, kind, subject (宛名番号),
status, opened, due, amounts claimed, recovered and outstanding.

`kokuho cases detect [--date YYYY-MM-DD]` — the detections (資格喪失後受診: claims paid for
months not insured as now known); idempotent: run again, it finds nothing new.

`kokuho cases remind [--date YYYY-MM-DD]` — the 督促状 of the 返還請求 not paid by a date
(one PDF under KOKUHO_DOCUMENT_DIR/cases/); once per missed date.
"""

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from kokuho.cases.after_loss import after_loss_detect
from kokuho.cases.models import CaseKind, CaseStatus
from kokuho.cases.reminders import reminders_issue
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
        remind = sub.add_parser("remind", help="納期限を過ぎた返還請求の督促状を作成する")
        remind.add_argument("--date", help="督促状の発行日 YYYY-MM-DD（省略時は今日）")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "list":
            self._list(options["kind"], options["status"], as_json=options["json"])
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
