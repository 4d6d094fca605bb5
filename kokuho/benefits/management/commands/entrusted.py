"""`kokuho entrusted import FILE --user USERNAME [--decided-on DATE]` — the 国保連's monthly
柔整・あはき 受領委任 file (layout: `kokuho.benefits.entrusted.jusei`): checked whole, each
line decided as a 療養費, one payment per 施術所; the unmatched and duplicate lines listed.
Exit 2 with every bad line (line, field, reason) when the file is refused.

`BatchImportCommand` is shared with `kokuho childbirth import` (the 直接支払制度 file)."""

import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser


def batch_actor(username: str) -> Any:
    actor = get_user_model().objects.filter(username=username, is_active=True).first()
    if actor is None:
        raise LookupError(f"ユーザー {username} は登録されていません（決定者を --user で指定）")
    return actor


class BatchImportCommand(BaseCommand):
    """`import FILE --user U [--decided-on D]` of one of the 国保連's monthly files."""

    import_help = ""

    def importer(self) -> Callable[..., Any]:
        raise NotImplementedError

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        read = sub.add_parser("import", help=self.import_help)
        read.add_argument("file", type=Path)
        read.add_argument("--user", required=True, help="決定者（給付担当）のユーザー名")
        read.add_argument("--decided-on", type=dt.date.fromisoformat, help="決定日（既定: 今日）")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        from kokuho.benefits.entrusted.common import BatchFileError

        file: Path = options["file"]
        if not file.exists():
            self._fail(f"{file}: ファイルがありません")
        try:
            actor = batch_actor(options["user"])
            summary = self.importer()(path=file, actor=actor, decided_on=options["decided_on"])
        except LookupError as error:
            self._fail(str(error))
        except BatchFileError as error:
            self._fail("\n".join([f"{file.name}: 取り込めません（何も記録していません）"]
                                 + [f"  {p}" for p in error.problems]))  # fmt: skip
        self.stdout.write(summary.format())

    def _fail(self, message: str) -> NoReturn:
        self.stderr.write(message)
        sys.exit(2)


class Command(BatchImportCommand):
    help = "柔整・あはき 受領委任分（国保連合会の月次ファイル）を取り込み、療養費を決定します"
    import_help = "受領委任分のファイルを取り込む"

    def importer(self) -> Callable[..., Any]:
        from kokuho.benefits.entrusted.jusei import entrusted_import

        return entrusted_import
