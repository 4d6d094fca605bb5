"""The national links' commands.

`kokuho national export shuyaku [--full] [--date YYYY-MM-DD]` — the 国保情報集約システム's
資格情報（世帯）, 資格情報（個人） and 世帯所得区分情報 for the 基準日 (today by default): the full
extract with `--full`, then deltas; files under `KOKUHO_NATIONAL_DIR/<feed>/`. A date already
made writes the same bytes again. Every run says whether the layout is assumed.

`kokuho national import-result FILE` — a 処理結果, checked whole (exit 2 with one message);
also a 資格継続チェック結果 or 高額該当引継 候補, by the control record's layout id.

`kokuho national status [--json]` — per feed: last sequence, last sent, unacknowledged
files, open work items and the alert.
"""

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from kokuho.national.feeds import export_targets, feeds_of
from kokuho.national.inbound import NationalInboundRejected, national_inbound_import
from kokuho.national.layouts import LayoutError
from kokuho.national.ledger import NationalExportError, national_export
from kokuho.national.results import NationalResultRejected, national_result_import
from kokuho.national.selectors import national_status


class Command(BaseCommand):
    help = (
        "国・国保連合会との連携ファイル: 作成（export）、処理結果の取込（import-result）、"
        "状況（status）"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export", help="連携ファイルを作成する")
        export.add_argument(
            "target",
            choices=export_targets(),
            help="shuyaku: 国保情報集約システム（onshi・fukuhon は各フィードの登録後）",
        )
        export.add_argument("--full", action="store_true", help="全件ファイル（初回）")
        export.add_argument("--date", help="基準日 YYYY-MM-DD（省略時は今日）")
        result = sub.add_parser("import-result", help="処理結果ファイルを取り込む")
        result.add_argument("file", type=Path)
        status = sub.add_parser("status", help="フィードごとの送信・処理結果の状況")
        opened = sub.add_parser("open", help="暗号化した連携ファイルを送信用に復号する（記録）")
        opened.add_argument("file", type=Path, help="*.csv.enc")
        opened.add_argument("--out", type=Path, required=True, help="復号したファイルの出力先")
        opened.add_argument("--reason", default="送信", help="読み出す理由（記録に残る）")
        status.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "export":
            self._export(options)
        elif action == "open":
            self._open(options)
        elif action == "import-result":
            self._import(options["file"])
        else:
            self._status(options["json"])

    def _fail(self, message: str) -> None:
        self.stderr.write(message)
        sys.exit(2)

    def _export(self, options: dict[str, Any]) -> None:
        try:
            as_of = dt.date.fromisoformat(options["date"]) if options["date"] else None
        except ValueError:
            self._fail(f"基準日 {options['date']!r} は YYYY-MM-DD で指定してください")
        as_of = as_of or timezone.localdate()
        for feed in feeds_of(options["target"]):
            try:
                outcome = national_export(feed=feed, as_of=as_of, full=options["full"], actor=None)
            except (NationalExportError, LayoutError) as error:
                self._fail(str(error))
            file = outcome.file
            kind = "全件" if file.full else "差分"
            again = "（作成済みの基準日: 同じファイルを再作成しました）" if outcome.repeated else ""
            self.stdout.write(
                f"{feed.label} 通番 {file.sequence} {kind} {file.record_count:,}件{again}"
            )
            self.stdout.write(f"  {outcome.layout_note}")
            for label, count in file.counts.items():
                if count:
                    self.stdout.write(f"  {label}: {count:,}件")
            for message in outcome.messages:
                self.stdout.write(f"  {message}")
            self.stdout.write(f"  ファイル: {outcome.path}")

    def _import(self, path: Path) -> None:
        if not path.is_file():
            self._fail(f"{path}: ファイルがありません")
        try:  # 資格継続チェック結果・高額該当引継 候補: dispatched on the control record's layout
            lines = national_inbound_import(path=path, actor=None)
        except NationalInboundRejected as error:
            self._fail(f"取込拒否: {error}")
        if lines is not None:
            self.stdout.write("\n".join(lines))
            return
        try:
            outcome = national_result_import(path=path, actor=None)
        except NationalResultRejected as error:
            self._fail(f"取込拒否: {error}")
        file = outcome.outbound
        self.stdout.write(
            f"処理結果 {path.name} → {file.get_feed_display()} 通番 {file.sequence}: "
            f"受付 {outcome.accepted:,}件 不備 {outcome.rejected:,}件"
        )
        if outcome.unknown:
            self.stdout.write(
                f"  送信していないレコードへの結果 {len(outcome.unknown)}件（反映していません）:"
            )
            for key in outcome.unknown:
                self.stdout.write(f"    {key}")

    def _open(self, options: dict[str, Any]) -> None:
        from kokuho.national.onshi.files import NationalFileError, national_file_open

        path, out = options["file"], options["out"]
        if not path.is_file():
            self._fail(f"{path}: ファイルがありません")
        try:
            sha = national_file_open(path=path, out=out, actor=None, reason=options["reason"])
        except NationalFileError as error:
            self._fail(f"復号できません: {error}")
        self.stdout.write(f"{path.name} → {out}（SHA-256 {sha}、読出しを記録しました）")

    def _status(self, as_json: bool) -> None:
        rows = national_status()
        if as_json:
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        for row in rows:
            last = (
                f"通番 {row['last_sequence']}"
                f"（基準日 {row['last_as_of']}、送信 {row['last_sent']}）"
                if row["last_sequence"]
                else "未送信"
            )
            self.stdout.write(f"{row['label']}: {last}")
            if row["unacknowledged"]:
                self.stdout.write(f"  処理結果未受領: 通番 {row['unacknowledged']}")
            if row["open_work_items"]:
                self.stdout.write(f"  未処理の作業項目: {row['open_work_items']}件")
            if row["alert"]:
                self.stdout.write(f"  警告: {row['alert']}")
