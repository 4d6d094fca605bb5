"""A month of synthetic 住基異動 for the demo city, written in the importer's own file layout.

The demo feeds it through the real import path (`kokuho.interfaces`), so the main job
exercises exactly what a city's monthly registry feed would. Rates are those of a regional
city (about 4% of residents move in or out in a year; births and deaths per 1,000).
"""

import csv
import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path

from kokuho.demo.city import (
    FEMALE_GIVEN_NAME_PAIRS,
    LAST_NAME_PAIRS,
    MALE_GIVEN_NAME_PAIRS,
    MUNICIPALITY,
    PREFECTURE,
    TOWNS,
)
from kokuho.people.models import Person, Relation

COLUMNS = (
    "record_id", "change_code", "change_date", "report_date", "atena_no", "household_no",
    "relation", "name", "name_kana", "birth_date", "sex", "postal_code", "address",
    "foreign", "residence_status", "residence_until", "destination", "special_address",
)  # fmt: skip

# Per resident per month (regional city): 転入・転出 ~0.35%, 出生 ~0.05%, 死亡 ~0.1%, 転居 ~0.3%.
RATES = {"A01": 0.0035, "B01": 0.0033, "A02": 0.0005, "B02": 0.0011, "C01": 0.003}
LATE_SHARE = 0.05  # 届出遅延: reports after the 14-day window


@dataclass(frozen=True)
class ChangeFile:
    path: Path
    rows: int


def _month_days(month: dt.date) -> list[dt.date]:
    following = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return [month + dt.timedelta(days=i) for i in range((following - month).days)]


def changes_generate(*, month: dt.date, seed: int, directory: Path, today: dt.date) -> ChangeFile:
    """Write `residents-changes-YYYYMM.csv` for `month` (first day) and return it.
    Report dates never pass `today` (the file is what the registry has sent by then)."""
    rnd = random.Random(seed * 1000 + month.year * 12 + month.month)
    days = _month_days(month)
    residents = list(
        Person.objects.filter(resident_until__isnull=True)
        .order_by("id")
        .values_list(
            "atena_no",
            "household__household_no",
            "relation",
            "birth_date",
            "sex",
            "name",
            "name_kana",
        )
    )
    taken = set(Person.objects.values_list("atena_no", flat=True))
    next_atena = max(int(a) for a in taken) + 1 if taken else 9_000_000_001
    rows: list[dict[str, str]] = []
    used: set[str] = set()

    def report(day: dt.date) -> dt.date:
        late = rnd.random() < LATE_SHARE
        delay = rnd.randint(15, 40) if late else rnd.randint(0, 10)
        return min(day + dt.timedelta(days=delay), max(today, day))

    def add(code: str, day: dt.date, **fields: str) -> None:
        rows.append(
            {
                "record_id": f"{month:%Y%m}{len(rows) + 1:06d}",
                "change_code": code,
                "change_date": day.isoformat(),
                "report_date": report(day).isoformat(),
                **fields,
            }
        )

    def address() -> tuple[str, str]:
        town, postal, chome, _weight = rnd.choice(TOWNS)
        block = f"{rnd.randint(1, chome)}丁目{rnd.randint(1, 30)}番{rnd.randint(1, 20)}号"
        return postal, f"{PREFECTURE}{MUNICIPALITY}{town}{block}"

    count = len(residents)
    for _ in range(round(count * RATES["A01"])):
        atena = str(next_atena)
        next_atena += 1
        sex = rnd.choice((1, 2))
        surname = rnd.choice(LAST_NAME_PAIRS)
        given = rnd.choice(MALE_GIVEN_NAME_PAIRS if sex == 1 else FEMALE_GIVEN_NAME_PAIRS)
        postal, addr = address()
        birth = dt.date(month.year - rnd.randint(20, 70), rnd.randint(1, 12), rnd.randint(1, 28))
        add(
            "A01",
            rnd.choice(days),
            atena_no=atena,
            household_no=f"7{atena[-9:]}",
            relation=Relation.HEAD,
            name=f"{surname[0]}\u3000{given[0]}",
            name_kana=f"{surname[1]}\u3000{given[1]}",
            birth_date=birth.isoformat(),
            sex=str(sex),
            postal_code=postal,
            address=addr,
            foreign="0",
            special_address="0",
        )
    mothers = [r for r in residents if r[4] == 2 and 20 <= month.year - r[3].year <= 42]
    for _ in range(round(count * RATES["A02"])):
        if not mothers:
            break
        mother = rnd.choice(mothers)
        atena = str(next_atena)
        next_atena += 1
        sex = rnd.choice((1, 2))
        surname = (mother[5].split("\u3000")[0], mother[6].split("\u3000")[0])  # the mother's
        given = rnd.choice(MALE_GIVEN_NAME_PAIRS if sex == 1 else FEMALE_GIVEN_NAME_PAIRS)
        day = rnd.choice(days)
        postal, addr = address()
        add(
            "A02",
            day,
            atena_no=atena,
            household_no=mother[1],
            relation=Relation.CHILD,
            name=f"{surname[0]}\u3000{given[0]}",
            name_kana=f"{surname[1]}\u3000{given[1]}",
            birth_date=day.isoformat(),
            sex=str(sex),
            postal_code=postal,
            address=addr,
            foreign="0",
        )
    movers = [r for r in residents if r[0] not in used]
    rnd.shuffle(movers)
    for code, rate in (("B01", RATES["B01"]), ("B02", RATES["B02"]), ("C01", RATES["C01"])):
        pool = (
            movers
            if code != "B02"
            else sorted(movers, key=lambda r: r[3])[: max(1, len(movers) // 5)]
        )
        for atena, household_no, relation, *_rest in rnd.sample(
            pool, min(len(pool), round(count * rate))
        ):
            if atena in used:
                continue
            used.add(atena)
            fields = {"atena_no": atena, "household_no": household_no}
            if code == "B01":
                fields["destination"] = "abroad" if rnd.random() < 0.08 else "domestic"
            if code == "C01":  # 転居: the whole record, 続柄 included (interfaces.md §1)
                fields["postal_code"], fields["address"] = address()
                fields["relation"] = relation
            add(code, rnd.choice(days), **fields)
    rows.sort(key=lambda r: (r["change_date"], r["record_id"]))
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"residents-changes-{month:%Y%m}.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in COLUMNS})
    return ChangeFile(path, len(rows))
