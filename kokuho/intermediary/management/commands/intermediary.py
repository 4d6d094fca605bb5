"""中間サーバー: the 副本 catalogue and 情報照会.

`kokuho intermediary catalogue` — each 特定個人情報 of the catalogue with the 版 in force.
`kokuho intermediary query --atena A --row ROW --purpose P [--user U]` — ask; prints the
処理通番, or the refusal (exit 2). `kokuho intermediary export-requests [--date D]` — the
pending requests' file. `kokuho intermediary import-results FILE` — results by 処理通番.
The 副本 file itself: `kokuho national export fukuhon [--full]`.
"""

import datetime as dt
import sys
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from kokuho.intermediary.allow_list import allow_list
from kokuho.intermediary.catalogue import catalogue
from kokuho.intermediary.services import (
    InfoQueryError,
    InfoQueryRefused,
    info_query_request,
    info_query_requests_export,
    info_query_results_import,
)


class Command(BaseCommand):
    help = (
        "中間サーバー: 副本の目録（catalogue）、情報照会（query, export-requests, import-results）"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("catalogue", help="副本の目録と施行中の版")
        query = sub.add_parser("query", help="情報照会を依頼する")
        query.add_argument("--atena", required=True, help="宛名番号")
        query.add_argument("--row", required=True, help="照会する項（allow_list.yaml の項コード）")
        query.add_argument("--purpose", required=True, help="事務コード（例: nhi_benefits）")
        query.add_argument("--user", help="依頼する職員のユーザー名（省略時はシステム）")
        export = sub.add_parser("export-requests", help="未送信の照会の依頼ファイルを作る")
        export.add_argument("--date", help="作成日 YYYY-MM-DD（省略時は今日）")
        results = sub.add_parser("import-results", help="照会結果ファイルを取り込む")
        results.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, "_" + options["action"].replace("-", "_"))(options)

    def _fail(self, message: str) -> None:
        self.stderr.write(message)
        sys.exit(2)

    def _catalogue(self, options: dict[str, Any]) -> None:
        today = timezone.localdate()
        for entry in catalogue():
            version = entry.version_on(today)
            state = (
                f"版 {version.version}（{version.effective_from} から）" if version else "施行前"
            )
            provided = "提供する" if entry.provided else f"提供しない: {entry.not_provided_reason}"
            self.stdout.write(f"{entry.code} {entry.name}")
            self.stdout.write(f"  {state} / {provided}")
            self.stdout.write("  仮コード（市の受領するデータ標準レイアウトで置き換える）")
            for ds in entry.datasets:
                items = entry.items_of(ds, version) if version else ds.items
                self.stdout.write(f"  データセット {ds.number} {ds.name}: 項目 {len(items)}")
        rules = allow_list()
        self.stdout.write("情報照会の許可リスト:")
        for purpose, rows in rules.purposes.items():
            self.stdout.write(f"  {purpose.value}: {', '.join(sorted(rows)) or '（なし）'}")

    def _query(self, options: dict[str, Any]) -> None:
        actor = None
        if options["user"]:
            actor = get_user_model().objects.filter(username=options["user"]).first()
            if actor is None:
                self._fail(f"職員 {options['user']} がいません")
        try:
            query = info_query_request(
                actor=actor, atena_no=options["atena"], row=options["row"],
                purpose=options["purpose"],
            )  # fmt: skip
        except InfoQueryRefused as error:
            self._fail(f"照会を拒否しました: {error}")
        except InfoQueryError as error:
            self._fail(str(error))
        self.stdout.write(f"処理通番 {query.serial}（依頼: 未送信）")

    def _export_requests(self, options: dict[str, Any]) -> None:
        try:
            on = dt.date.fromisoformat(options["date"]) if options["date"] else None
        except ValueError:
            self._fail(f"作成日 {options['date']!r} は YYYY-MM-DD で指定してください")
        made = info_query_requests_export(actor=None, on=on or timezone.localdate())
        if made is None:
            self.stdout.write("未送信の照会はありません")
            return
        file, path = made
        self.stdout.write(f"照会依頼 通番 {file.sequence} {file.record_count:,}件: {path}")
        self.stdout.write("  推定レイアウト（確度Dの項目を含む）")

    def _import_results(self, options: dict[str, Any]) -> None:
        path = options["file"]
        if not path.is_file():
            self._fail(f"{path}: ファイルがありません")
        try:
            outcome = info_query_results_import(path=path, actor=None)
        except InfoQueryError as error:
            self._fail(f"取込拒否: {error}")
        self.stdout.write(outcome.format())
