"""`kokuho rules show [--month YYYY-MM | --on YYYY-MM-DD] [PREFIX]` — which value of each
dated parameter applies, since when, on which legal reference, and whether it is confirmed.

A month is computed with the values in force on its first day (benefits.md: 診療月), so
`--month` looks at that day; `--on` at any day. Provisional values are marked 未確定 with
their source: a computation that needs one is refused (`Parameter.confirmed_at`).
"""

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kokuho.rules.params import ParameterError, parameters


def _day(month: str | None, on: str | None) -> dt.date:
    try:
        if month:
            return dt.datetime.strptime(month, "%Y-%m").date()
        if on:
            return dt.date.fromisoformat(on)
    except ValueError:
        raise CommandError(
            f"日付の形式が不正です: {month or on}（--month YYYY-MM / --on YYYY-MM-DD）"
        ) from None
    raise CommandError("--month か --on を指定してください。")


def _text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else str(value)


class Command(BaseCommand):
    help = "法令パラメータ: 指定した月（日）に適用される値・適用開始日・根拠・確定状況を表示します"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        show = sub.add_parser("show", help="適用される値を表示します")
        show.add_argument("prefix", nargs="?", default="", help="名前の先頭（例: kogaku）")
        show.add_argument("--month", help="診療月 YYYY-MM（その月の1日の値）")
        show.add_argument("--on", help="基準日 YYYY-MM-DD")

    def handle(self, *args: Any, prefix: str, month: str | None, on: str | None, **_: Any) -> None:
        day = _day(month, on)
        names = sorted(n for n in parameters().by_name if n.startswith(prefix))
        if not names:
            raise CommandError(f"パラメータ {prefix!r} はありません。")
        unconfirmed = 0
        self.stdout.write(f"{day.isoformat()} に適用される値（{len(names)} 件）")
        for name in names:
            parameter = parameters().get(name)
            self.stdout.write("")
            self.stdout.write(f"{name} — {parameter.description}")
            try:
                entry = parameter.entry_at(day)
            except ParameterError as error:
                self.stdout.write(f"  値なし: {error}")
                continue
            later = [v.start for v in parameter.values if v.start > day]
            mark = "確定" if entry.confirmed else "未確定（この値を使う計算は拒否されます）"
            self.stdout.write(f"  値: {_text(entry.value)} {parameter.unit}")
            self.stdout.write(f"  適用開始: {entry.start.isoformat()}  状態: {mark}")
            self.stdout.write(f"  根拠: {entry.reference}")
            if entry.source:
                self.stdout.write(f"  出典: {entry.source}")
            if later:
                self.stdout.write(f"  次の改定: {later[0].isoformat()}")
            unconfirmed += not entry.confirmed
        self.stdout.write("")
        self.stdout.write(f"未確定の値: {unconfirmed} 件")
