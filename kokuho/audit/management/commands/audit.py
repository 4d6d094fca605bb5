"""`kokuho audit verify` — check the audit trail's hash chain (改ざん検知).
`kokuho audit self-inspection --month YYYY-MM [--pdf FILE] [--html FILE] [--user USERNAME]`
— run the month's 自己点検 (stored and audited like a run from the screen) and print it.

Exit 0 when every link holds; exit 1 naming the first broken link.
"""

import datetime as dt
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.template.loader import render_to_string
from django.utils import timezone

from kokuho.audit.inspection import (
    SelfInspectionError,
    inspection_page,
    inspection_report,
    inspection_tables,
    month_label,
    self_inspection_run,
)
from kokuho.audit.models import event_type_label
from kokuho.audit.selectors import audit_chain_verify
from kokuho.core.pdf import report_pdf


def _month(text: str) -> dt.date:
    try:
        return dt.datetime.strptime(text.strip(), "%Y-%m").date()
    except ValueError:
        raise CommandError(f"月は YYYY-MM の形式で指定してください: {text}") from None


class Command(BaseCommand):
    help = "監査ログ: verify（ハッシュチェーンの検証）/ self-inspection（自己点検）"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="全件のハッシュと連結を検証します（異常があれば終了コード1）")
        inspect = sub.add_parser("self-inspection", help="指定した月の自己点検を実施して表示します")
        inspect.add_argument("--month", type=_month, required=True, help="点検対象月（YYYY-MM）")
        inspect.add_argument("--pdf", type=Path, help="報告書（PDF）の出力先")
        inspect.add_argument("--html", type=Path, help="報告書（HTML）の出力先")
        inspect.add_argument("--user", help="実施者のユーザー名（既定: システム）")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "verify":
            self._verify()
        elif action == "self-inspection":
            self._self_inspection(**options)

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
            kind = event_type_label(report.event_type)
            where += f"（{when}、{kind}）"
        self.stdout.write(f"監査ログ {report.checked:,} 件は連結を確認しました。")
        raise CommandError(
            f"監査ログの改ざんを検知しました: {where}: {report.fault.label} — {report.reason}",
            returncode=1,
        )

    def _self_inspection(
        self,
        *,
        month: dt.date,
        pdf: Path | None = None,
        html: Path | None = None,
        user: str | None = None,
        **options: Any,
    ) -> None:
        actor = None
        if user:
            actor = get_user_model().objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"ユーザー {user} は登録されていません")
        try:
            inspection = self_inspection_run(month=month, actor=actor)
        except SelfInspectionError as error:
            raise CommandError(f"[{error.code}] {error}") from None
        tables = inspection_tables(inspection=inspection)
        total = sum(t.count for t in tables)
        self.stdout.write(
            f"自己点検 {month_label(inspection.month)}分（{inspection.month:%Y-%m}、"
            f"点検番号 {inspection.pk}）: 指摘 {total} 件"
        )
        for table in tables:
            self.stdout.write(f"■ {table.label}: {table.count} 件")
            for row in table.rows:
                self.stdout.write("  " + " / ".join(cell for cell in row if cell))
        events = inspection.findings.get("event_counts", [])
        self.stdout.write(f"監査ログ {sum(e['count'] for e in events):,} 件（種類別）")
        for event in events:
            self.stdout.write(f"  {event['label']}: {event['count']:,} 件")
        if pdf is not None:
            pdf.write_bytes(report_pdf(inspection_report(inspection=inspection)))
            self.stdout.write(f"PDF を書き出しました: {pdf}")
        if html is not None:
            page = render_to_string(
                "web/inspection_report.html", inspection_page(inspection=inspection)
            )
            html.write_text(page, encoding="utf-8")
            self.stdout.write(f"HTML を書き出しました: {html}")
