"""A demo マイナ保険証 registration-status file, as the national side would send it, in the
layout of `kokuho.interfaces.myna` — so the demo's statuses can go through the real
importer (`kokuho import myna-status`).

One row per person insured on the 基準日, under their newest 記号・番号・枝番: about 7 in 10
利用登録済み, the rest 未登録, 利用登録の解除 or 電子証明書の有効期限切れ. Depends only on
the database, the day and `seed`.
"""

import csv
import datetime as dt
import random
from pathlib import Path

from django.conf import settings

from kokuho.certificates.models import MynaStatus
from kokuho.certificates.renewal import insured_on
from kokuho.eligibility.models import BranchNumber
from kokuho.interfaces.myna import LAYOUT, STATUS_CODES

_WEIGHTS = (
    (MynaStatus.REGISTERED, 70),
    (MynaStatus.UNREGISTERED, 20),
    (MynaStatus.CANCELLED, 4),
    (MynaStatus.CARD_EXPIRED, 6),
)
_CODE_OF: dict[MynaStatus, str] = {status: code for code, status in STATUS_CODES.items()}


def demo_myna_file_write(*, path: Path, on: dt.date, seed: int) -> int:
    """Write the status file of `on` for the persons insured that day; rows written."""
    persons = insured_on(on)
    newest: dict[int, tuple[str, str, str]] = {}
    rows = (
        # Newest number whatever its date: the file is written now about the state on `on`
        # (the demo city's numbers are assigned when it is first derived).
        BranchNumber.objects.filter(person_id__in=persons)
        .order_by("person_id", "assigned_on", "id")
        .values_list("person_id", "household_number__symbol", "household_number__number", "branch")
    )
    for person_id, symbol, number, branch in rows:
        newest[person_id] = (symbol, number, branch)  # the last one per person is the newest
    rnd = random.Random(seed * 104729 + 31)
    statuses = [s for s, _ in _WEIGHTS]
    weights = [w for _, w in _WEIGHTS]
    written = 0
    with Path(path).open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(LAYOUT.names)
        for person_id in persons:
            if person_id not in newest:
                continue
            symbol, number, branch = newest[person_id]
            status = rnd.choices(statuses, weights)[0]
            writer.writerow(
                [
                    f"MY{on:%Y%m%d}{person_id:09d}",
                    settings.KOKUHO_INSURER_NUMBER,
                    symbol,
                    number,
                    branch,
                    _CODE_OF[status],
                    on.isoformat(),
                ]
            )
            written += 1
    return written
