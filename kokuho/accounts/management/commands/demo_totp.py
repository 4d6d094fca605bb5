"""`kokuho demo-totp USERNAME`: the current TOTP code of a demo account (demo only)."""

from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kokuho.accounts.services import mfa_code_for_demo


class Command(BaseCommand):
    help = "デモ用アカウントの現在の確認コード（TOTP）を表示します（デモ用アカウント以外は拒否）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        user = User.objects.select_related("staff_profile").filter(username=username).first()
        try:
            code = mfa_code_for_demo(user=user)
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(code)
