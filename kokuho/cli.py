"""The `kokuho` console script: the project's manage.py."""

import os
import secrets
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kokuho.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv)
    if len(argv) > 1 and not argv[1].startswith("-"):
        # `kokuho demo-city` is the documented spelling; Django modules cannot hold hyphens.
        argv[1] = argv[1].replace("-", "_")
    if argv[1:2] == ["scenario"]:
        # The runner works on a fresh temporary database every time (scenarios.md), never on
        # the installation's data — whatever the environment points at.
        os.environ["KOKUHO_DATABASE_URL"] = "sqlite://:memory:"
        os.environ["KOKUHO_VAULT_DATABASE_URL"] = "sqlite://:memory:"
        os.environ["KOKUHO_SCENARIO_MODE"] = "1"
        os.environ.setdefault("KOKUHO_SECRET_KEY", secrets.token_urlsafe(32))
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
