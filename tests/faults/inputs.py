"""Input files for the fault harness, written from the state a job starts from.

Run inside a state's environment (`python -m tests.faults.inputs KIND PATH`): the demo's own
generators read that state's residents, so the file is what the city would have been sent.
"""

import datetime as dt
import os
import sys
from pathlib import Path


def main(kind: str, path: Path, month: str, seed: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kokuho.settings")
    import django

    django.setup()
    first = dt.date.fromisoformat(f"{month}-01") if month else dt.date.today()
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "residents_changes":
        from kokuho.demo.changes import changes_generate

        written = changes_generate(
            month=first, seed=seed, directory=path.parent, today=dt.date.today()
        )
        Path(written.path).rename(path)
    elif kind == "claims":
        from kokuho.demo.claims import claims_csv_write

        claims_csv_write(path, month=first, seed=seed)
    elif kind == "myna_status":
        from kokuho.demo.myna_file import demo_myna_file_write

        demo_myna_file_write(path=path, on=first, seed=seed)
    elif kind == "pay_date":
        # The first 支払日 a file sent now can carry, as the payment run would be asked for.
        from django.utils import timezone

        from kokuho.payments.calendar import earliest_pay_date
        from kokuho.payments.config import payment_config_load

        config = payment_config_load()
        day = earliest_pay_date(profile=config.profile, sent_at=timezone.localtime())
        path.write_text(day.isoformat())
    else:
        raise SystemExit(f"unknown input kind: {kind}")


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
