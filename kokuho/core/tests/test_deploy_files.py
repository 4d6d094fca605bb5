"""deploy/: the environment template names every setting production reads, and the systemd
units start commands and scripts that exist."""

import re
from pathlib import Path

from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
READ_FROM_ENVIRONMENT = [
    ROOT / "kokuho" / "settings.py",
    ROOT / "kokuho" / "gunicorn_conf.py",
    ROOT / "kokuho" / "cityapi" / "conf.py",
]
# Set by the program itself, never by an installation.
INTERNAL = {"KOKUHO_SCENARIO_MODE"}


def test_the_env_template_names_every_variable_the_settings_read():
    template = (DEPLOY / "kokuho.env.example").read_text(encoding="utf-8")
    listed = set(re.findall(r"^#? ?(KOKUHO_[A-Z0-9_]+)=", template, flags=re.MULTILINE))
    read = {
        name
        for path in READ_FROM_ENVIRONMENT
        for name in re.findall(r"\"(KOKUHO_[A-Z0-9_]+)\"", path.read_text(encoding="utf-8"))
    }
    assert read - INTERNAL - listed == set()
    assert listed - read == set()  # nothing listed that no code reads


def test_the_units_start_commands_and_scripts_that_exist():
    commands = set(get_commands())
    for unit in DEPLOY.glob("*.service"):
        starts = re.findall(r"^Exec\w+=(\S+)(?: (\S+))?", unit.read_text(), flags=re.MULTILINE)
        assert starts, unit
        for program, first in starts:
            if program.endswith("/.venv/bin/kokuho"):
                assert first.replace("-", "_") in commands, (unit.name, first)
            elif program.startswith("/opt/kokuho/"):
                script = ROOT / program.removeprefix("/opt/kokuho/")
                assert script.is_file() and script.stat().st_mode & 0o111, (unit.name, program)
