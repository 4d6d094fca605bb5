"""`kokuho access-review [--date D] [--flagged]`: アクセス権の定期点検 as a table (audited)."""

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from kokuho.accounts.selectors import access_review_flagged
from kokuho.accounts.services import access_review_run

COLUMNS = (
    "ユーザー名",
    "役割",
    "権限数",
    "委託",
    "契約終了日",
    "利用終了日",
    "最終ログイン",
    "二要素認証",
    "研修有効期限",
    "要確認",
)


def _day(value: Any) -> str:
    return value.isoformat() if value else "-"


class Command(BaseCommand):
    help = "全アカウントの役割・権限・利用期間・最終ログイン・二要素認証・研修と要確認事項。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="点検の基準日（YYYY-MM-DD、既定は今日）")
        parser.add_argument("--flagged", action="store_true", help="要確認のアカウントだけ")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            on = date.fromisoformat(options["date"]) if options["date"] else timezone.localdate()
        except ValueError as error:
            raise CommandError(f"日付の形式が正しくありません: {options['date']}") from error
        rows = access_review_run(actor=None, on=on, via="command")
        shown = access_review_flagged(rows=rows) if options["flagged"] else rows
        self.stdout.write(f"アクセス権の定期点検（{on.isoformat()} 現在）")
        self.stdout.write("\t".join(COLUMNS))
        for r in shown:
            mfa = "登録済" if r.mfa_enrolled else ("未登録" if r.mfa_required else "不要")
            training = _day(r.training_valid_until) if r.training_needed else "不要"
            last_login = (
                timezone.localtime(r.last_login).strftime("%Y-%m-%d") if r.last_login else "なし"
            )
            self.stdout.write(
                "\t".join(
                    [
                        r.username,
                        "・".join(r.roles) or "-",
                        str(r.permission_count),
                        "委託" if r.is_contractor else "-",
                        _day(r.contract_end),
                        _day(r.valid_until),
                        last_login,
                        mfa,
                        training,
                        "・".join(f.label for f in r.flags) or "-",
                    ]
                )
            )
        flagged = access_review_flagged(rows=rows)
        self.stdout.write(f"アカウント {len(rows)} 件、要確認 {len(flagged)} 件")
