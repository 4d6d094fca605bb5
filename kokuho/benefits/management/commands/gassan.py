"""高額介護合算療養費 commands.

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

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        self._calc(options["file"])

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
