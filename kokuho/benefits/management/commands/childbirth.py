"""`kokuho childbirth import FILE --user USERNAME [--decided-on DATE]` — the 国保連's
monthly 出産育児一時金 直接支払制度 file (layout: `kokuho.benefits.entrusted.childbirth`):
checked whole, each birth decided, the hospitals' part paid to the 国保連 and the 差額 to
the household. Exit 2 with every bad line (line, field, reason) when the file is refused."""

import datetime as dt
import sys
from pathlib import Path
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandParser

from kokuho.benefits.management.commands.entrusted import batch_actor


class Command(BaseCommand):
    help = "出産育児一時金 直接支払制度分（国保連合会の月次ファイル）を取り込み、決定します"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        read = sub.add_parser("import", help="直接支払制度分のファイルを取り込む")
        read.add_argument("file", type=Path)
        read.add_argument("--user", required=True, help="決定者（給付担当）のユーザー名")
        read.add_argument("--decided-on", type=dt.date.fromisoformat, help="決定日（既定: 今日）")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        from kokuho.benefits.entrusted.childbirth import childbirth_import
        from kokuho.benefits.entrusted.common import BatchFileError

        file: Path = options["file"]
        if not file.exists():
            self._fail(f"{file}: ファイルがありません")
        try:
            actor = batch_actor(options["user"])
            summary = childbirth_import(path=file, actor=actor, decided_on=options["decided_on"])
        except LookupError as error:
            self._fail(str(error))
        except BatchFileError as error:
            self._fail("\n".join([f"{file.name}: 取り込めません（何も記録していません）"]
                                 + [f"  {p}" for p in error.problems]))  # fmt: skip
        self.stdout.write(summary.format())

    def _fail(self, message: str) -> NoReturn:
        self.stderr.write(message)
        sys.exit(2)
