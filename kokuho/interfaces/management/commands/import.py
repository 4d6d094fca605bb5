"""`kokuho import residents-changes FILE` / `kokuho import income FILE` /
`kokuho import claims FILE` / `kokuho import myna-status FILE` (interfaces.md).

Progress on stderr, the summary on stdout; exit 1 with the reason when the file is
rejected whole. The actor is the batch itself (no staff member): the audit event says so.
"""

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kokuho.core.wareki import WarekiError, parse_date
from kokuho.interfaces.selectors import quarantined_rows_of
from kokuho.interfaces.services import (
    ImportRejected,
    ImportSummary,
    import_claims,
    import_income,
    import_myna_status,
    import_residents_changes,
)

SHOWN_HELD = 20  # held lines printed after the counts


class Command(BaseCommand):
    help = "連携ファイル（住基異動・所得・レセプト・マイナ保険証の利用登録状況）を取り込みます。"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="kind", required=True)
        changes = sub.add_parser("residents-changes", help="住基異動ファイルの取込")
        changes.add_argument("file", type=Path)
        changes.add_argument("--no-progress", action="store_true", help="進捗を表示しない")
        income = sub.add_parser("income", help="所得ファイルの取込")
        income.add_argument("file", type=Path)
        income.add_argument("--no-progress", action="store_true", help="進捗を表示しない")
        income.add_argument(
            "--reported-on", default=None, help="届出日（更正の適用月を決めます。既定: 今日）"
        )
        claims = sub.add_parser("claims", help="レセプト（国保連合会の月次ファイル）の取込")
        claims.add_argument("file", type=Path)
        claims.add_argument("--no-progress", action="store_true", help="進捗を表示しない")
        claims.add_argument(
            "--reported-on",
            default=None,
            help="受付日（これより後の月の診療年月は保留します。既定: 今日）",
        )
        myna = sub.add_parser(
            "myna-status", help="マイナ保険証の利用登録状況（国から提供されるファイル）の取込"
        )
        myna.add_argument("file", type=Path)
        myna.add_argument("--no-progress", action="store_true", help="進捗を表示しない")
        myna.add_argument(
            "--reported-on",
            default=None,
            help="受付日（これより後の基準日は保留します。既定: 今日）",
        )

    def handle(self, *args: Any, kind: str, file: Path, no_progress: bool, **opts: Any) -> None:
        try:
            if kind == "income":
                reported_on = parse_date(opts["reported_on"]) if opts["reported_on"] else None
                summary = import_income(
                    path=file, actor=None, progress=not no_progress, reported_on=reported_on
                )
            elif kind == "claims":
                reported_on = parse_date(opts["reported_on"]) if opts["reported_on"] else None
                summary = import_claims(
                    path=file, actor=None, progress=not no_progress, reported_on=reported_on
                )
            elif kind == "myna-status":
                reported_on = parse_date(opts["reported_on"]) if opts["reported_on"] else None
                summary = import_myna_status(
                    path=file, actor=None, progress=not no_progress, reported_on=reported_on
                )
            else:
                summary = import_residents_changes(path=file, actor=None, progress=not no_progress)
        except WarekiError as error:
            raise CommandError(f"--reported-on: {error}") from None
        except ImportRejected as rejected:
            self.stderr.write(f"取込できません: {rejected}")
            sys.exit(1)
        self.stdout.write(summary.format())
        self._held(summary)

    def _held(self, summary: ImportSummary) -> None:
        """The first held lines, so that the operator sees what to fix without the screen
        (values as kept: a My-Number-like value is already masked)."""
        if not summary.quarantined_total:
            return
        rows = quarantined_rows_of(import_file_id=summary.import_file_id, limit=SHOWN_HELD)
        self.stdout.write(f"  保留した行（先頭 {len(rows)} 件。すべては画面「取込の保留行」）:")
        for row in rows:
            where = f"{row.line} 行目" + (f" {row.field}" if row.field else "")
            value = f"（値: {row.value[:40]}）" if row.value else ""
            self.stdout.write(f"    {where}: {row.reason}{value}")
