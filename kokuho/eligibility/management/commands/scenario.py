"""`kokuho scenario run FILE` — see scenarios.md. JSON on stdout; exit 2 on invalid input."""

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from kokuho.core.schema_template import migrate_from_template
from kokuho.eligibility.scenario import ScenarioError, scenario_load, scenario_run


class Command(BaseCommand):
    help = "シナリオ（YAML/JSON）を実際のサービスで実行し、資格の結果を JSON で出力します。"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("run", help="シナリオを実行する")
        run.add_argument("file", type=Path)

    def handle(self, *args: Any, action: str, file: Path, **options: Any) -> None:
        from django.conf import settings

        if not settings.KOKUHO_SCENARIO_MODE:
            self.stderr.write(
                "scenario run は kokuho コマンドから実行してください（一時DBを使います）"
            )
            sys.exit(2)
        try:
            scenario = scenario_load(file, today=timezone.localdate())
        except ScenarioError as error:
            self.stderr.write(f"{file}: {error}")
            sys.exit(2)
        # A fresh database each time, brought to the schema by copy when it can be.
        migrate_from_template("default")
        migrate_from_template("vault")
        try:
            answer = scenario_run(scenario)
        except ScenarioError as error:
            self.stderr.write(f"{file}: {error}")
            sys.exit(2)
        self.stdout.write(json.dumps(answer, ensure_ascii=False, indent=2))
