"""`kokuho vault init | status | rotate-keys [--retire-old] | check [--sample N | --all]` —
the vault's keys. `check` proves that the key file opens the vault (exit 1 when it does not),
printing counts and key ids only."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kokuho.identity.keys import VaultKeyError
from kokuho.identity.services import (
    vault_check,
    vault_key_ring,
    vault_keys_rotate,
    vault_status,
)


class Command(BaseCommand):
    help = "個人番号保管庫（ID連携）の暗号鍵: init（鍵ファイル作成）, status, rotate-keys, check"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("init", help="鍵ファイルがなければ作成します")
        sub.add_parser("status", help="鍵ごとの件数（個人番号は表示しません）")
        rotate = sub.add_parser("rotate-keys", help="新しい鍵を作り、全件のデータ鍵を再暗号化")
        rotate.add_argument(
            "--retire-old", action="store_true", help="使われなくなった古い鍵を鍵ファイルから削除"
        )
        check = sub.add_parser("check", help="鍵ファイルで保管庫を復号できるか確認（件数のみ表示）")
        how_many = check.add_mutually_exclusive_group()
        how_many.add_argument(
            "--sample", type=int, default=1000, help="無作為に確認する件数（既定 1000）"
        )
        how_many.add_argument("--all", action="store_true", help="全件を確認")

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
            elif action == "check":
                self._check(sample=None if options["all"] else options["sample"])
            else:
                done = vault_keys_rotate(retire_old=options["retire_old"])
                self.stdout.write(
                    f"新しい鍵 {done.new_kek_id} で {done.rewrapped:,} 件を再暗号化しました"
                    + (f"。削除した鍵: {', '.join(done.retired)}" if done.retired else "")
                )
        except VaultKeyError as error:
            raise CommandError(str(error)) from None

    def _check(self, *, sample: int | None) -> None:
        if sample is not None and sample < 0:
            raise CommandError("--sample は 0 以上を指定してください")
        found = vault_check(sample=sample)
        self.stdout.write(
            f"保管庫の確認: 登録 {found.links:,} 件のうち {found.checked:,} 件を確認し、"
            f"{found.opened:,} 件を復号できました（検査数字・検索用索引とも一致）"
        )
        self.stdout.write(f"  使用中の鍵: {', '.join(found.keks_in_use) or 'なし'}")
        if found.keks_missing:
            self.stdout.write(f"  鍵ファイルにない鍵: {', '.join(found.keks_missing)}")
        if not found.ok:
            raise CommandError(
                f"鍵ファイルで開けない行があります: {found.checked - found.opened:,} 件",
                returncode=1,
            )
