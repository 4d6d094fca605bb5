"""The demo's 高額介護合算 year: a 介護 side's 自己負担額証明書 file, then the yearly run.

One insured person in ten aged 65 or over on the 基準日 used care services that year; the
file (CSV, as the 介護保険 system sends it) is generated once under `var/demo/`, imported
through the real importer and the year computed by `gassan_year_run`. Deterministic for
a seed; a second demo finds every certificate kept and computes the year again.
"""

import csv
import datetime as dt
import random
from pathlib import Path
from typing import Any

from kokuho.benefits.gassan.engine import period_of
from kokuho.benefits.gassan.models import GassanRun
from kokuho.benefits.gassan.yearly import CERT_HEADER, gassan_application_register
from kokuho.benefits.lifecycle.models import BenefitApplication
from kokuho.benefits.lifecycle.services import BenefitError, benefit_decide
from kokuho.eligibility.selectors import insured_period_on
from kokuho.payments.models import Benefit
from kokuho.payments.services import AccountError, AccountInput
from kokuho.people.models import Person

CARE_SHARE = 0.1
CARE_INSURER = "389998"  # the demo city's 介護保険者番号 (synthetic)


def demo_care_certificates_write(*, path: Path, year: int, seed: int) -> int:
    _, reference_day = period_of(year)
    oldest = reference_day.replace(year=reference_day.year - 75)
    youngest = reference_day.replace(year=reference_day.year - 65)
    rng = random.Random(f"demo-care-{seed}-{year}")
    rows = []
    candidates = Person.objects.filter(birth_date__gt=oldest, birth_date__lte=youngest).order_by(
        "pk"
    )
    for person in candidates.iterator(chunk_size=2000):
        if rng.random() >= CARE_SHARE:
            continue
        if insured_period_on(person=person, on=reference_day) is None:
            continue
        amount = rng.randrange(120000, 900000, 100)
        rows.append(
            (
                f"K{year}-{person.pk:08d}",
                person.atena_no,
                person.birth_date.isoformat(),
                year,
                CARE_INSURER,
                amount,
            )
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(CERT_HEADER)
        writer.writerows(rows)
    return len(rows)


def demo_gassan_year(today: dt.date) -> int:
    """The latest 計算期間 whose 基準日 has passed."""
    year = today.year - 1 if today.month >= 8 else today.year - 2
    return year


def demo_gassan_decide(*, run: GassanRun, seed: int, on: dt.date, actor: Any) -> int:
    """Every paid household of the run applies (once per household and year) and is decided."""
    applied = {
        (a.household_id, a.facts.get("year"))
        for a in BenefitApplication.objects.filter(benefit=Benefit.GASSAN)
    }
    decided = 0
    for result in run.results.filter(paid=True).select_related("household__head", "run"):
        if (result.household_id, run.year) in applied:
            continue
        rng = random.Random(f"demo-gassan-{seed}-{run.year}-{result.household_id}")
        head = result.household.head
        holder = head.name_kana if head is not None else "ミカン タロウ"
        bank, branch = rng.choice((("0174", "100"), ("0576", "001"), ("0001", "001")))
        try:
            application = gassan_application_register(
                result=result,
                received_on=on,
                account=AccountInput(bank, branch, 1, f"{rng.randint(0, 9999999):07d}", holder),
                attachments={"care_certificate": True},
                actor=actor,
            )
            benefit_decide(application=application, actor=actor, decided_on=on)
        except (BenefitError, AccountError):
            continue
        decided += 1
    return decided
