"""`kokuho audit verify` — check the audit trail's hash chain (改ざん検知).

Subcommands, so that `kokuho audit self-inspection` (自己点検の報告) can join later.
Exit 0 when every link holds; exit 1 naming the first broken link.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from kokuho.audit.models import EventType
from kokuho.audit.selectors import audit_chain_verify


class Command(BaseCommand):
    help = "監査ログ: verify（ハッシュチェーンの検証）"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="全件のハッシュと連結を検証します（異常があれば終了コード1）")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "verify":
            self._verify()

    def _verify(self) -> None:
        report = audit_chain_verify()
        if report.ok:
            self.stdout.write(
                f"監査ログ {report.checked:,} 件を検証しました: 異常なし"
                f"（最終 seq {report.last_seq}、ハッシュ {report.last_hash}）"
            )
            return
        assert report.fault is not None
        where = f"seq {report.first_bad_seq}"
        if report.occurred_at is not None:
            when = timezone.localtime(report.occurred_at).strftime("%Y-%m-%d %H:%M:%S")
            kind = EventType(report.event_type).label if report.event_type else "不明"
            where += f"（{when}、{kind}）"
        self.stdout.write(f"監査ログ {report.checked:,} 件は連結を確認しました。")
        raise CommandError(
            f"監査ログの改ざんを検知しました: {where}: {report.fault.label} — {report.reason}",
            returncode=1,
        )
