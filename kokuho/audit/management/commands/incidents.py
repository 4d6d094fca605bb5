"""`kokuho incidents reminders [--on DATE]` — what cron runs each morning.

Prints the 速報・確報 of open incidents that are 期限間近 or 期限超過 and the 本人通知 not yet
recorded; always exits 0 (a reminder is not a failure of the job).
"""

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from kokuho.audit.selectors import DeadlineState, incident_reminders
from kokuho.core.wareki import WarekiError, format_both, parse_date


def _date(text: str) -> dt.date:
    try:
        return parse_date(text)
    except WarekiError as error:
        raise CommandError(str(error)) from None


class Command(BaseCommand):
    help = "重大事故等: reminders（報告期限の近い・過ぎた事案と本人通知の未記録を表示）"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        reminders = sub.add_parser("reminders", help="期限間近・期限超過の報告を表示します")
        reminders.add_argument("--on", type=_date, help="基準日（既定: 今日）。例: 2026-12-01")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "reminders":
            self._reminders(options.get("on") or timezone.localdate())

    def _reminders(self, on: dt.date) -> None:
        found = incident_reminders(on=on)
        self.stdout.write(f"基準日 {format_both(on)}")
        if not found:
            self.stdout.write("期限の近い・過ぎた報告はありません。")
            return
        for status in found:
            incident = status.incident
            self.stdout.write(f"#{incident.pk} {incident.title}")
            for deadline in status.pending:
                if deadline.state == DeadlineState.ON_TRACK:
                    continue
                days = (
                    f"{-deadline.days_left}日超過"
                    if deadline.days_left < 0
                    else f"あと{deadline.days_left}日"
                )
                self.stdout.write(
                    f"  【{deadline.state}】{deadline.kind.label} 期限 {format_both(deadline.due)}"
                    f"（{days}）"
                )
            if status.needs_notification:
                self.stdout.write("  【未記録】本人通知")
