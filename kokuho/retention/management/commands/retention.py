"""`kokuho retention plan|run [--as-of YYYY-MM-DD] [--yes]` — 保存期間経過データの消去.

`plan` prints what would be erased, per data class, and changes nothing. `run` erases it
(after a confirmation, or with `--yes`; without a terminal it refuses unless `--yes`).
"""

import datetime as dt
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm

from kokuho.retention.models import DataClass
from kokuho.retention.selectors import SKIP_LABELS, RetentionPlan, retention_plan
from kokuho.retention.services import RetentionError, retention_run

UNITS = {
    DataClass.MY_NUMBER: "件",
    DataClass.RECORDS: "人",
    DataClass.BENEFIT_DECISIONS: "件",
    DataClass.CLAIMS: "件",
    DataClass.PAYMENTS: "件",
    DataClass.PAYEE_ACCOUNTS: "件",
    DataClass.INTERFACE_RAW: "行",
    DataClass.INTERFACE_UPLOADS: "ファイル",
    DataClass.INTERFACE_LEDGER: "件",
    DataClass.DOCUMENT_PRINTS: "ファイル",
    DataClass.AUDIT: "件",
}


def _as_of(value: str | None) -> dt.date:
    if not value:
        return timezone.localdate()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--as-of は YYYY-MM-DD の形で指定してください: {value}") from None


class Command(BaseCommand):
    help = "保存期間を過ぎたデータの消去: plan（計画の表示のみ）, run（消去の実行）"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        for name, text in (
            ("plan", "区分ごとの消去対象の件数を表示します（何も変更しません）"),
            ("run", "保存期間を過ぎたデータを消去し、消去記録を残します"),
        ):
            action = sub.add_parser(name, help=text)
            action.add_argument("--as-of", help="基準日 YYYY-MM-DD（省略時は今日）")
            if name == "run":
                action.add_argument("--yes", action="store_true", help="確認せずに実行します")
                action.add_argument("--no-progress", action="store_true", help="進捗を表示しない")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        as_of = _as_of(options.get("as_of"))
        plan = retention_plan(as_of=as_of)
        self._print_plan(plan)
        if action == "plan":
            return
        if plan.total == 0:
            # Still run: the run and its audit event show the job was done on this date.
            self.stdout.write("消去の対象はありません。")
        elif not options.get("yes"):
            self._confirm()
        self._run(as_of, progress=not options.get("no_progress"))

    def _print_plan(self, plan: RetentionPlan) -> None:
        self.stdout.write(f"保存期間経過データの消去計画（基準日 {plan.as_of.isoformat()}）")
        for item in plan.classes:
            data_class = item.rule.data_class
            unit = UNITS[data_class]
            self.stdout.write(
                f"  {item.rule.label}: {item.count:,} {unit}"
                f"（規則 {item.rule.name}、{item.rule.reference}が {item.cutoff.isoformat()} "
                "より前のもの）"
            )
            for reason, count in item.skipped.items():
                if reason == "not_installed":
                    self.stdout.write(f"    ※ {SKIP_LABELS[reason]}のため対象はありません")
                else:
                    self.stdout.write(f"    ※ 消去しない: {SKIP_LABELS[reason]} {count:,} 件")

    def _confirm(self) -> None:
        if not sys.stdin.isatty():
            raise CommandError(
                "確認なしでは消去しません。計画を確認してから --yes を付けて実行してください。"
            )
        answer = input(
            "上記を消去します。消去したデータは元に戻せません。実行しますか？ [yes/no]: "
        )
        if answer.strip().lower() not in ("yes", "y", "はい"):
            raise CommandError("消去を取りやめました。")

    def _run(self, as_of: dt.date, *, progress: bool) -> None:
        # One bar per data class, one at a time, on the command's error stream.
        stream = getattr(self.stderr, "_out", sys.stderr)
        bars: dict[DataClass, tqdm] = {}

        def show(data_class: DataClass, done: int, total: int) -> None:
            bar = bars.get(data_class)
            if bar is None:
                for other in bars.values():
                    other.close()
                bar = bars[data_class] = tqdm(
                    total=total,
                    desc=DataClass(data_class).label,
                    unit=UNITS[data_class],
                    file=stream,
                    disable=not progress,
                )
            bar.total = max(total, done)
            bar.n = done
            bar.refresh()

        try:
            run = retention_run(as_of=as_of, on_progress=show)
        except RetentionError as error:
            raise CommandError(f"消去を中止しました（{error.code}）: {error}") from None
        finally:
            for bar in bars.values():
                bar.close()
        self.stdout.write(f"消去処理 {run.pk} を終えました（基準日 {as_of.isoformat()}）。")
        for data_class in DataClass:
            count = run.counts.get(str(data_class), 0)
            self.stdout.write(f"  {data_class.label}: {count:,} {UNITS[data_class]} を消去")
        if run.key_rotated:
            self.stdout.write("個人番号を消去したため、暗号鍵を更新し古い鍵を削除しました。")
        self.stdout.write("消去記録（何を・何件・いつ・どの規則で）を残しました。")
