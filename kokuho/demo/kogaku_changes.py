"""The demo's 高額療養費 after the first decisions: a few late claims (月遅れ請求) and the
month computed again, so the demo city shows 変更決定 with 追加支給 paid by the payment run.

The late claims are written in the claims file layout for some decided households (one
member each, an outpatient claim at a clinic the month has not seen for them) and go through
the real importer; the month's run then decides those households again. Deterministic in
the seed; a second demo finds the file imported and the changes made, and does nothing.
"""

import csv
import datetime as dt
import random
from pathlib import Path

from django.conf import settings

from kokuho.benefits.models import DecisionKind, DecisionOutcome, KogakuDecision
from kokuho.demo.claims import COLUMNS, Insured, copay_of, insured_rate, persons_of_month
from kokuho.people.models import Person

LATE_HOUSEHOLDS = 5  # how many decided households get a late claim
LATE_PROVIDER = "3810099901"  # a clinic code of the demo's own range, used only here


def demo_late_claims_write(*, path: Path, month: dt.date, seed: int) -> int:
    """Write late claims of `month` for a few paid, decided households; how many."""
    decided = list(
        KogakuDecision.objects.filter(
            month=month, outcome=DecisionOutcome.PAID, replaced_by__isnull=True
        )
        .exclude(kind=DecisionKind.CHANGE)
        .order_by("household_id")
        .values_list("household_id", flat=True)
    )
    rnd = random.Random(seed * 7919 + month.year * 12 + month.month)
    chosen = sorted(rnd.sample(decided, min(LATE_HOUSEHOLDS, len(decided))))
    # One insured member of each, with the 記号・番号・枝番 and 負担割合 of the month.
    wanted = set(chosen)
    insured, _lapsed = persons_of_month(month)
    households = dict(
        Person.objects.filter(
            pk__in=[i.person_id for i in insured], household_id__in=wanted
        ).values_list("pk", "household_id")
    )
    members: dict[int, Insured] = {}
    for who in insured:
        household_id = households.get(who.person_id)
        if household_id is not None:
            members.setdefault(household_id, who)
    rows = []
    for i, household_id in enumerate(chosen, start=1):
        who = members.get(household_id)
        if who is None:
            continue
        points = rnd.randint(3_000, 12_000)
        rows.append(
            {
                "claim_id": f"L{month:%Y%m}{seed % 100:02d}{i:05d}",
                "service_month": f"{month:%Y%m}",
                "insurer_no": settings.KOKUHO_INSURER_NUMBER,
                "symbol": who.symbol,
                "number": who.number,
                "branch": who.branch,
                "provider": LATE_PROVIDER,
                "setting": "2",
                "kind": "1",
                "prescribed_by": "",
                "points": str(points),
                "copay": str(copay_of(points, insured_rate(who, month))),
                "public_payer": "",
                "specific_disease": "0",
                "limit_applied": "0",
            }
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)
