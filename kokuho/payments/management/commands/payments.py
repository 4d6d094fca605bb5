"""Payment commands.

`kokuho payments run --date YYYY-MM-DD` — the payment run of that 支払日 (payments.md §5):
the 全銀 files and the 支払明細 under `KOKUHO_PAYMENT_DIR/<date>/`, with progress on stderr
and a summary on stdout. Exit 2 on a date the bank cannot take, on nothing due, or when the
three-way reconciliation stops the run. Repeating a finished date writes the same files
again and takes nothing new.

`kokuho payments print --date YYYY-MM-DD` — the run's 支払明細書 and 支払通知書 (PDF, the
notices in files of KOKUHO_MAILING_BATCH_SIZE payees sorted by postal code).

`kokuho payments returns FILE` — the bank's 振込不能 result (CSV 支払日,顧客コード,不能理由):
checked whole (exit 2 with every bad line), then each transfer becomes a work item.

`kokuho payments list [--json]` — every run: id, date, status, file paths, count, total yen
and totals per benefit.
"""

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kokuho.payments.config import PaymentConfigError
from kokuho.payments.models import PaymentRun
from kokuho.payments.run import PaymentRunError, payment_run, payment_run_json


def run_summary(run: PaymentRun, *, repeated: bool = False) -> str:
    data = payment_run_json(run)
    lines = [
        f"支払処理 {data['date']}（処理番号 {data['id']}）: "
        f"{data['count']:,}件 {data['total_yen']:,}円"
        + ("（作成済みの支払日: 同じファイルを再作成しました）" if repeated else "")
    ]
    for label, total in data["totals"].items():
        lines.append(f"  {label}: {data['counts'][label]:,}件 {total:,}円")
    for path in data["files"] + data["prints"]:
        lines.append(f"  ファイル: {path}")
    return "\n".join(lines)


class Command(BaseCommand):
    help = (
        "支払処理: 全銀ファイルと支払明細の作成（run）、一覧（list）、振込不能・公金受取口座の取込"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("run", help="支払日の支払処理を行う")
        run.add_argument("--date", required=True, help="支払日（振込指定日） YYYY-MM-DD")
        run.add_argument("--no-progress", action="store_true", help="進捗を表示しない")
        returns = sub.add_parser("returns", help="銀行の振込不能の結果ファイルを取り込む")
        returns.add_argument("file", type=Path)
        public = sub.add_parser(
            "public-accounts", help="公金受取口座の照会結果ファイルを振込先として取り込む"
        )
        public.add_argument("file", type=Path)
        printing = sub.add_parser("print", help="支払明細書と支払通知書（PDF）を作成する")
        printing.add_argument("--date", required=True, help="支払日 YYYY-MM-DD")
        listing = sub.add_parser("list", help="支払処理の一覧")
        listing.add_argument("--json", action="store_true", help="JSON で出力する")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "run":
            self._run(options["date"], quiet=options["no_progress"])
        elif action == "print":
            self._print(options["date"])
        elif action == "returns":
            self._returns(options["file"])
        elif action == "public-accounts":
            self._public_accounts(options["file"])
        else:
            self._list(as_json=options["json"])

    def _fail(self, message: str) -> None:
        self.stderr.write(message)
        sys.exit(2)

    def _run(self, text: str, *, quiet: bool) -> None:
        try:
            pay_date = dt.date.fromisoformat(text)
        except ValueError:
            self._fail(f"支払日は YYYY-MM-DD で指定します: {text!r}")
            return

        def progress(stage: str, done: int, total: int) -> None:
            if not quiet:
                self.stderr.write(f"{stage}: {done:,}/{total:,}")

        try:
            outcome = payment_run(pay_date=pay_date, actor=None, on_progress=progress)
        except (PaymentRunError, PaymentConfigError) as error:
            self._fail(str(error))
            return
        self.stdout.write(run_summary(outcome.run, repeated=outcome.repeated))

    def _print(self, text: str) -> None:
        from kokuho.payments.models import PaymentRunStatus
        from kokuho.payments.printing import payment_run_print

        try:
            pay_date = dt.date.fromisoformat(text)
        except ValueError:
            self._fail(f"支払日は YYYY-MM-DD で指定します: {text!r}")
            return
        run = PaymentRun.objects.filter(pay_date=pay_date, status=PaymentRunStatus.DONE).first()
        if run is None:
            self._fail(f"{pay_date} の支払処理はありません")
            return
        try:
            printed = payment_run_print(run=run, actor=None)
        except ValueError as error:
            self._fail(str(error))
            return
        for entry in printed:
            self.stdout.write(f"  印刷物: {entry['path']}")

    def _returns(self, path: Path) -> None:
        from kokuho.payments.returns import ReturnFileError, payment_returns_import

        if not path.exists():
            self._fail(f"{path}: ファイルがありません")
        try:
            summary = payment_returns_import(path=path, actor=None)
        except ReturnFileError as error:
            self._fail(str(error))
            return
        self.stdout.write(summary.format())

    def _public_accounts(self, path: Path) -> None:
        from kokuho.payments.public_accounts import PublicAccountFileError, public_accounts_import

        if not path.exists():
            self._fail(f"{path}: ファイルがありません")
        try:
            summary = public_accounts_import(path=path, actor=None)
        except PublicAccountFileError as error:
            self._fail(
                "\n".join(
                    [f"{path.name}: 取り込めません（何も記録していません）"]
                    + [f"  {p}" for p in error.problems]
                )
            )
            return
        self.stdout.write(summary.format())

    def _list(self, *, as_json: bool) -> None:
        runs = [payment_run_json(r) for r in PaymentRun.objects.order_by("pay_date", "pk")]
        if as_json:
            self.stdout.write(json.dumps(runs, ensure_ascii=False, indent=1))
            return
        if not runs:
            self.stdout.write("支払処理はまだありません。")
        for r in runs:
            self.stdout.write(
                f"{r['id']:>5} {r['date']} {r['status']:<8} {r['count']:>8,}件 "
                f"{r['total_yen']:>14,}円 {r['error']}"
            )
