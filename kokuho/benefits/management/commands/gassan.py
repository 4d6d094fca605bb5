"""高額介護合算療養費 commands.

`kokuho gassan import FILE` — the 介護 side's 自己負担額証明書 file (checked whole).
`kokuho gassan run --year YYYY` — every household with both sides for that 計算期間.

`kokuho gassan calc FILE` — one household, one 計算期間 (8/1–7/31; payments.md §2). JSON on
stdout; exit 2 with one line (file, place in the document, reason) on invalid input or on a
year without confirmed limits. The computation is `kokuho.benefits.gassan.engine`, the
function a yearly run over the database is to call too.
"""

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import yaml
from django.core.management.base import BaseCommand, CommandParser

from kokuho.benefits.gassan.calc_input import CalcInputError, calc_input_parse
from kokuho.benefits.gassan.engine import gassan_compute
from kokuho.benefits.gassan.explain import outcome_json
from kokuho.rules.params import ParameterError


class Command(BaseCommand):
    help = "高額介護合算療養費: 1世帯・1年（8月〜7月）を計算して JSON で出力します（gassan calc）"
    # The calculation reads no database and serves no pages: it runs without the checks.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        calc = sub.add_parser("calc", help="1世帯・1年の高額介護合算療養費を計算する")
        calc.add_argument("file", type=Path)
        certificates = sub.add_parser("import", help="介護側の自己負担額証明書ファイルを取り込む")
        certificates.add_argument("file", type=Path)
        run = sub.add_parser("run", help="計算期間の全世帯を計算する（年次計算）")
        run.add_argument("--year", type=int, required=True, help="計算期間の開始年（8月〜翌7月）")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "calc":
            self._calc(options["file"])
        elif action == "import":
            self._import(options["file"])
        else:
            self._run(options["year"])

    def _import(self, file: Path) -> None:
        from kokuho.benefits.gassan.yearly import CertificateFileError, care_certificates_import

        if not file.exists():
            self._fail(f"{file}: ファイルがありません")
        try:
            self.stdout.write(care_certificates_import(path=file).format())
        except CertificateFileError as error:
            self._fail(str(error))

    def _run(self, year: int) -> None:
        from kokuho.benefits.gassan.yearly import gassan_year_run

        try:
            run = gassan_year_run(year=year)
        except ParameterError as error:
            self._fail(str(error))
        c = run.counts
        self.stdout.write(
            f"高額介護合算 {year}年8月〜{year + 1}年7月（処理番号 {run.pk}）: "
            f"証明書のある世帯 {c['households']:,}・計算 {c['computed']:,}・"
            f"支給対象 {c['paid']:,} 世帯（医療保険の負担分 合計 {c['medical_share_total']:,}円）"
            + (f"・医療か介護の一方のみ {c['one_side_only']:,}" if c["one_side_only"] else "")
        )

    def _fail(self, message: str) -> NoReturn:
        self.stderr.write(message)
        sys.exit(2)

    def _calc(self, file: Path) -> None:
        try:
            document = yaml.safe_load(file.read_text(encoding="utf-8-sig"))
        except OSError as error:
            self._fail(f"{file}: 読めません: {error.strerror}")
        except (yaml.YAMLError, UnicodeDecodeError) as error:
            self._fail(f"{file}: YAML/JSON として読めません: {str(error).splitlines()[0]}")
        try:
            household, rules = calc_input_parse(document)
            outcome = gassan_compute(household, rules)
        except (CalcInputError, ParameterError) as error:
            self._fail(f"{file}: {error}")
        self.stdout.write(json.dumps(outcome_json(outcome), ensure_ascii=False, indent=2))
