"""`kokuho serve [--bind ADDRESS] [--workers N]` — the production web server.

gunicorn with `kokuho/gunicorn_conf.py` (workers, timeouts, JSON access log without query
strings); the options override its environment variables. The process becomes gunicorn's
master (exec), so systemd's stop and reload signals reach it directly
(deploy/kokuho-web.service). Refused while `KOKUHO_DEBUG=1`.
"""

import logging
import os
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "本番用 Web サーバー（gunicorn）を起動します（docs/operations.md）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", help="待ち受け先（既定: KOKUHO_WEB_BIND、127.0.0.1:8000）")
        parser.add_argument("--workers", type=int, help="ワーカー数（既定: KOKUHO_WEB_WORKERS）")

    def handle(self, *args: Any, bind: str | None, workers: int | None, **options: Any) -> None:
        if settings.DEBUG:
            raise CommandError("KOKUHO_DEBUG=1 のままでは本番用サーバーを起動できません")
        engines = {db["ENGINE"] for db in settings.DATABASES.values()}
        if "django.db.backends.sqlite3" in engines:
            logger.warning("SQLite で起動します（本番は PostgreSQL: docs/operations.md）")
        argv = [sys.executable, "-m", "gunicorn", "--config", "python:kokuho.gunicorn_conf"]
        if bind:
            argv += ["--bind", bind]
        if workers:
            argv += ["--workers", str(workers)]
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, argv)  # noqa: S606 — our own interpreter, fixed arguments
