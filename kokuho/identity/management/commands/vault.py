"""`kokuho vault init | status | rotate-keys [--retire-old]` — the vault's keys."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kokuho.identity.keys import VaultKeyError
from kokuho.identity.services import vault_key_ring, vault_keys_rotate, vault_status


class Command(BaseCommand):
    help = "個人番号保管庫（ID連携）の暗号鍵: init（鍵ファイル作成）, status, rotate-keys"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("init", help="鍵ファイルがなければ作成します")
        sub.add_parser("status", help="鍵ごとの件数（個人番号は表示しません）")
        rotate = sub.add_parser("rotate-keys", help="新しい鍵を作り、全件のデータ鍵を再暗号化")
        rotate.add_argument(
            "--retire-old", action="store_true", help="使われなくなった古い鍵を鍵ファイルから削除"
        )

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        try:
            if action == "init":
                ring = vault_key_ring(create=True)
                self.stdout.write(f"鍵ファイルを確認しました（有効な鍵: {ring.active}）")
            elif action == "status":
                status = vault_status()
                self.stdout.write(f"登録件数 {status['links']:,} 件、有効な鍵 {status['active']}")
                for kek_id in status["keks"]:
                    count = status["per_kek"].get(kek_id, 0)
                    self.stdout.write(f"  {kek_id}: {count:,} 件")
            else:
                done = vault_keys_rotate(retire_old=options["retire_old"])
                self.stdout.write(
                    f"新しい鍵 {done.new_kek_id} で {done.rewrapped:,} 件を再暗号化しました"
                    + (f"。削除した鍵: {', '.join(done.retired)}" if done.retired else "")
                )
        except VaultKeyError as error:
            raise CommandError(str(error)) from None
