"""`kokuho api-clients create NAME --kind KIND [--scope S …] [--user U]` — register a city
system and print its token (shown this once);
`kokuho api-clients rotate NAME [--overlap-seconds N] [--user U]` — a new token, the old
one valid N more seconds (default `KOKUHO_API_TOKEN_OVERLAP_SECONDS`, 0);
`kokuho api-clients revoke NAME [--reason R] [--user U]` — the client and its tokens stop;
`kokuho api-clients list [--json]` — every client, its scopes and tokens (never a token).

Exit 2 on a refusal (unknown name, scope not allowed for the system, revoked client).
"""

import json
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from kokuho.cityapi.models import ApiClient
from kokuho.cityapi.scopes import KIND_SCOPES, SystemKind
from kokuho.cityapi.selectors import api_clients
from kokuho.cityapi.services import (
    ApiClientError,
    IssuedToken,
    api_client_create,
    api_client_revoke,
    api_client_rotate,
)


def _local(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


class Command(BaseCommand):
    help = "API利用システム: create（登録）/ rotate（鍵の再発行）/ revoke（失効）/ list（一覧）"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        kinds = ", ".join(f"{k.value}（{k.label}）" for k in SystemKind)
        create = sub.add_parser("create", help="システムを登録してトークンを発行します")
        create.add_argument("name", help="名称（英小文字・数字・-・_）")
        create.add_argument(
            "--kind", required=True, choices=[k.value for k in SystemKind], help=kinds
        )
        create.add_argument(
            "--scope",
            action="append",
            default=[],
            help="スコープ（複数可。既定: その種別に付与できるすべて）",
        )
        create.add_argument("--user", help="操作した職員のユーザー名")
        rotate = sub.add_parser("rotate", help="新しいトークンを発行します")
        rotate.add_argument("name")
        rotate.add_argument(
            "--overlap-seconds",
            type=int,
            help="古いトークンを有効にしておく秒数（既定: KOKUHO_API_TOKEN_OVERLAP_SECONDS）",
        )
        rotate.add_argument("--user")
        revoke = sub.add_parser("revoke", help="システムとそのトークンを失効させます")
        revoke.add_argument("name")
        revoke.add_argument("--reason", default="", help="失効の理由")
        revoke.add_argument("--user")
        listing = sub.add_parser("list", help="登録済みのシステムを表示します")
        listing.add_argument("--json", action="store_true", help="JSON で出力します")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        try:
            if action == "list":
                self._list(as_json=options["json"])
                return
            actor = self._actor(options.get("user"))
            if action == "create":
                issued = api_client_create(
                    name=options["name"],
                    kind=SystemKind(options["kind"]),
                    scopes=options["scope"],
                    actor=actor,
                )
                self._issued(issued, "登録しました")
            elif action == "rotate":
                seconds = options.get("overlap_seconds")
                if seconds is not None and seconds < 0:
                    raise CommandError(
                        "--overlap-seconds は 0 以上で指定してください", returncode=2
                    )
                issued = api_client_rotate(
                    client=self._client(options["name"]),
                    actor=actor,
                    overlap=timedelta(seconds=seconds) if seconds is not None else None,
                )
                self._issued(issued, "トークンを再発行しました")
                self.stdout.write(
                    f"  古いトークンの有効期限: {_local(issued.old_tokens_expire_at)}"
                )
            elif action == "revoke":
                client = api_client_revoke(
                    client=self._client(options["name"]), actor=actor, reason=options["reason"]
                )
                self.stdout.write(f"{client.name} を失効させました（{_local(client.revoked_at)}）")
        except ApiClientError as error:
            raise CommandError(f"[{error.code}] {error}", returncode=2) from None

    def _actor(self, username: str | None) -> Any:
        if not username:
            return None
        actor = get_user_model().objects.filter(username=username).first()
        if actor is None:
            raise CommandError(f"ユーザー {username} は登録されていません", returncode=2)
        return actor

    def _client(self, name: str) -> ApiClient:
        client = ApiClient.objects.filter(name=name).first()
        if client is None:
            raise CommandError(f"API利用システム {name} は登録されていません", returncode=2)
        return client

    def _issued(self, issued: IssuedToken, done: str) -> None:
        client = issued.client
        self.stdout.write(
            f"{client.name}（{client.get_kind_display()}）を{done}。"
            f"スコープ: {', '.join(client.scopes)}"
        )
        self.stdout.write("トークン（この一度だけ表示します。安全な場所に保管してください）:")
        self.stdout.write(issued.token)

    def _list(self, *, as_json: bool) -> None:
        now = timezone.now()
        rows = []
        for client in api_clients().prefetch_related("tokens"):
            tokens = [
                {
                    "prefix": t.prefix,
                    "issued_at": _local(t.issued_at),
                    "expires_at": _local(t.expires_at),
                    "valid": client.active and (t.expires_at is None or t.expires_at > now),
                }
                for t in sorted(client.tokens.all(), key=lambda t: t.issued_at)
            ]
            rows.append(
                {
                    "name": client.name,
                    "kind": client.kind,
                    "kind_label": client.get_kind_display(),
                    "scopes": list(client.scopes),
                    "allowed_scopes": sorted(KIND_SCOPES[SystemKind(client.kind)]),
                    "active": client.active,
                    "created_at": _local(client.created_at),
                    "rotated_at": _local(client.rotated_at),
                    "revoked_at": _local(client.revoked_at),
                    "tokens": tokens,
                }
            )
        if as_json:
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        if not rows:
            self.stdout.write("登録済みの API利用システムはありません。")
        for row in rows:
            state = "有効" if row["active"] else f"失効（{row['revoked_at']}）"
            valid = [t["prefix"] + "…" for t in row["tokens"] if t["valid"]]
            self.stdout.write(
                f"{row['name']}  {row['kind_label']}  {state}  スコープ: {', '.join(row['scopes'])}"
                f"  有効なトークン: {', '.join(valid) or 'なし'}"
            )
