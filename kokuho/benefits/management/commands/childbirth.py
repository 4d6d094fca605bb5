"""`kokuho childbirth import FILE --user USERNAME [--decided-on DATE]` — the 国保連's
monthly 出産育児一時金 直接支払制度 file (layout: `kokuho.benefits.entrusted.childbirth`):
checked whole, each birth decided, the hospitals' part paid to the 国保連 and the 差額 to
the household. Exit 2 with every bad line (line, field, reason) when the file is refused."""

from collections.abc import Callable
from typing import Any

from kokuho.benefits.management.commands.entrusted import BatchImportCommand


class Command(BatchImportCommand):
    help = "出産育児一時金 直接支払制度分（国保連合会の月次ファイル）を取り込み、決定します"
    import_help = "直接支払制度分のファイルを取り込む"

    def importer(self) -> Callable[..., Any]:
        from kokuho.benefits.entrusted.childbirth import childbirth_import

        return childbirth_import
