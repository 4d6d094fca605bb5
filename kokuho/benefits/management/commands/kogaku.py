"""高額療養費 commands.

`kokuho kogaku calc FILE [--provisional]` — one household, one 診療月 (scenarios.md §2).
JSON on stdout; exit 2 with one line (file, place in the document, reason) on invalid
input or on a month whose limits are not confirmed. The computation is the monthly run's
engine (`kokuho.benefits.kogaku.engine`), fed one household.

`kokuho kogaku run --month YYYY-MM [--queue]` — the monthly run, in the foreground with its
progress (or queued for the worker); exit 2 when the month's limits are not confirmed.
A run of a decided month decides it again (変更決定, `kokuho.benefits.kogaku.recompute`).

`kokuho kogaku recompute [--month YYYY-MM]` — the months noted for re-computation (or one
month): each is run again and its decided households decided again.

`kokuho kogaku outpatient-year --year YYYY` — the 70–74 外来年間合算 of the cap year that
began on 8/1 of YYYY (after its 基準日 7/31 of the next year).
"""

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import yaml
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kokuho.benefits.kogaku.calc_input import CalcInputError, calc_input_parse
from kokuho.benefits.kogaku.explain import outcome_json
from kokuho.benefits.kogaku.household import household_compute
from kokuho.benefits.kogaku.rules import month_rules
from kokuho.rules.params import ParameterError


class Command(BaseCommand):
    help = "高額療養費: 1世帯・1診療月を計算して JSON で出力します（kogaku calc）"
    # The calculation reads no database and serves no pages: it runs without the checks.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        calc = sub.add_parser("calc", help="1世帯・1診療月の高額療養費を計算する")
        calc.add_argument("file", type=Path)
        calc.add_argument(
            "--provisional",
            action="store_true",
            help="未確定（provisional）の限度額で試算する（結果は決定に使えません）",
        )

        run = sub.add_parser("run", help="診療月の全世帯を計算する（月次計算）")
        run.add_argument("--month", required=True, help="診療月 YYYY-MM")
        run.add_argument("--queue", action="store_true", help="バックグラウンド処理に登録する")
        run.add_argument("--no-progress", action="store_true", help="進捗を表示しない")

        recompute = sub.add_parser("recompute", help="再計算の対象の月を計算し直す（変更決定）")
        recompute.add_argument("--month", help="診療月 YYYY-MM（省略時は再計算の対象のすべての月）")

        year = sub.add_parser("outpatient-year", help="70〜74歳の外来年間合算を精算する")
        year.add_argument("--year", type=int, required=True, help="計算期間の開始年（8月1日〜）")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "calc":
            self._calc(options["file"], provisional=options["provisional"])
        elif action == "recompute":
            self._recompute(options["month"])
        elif action == "outpatient-year":
            self._outpatient_year(options["year"])
        else:
            self._run(options["month"], queue=options["queue"], quiet=options["no_progress"])

    def _recompute(self, month_text: str | None) -> None:
        from kokuho.benefits.kogaku.recompute import kogaku_recompute, kogaku_recompute_months
        from kokuho.benefits.kogaku.run import kogaku_run_summary
        from kokuho.benefits.models import KogakuRunStatus

        if month_text:
            try:
                months = [dt.datetime.strptime(month_text, "%Y-%m").date()]
            except ValueError:
                self._fail(f"診療月は YYYY-MM で指定します: {month_text!r}")
        else:
            months = [month for month, _count in kogaku_recompute_months()]
        if not months:
            self.stdout.write("再計算の対象の月はありません")
            return
        for month in months:
            run = kogaku_recompute(month=month, actor=None)
            if run.status != KogakuRunStatus.DONE:
                self._fail(f"{month:%Y-%m}: {run.error_message}")
            self.stdout.write(kogaku_run_summary(run))

    def _outpatient_year(self, year: int) -> None:
        from kokuho.benefits.kogaku.outpatient_year import (
            OutpatientYearError,
            kogaku_outpatient_year_settle,
        )

        try:
            s = kogaku_outpatient_year_settle(year=year, actor=None)
        except (OutpatientYearError, ParameterError) as error:
            self._fail(str(error))
        self.stdout.write(
            f"外来年間合算 {year}年8月〜{year + 1}年7月（基準日 {year + 1}-07-31）\n"
            f"  対象者 {s.members:,} 人・精算 {s.settled:,} 人・"
            f"支給額 合計 {s.total_benefit:,} 円\n"
            f"  変更なし {s.unchanged:,} 人・追加支給 {s.additional:,} 円・返納 {s.refund:,} 円\n"
            f"  口座未登録のため支払待ち（申請待ち） {s.awaiting_account:,} 人"
        )

    def _run(self, month_text: str, *, queue: bool, quiet: bool) -> None:
        from kokuho.benefits.kogaku.run import (
            kogaku_run_create,
            kogaku_run_execute,
            kogaku_run_submit,
            kogaku_run_summary,
        )
        from kokuho.benefits.models import KogakuRunStatus

        try:
            month = dt.datetime.strptime(month_text, "%Y-%m").date()
        except ValueError:
            self._fail(f"診療月は YYYY-MM で指定します: {month_text!r}")
        if queue:
            run = kogaku_run_submit(month=month, actor=None)
            self.stdout.write(f"月次計算 {month:%Y-%m} を登録しました（受付番号 {run.pk}）")
            return
        last: list[str] = []

        def progress(stage: str, done: int, total: int) -> None:
            line = f"{stage}: {done:,}/{total:,}"
            if not quiet and line != (last[-1] if last else None):
                self.stderr.write(line)
                last.append(line)

        run = kogaku_run_execute(
            run_id=kogaku_run_create(month=month, actor=None).pk, on_progress=progress
        )
        if run.status == KogakuRunStatus.REFUSED:
            self._fail(run.error_message)
        if run.status == KogakuRunStatus.FAILED:
            raise CommandError(run.error_message)
        self.stdout.write(kogaku_run_summary(run))

    def _fail(self, message: str) -> None:
        self.stderr.write(message)
        sys.exit(2)

    def _calc(self, file: Path, *, provisional: bool) -> None:
        try:
            document = yaml.safe_load(file.read_text(encoding="utf-8-sig"))
        except OSError as error:
            self._fail(f"{file}: 読めません: {error.strerror}")
        except (yaml.YAMLError, UnicodeDecodeError) as error:
            self._fail(f"{file}: YAML/JSON として読めません: {str(error).splitlines()[0]}")
        try:
            household = calc_input_parse(document, provisional=provisional)
            outcome = household_compute(
                household, month_rules(household.month, provisional=provisional)
            )
        except CalcInputError as error:
            self._fail(f"{file}: {error}")
        except ParameterError as error:
            self._fail(f"{file}: {error}")
        self.stdout.write(json.dumps(outcome_json(outcome), ensure_ascii=False, indent=2))
