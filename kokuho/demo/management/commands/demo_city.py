"""`kokuho demo_city` — generate the demo city (デモ市) once, then print its 概況.

Running it again on a database that already has residents changes nothing and only prints
the summary, so `make demo` can run it every time.
"""

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from kokuho.core.wareki import WarekiError, format_both, parse_date
from kokuho.demo.city import city_exists, city_generate, city_load
from kokuho.demo.report import city_summary, format_summary


class Command(BaseCommand):
    help = "デモ市（みかん市）を生成して読み込み、概況を表示します。生成済みなら生成を省略します。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--households", type=int, default=3000, help="世帯数（既定 3000）")
        parser.add_argument("--seed", type=int, default=1, help="乱数の種（既定 1）")
        parser.add_argument("--on", default=None, help="基準日 YYYY-MM-DD（和暦も可。既定: 今日）")
        parser.add_argument("--no-progress", action="store_true", help="進捗バーを表示しない")

    def handle(
        self, *args: Any, households: int, seed: int, on: str | None, **options: Any
    ) -> None:
        if households < 1:
            raise CommandError("--households は 1 以上を指定してください")
        try:
            base_date: date = parse_date(on) if on else timezone.localdate()
        except WarekiError as exc:
            raise CommandError(f"--on: {exc}") from exc
        progress = not options["no_progress"]
        if city_exists():
            self.stdout.write("デモ市は既に生成済みです。生成を省略します。")
        else:
            when = format_both(base_date)
            self.stdout.write(
                f"デモ市を生成します: {households:,} 世帯, seed={seed}, 基準日 {when}"
            )
            data = city_generate(households=households, seed=seed, on=base_date, progress=progress)
            stats = city_load(data, source=f"demo-city seed={seed}", progress=progress)
            self.stdout.write(f"読み込み完了: {stats}")
        self.stdout.write("")
        self.stdout.write(format_summary(city_summary(on=base_date)))
