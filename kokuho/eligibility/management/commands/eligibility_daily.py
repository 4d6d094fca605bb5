"""`kokuho eligibility-daily [--date D]` — the daily age job (年齢到達処理)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from kokuho.core.wareki import WarekiError, parse_date
from kokuho.eligibility.daily import age_events_apply


class Command(BaseCommand):
    help = "年齢到達（75歳・70歳・未就学の終了）を処理します。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--date", default=None, help="処理日（既定: 今日。例 2026-11-24 / R8.11.24）"
        )

    def handle(self, *args: Any, date: str | None, **options: Any) -> None:
        try:
            on = parse_date(date) if date else timezone.localdate()
        except WarekiError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(age_events_apply(on=on).format())
