"""証・通知 commands.

`kokuho certificates renew --date YYYY-MM-DD [--queue]` — the yearly renewal (一斉更新) for
the validity starting on the date, in the foreground with its progress (or queued for the
worker). Re-running the same date issues nothing twice.

`kokuho certificates daily [--date YYYY-MM-DD]` — the daily catch-up after bulk imports
(資格喪失 → 無効・返還, 記載事項変更 → 再交付, successors of documents that ended yesterday).
"""

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from kokuho.certificates.daily import documents_daily
from kokuho.certificates.models import DocumentType, RenewalStatus
from kokuho.certificates.renewal import (
    renewal_run_create,
    renewal_run_execute,
    renewal_run_submit,
)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"日付は YYYY-MM-DD で指定します: {text!r}") from None


class Command(BaseCommand):
    help = "資格確認書・資格情報のお知らせ・認定証の一斉更新と日次処理"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        renew = sub.add_parser("renew", help="一斉更新（有効期間の初日を指定）")
        renew.add_argument("--date", required=True, help="更新日 YYYY-MM-DD")
        renew.add_argument("--queue", action="store_true", help="バックグラウンド処理に登録する")
        renew.add_argument("--no-progress", action="store_true", help="進捗を表示しない")
        daily = sub.add_parser("daily", help="日次処理（喪失による無効・記載事項変更の再交付）")
        daily.add_argument("--date", help="処理日 YYYY-MM-DD（既定: 今日）")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "renew":
            self._renew(_date(options["date"]), options["queue"], options["no_progress"])
        else:
            on = _date(options["date"]) if options.get("date") else timezone.localdate()
            run = documents_daily(on=on, progress=self._progress(quiet=False))
            self.stdout.write(self._daily_summary(run.on, run.counts))

    def _progress(self, *, quiet: bool):
        last: list[str] = []

        def report(stage: str, done: int, total: int) -> None:
            line = f"{stage}: {done:,}/{total:,}"
            if not quiet and line != (last[-1] if last else None):
                self.stderr.write(line)
                last.append(line)

        return report

    def _renew(self, day: dt.date, queue: bool, quiet: bool) -> None:
        if queue:
            run = renewal_run_submit(renewal_date=day, actor=None)
            self.stdout.write(f"一斉更新 {day} を登録しました（受付番号 {run.pk}）")
            return
        run = renewal_run_execute(
            run_id=renewal_run_create(renewal_date=day, actor=None).pk,
            on_progress=self._progress(quiet=quiet),
        )
        if run.status != RenewalStatus.DONE:
            raise CommandError(f"一斉更新が失敗しました: {run.error}")
        self.stdout.write(renewal_summary(day, run.counts))

    @staticmethod
    def _daily_summary(on: dt.date, counts: dict[str, Any]) -> str:
        return (
            f"証・通知の日次処理 {on}: 確認 {counts['persons_checked']:,}人、"
            f"無効 {counts['invalidated']:,}件（返還請求 {counts['return_requested']:,}件）、"
            f"記載事項変更の再交付 {counts['reissued']:,}件、"
            f"有効期限到来による交付 {counts['successors']:,}件、"
            f"印刷バッチ {counts['batches']:,}"
        )


def renewal_summary(day: dt.date, counts: dict[str, Any]) -> str:
    issued = counts.get("issued", {})
    by_type = "、".join(f"{DocumentType(t).label} {n:,}件" for t, n in sorted(issued.items()) if n)
    lines = [
        f"一斉更新 {day}: 被保険者 {counts['insured']:,}人、交付 {sum(issued.values()):,}件"
        f"（{by_type or 'なし'}）、更新済みで対象外 {counts['already_renewed']:,}人、"
        f"郵送バッチ {counts['batches']:,}"
    ]
    for reason, n in counts.get("skipped", {}).items():
        lines.append(f"  交付できなかった人: {reason} {n:,}人")
    return "\n".join(lines)
