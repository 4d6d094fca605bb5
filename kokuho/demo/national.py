"""The national links in the demo: full extracts, a day of changes, the deltas, and a
synthetic 処理結果 (national.md; issue 16 item 8).

The demo sends every registered feed's full extract for the day before its 基準日, feeds
one day of 住基異動 (転出, 転入, 転居) through the real importer, and sends the deltas of the
基準日 — the files the city would transmit that night. Files go under
`var/demo/national/<feed>/` unless `KOKUHO_NATIONAL_DIR` is set. A re-run of the same day
writes the same bytes again and takes no new 通番.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

from kokuho.demo.changes import COLUMNS
from kokuho.demo.city import MUNICIPALITY, PREFECTURE, TOWNS
from kokuho.interfaces.services import import_residents_changes
from kokuho.national.feeds import FEEDS
from kokuho.national.layouts import descriptor, line_write
from kokuho.national.ledger import ExportOutcome, NationalExportError, national_export
from kokuho.national.models import Feed, OutboundFile, OutboundRecord
from kokuho.national.results import national_result_import
from kokuho.people.models import Person


@dataclass
class NationalDemo:
    full: list[ExportOutcome] = field(default_factory=list)
    delta: list[ExportOutcome] = field(default_factory=list)
    changes: int = 0
    messages: list[str] = field(default_factory=list)


def demo_day_changes_write(*, day: dt.date, seed: int, path: Path) -> int:
    """One day of 住基異動 for insured residents: a few 転出, 転居 and one 転入 household —
    enough that every 資格 feed has 変更 and 新規 records in its delta."""
    rnd = random.Random(seed * 7919 + day.toordinal())
    insured = list(
        Person.objects.filter(
            resident_until__isnull=True, current_eligibility__version__periods__end__isnull=True
        )
        .order_by("id")
        .values_list("atena_no", "household__household_no", "relation")[:5000]
    )
    picked = rnd.sample(insured, min(len(insured), 6))
    rows: list[dict[str, str]] = []

    def add(code: str, **fields: str) -> None:
        rows.append(
            {
                "record_id": f"N{day:%Y%m%d}{len(rows) + 1:04d}",
                "change_code": code,
                "change_date": day.isoformat(),
                "report_date": day.isoformat(),
                **fields,
            }
        )

    for atena, household_no, _relation in picked[:3]:
        add("B01", atena_no=atena, household_no=household_no, destination="domestic")
    for atena, household_no, relation in picked[3:]:
        town, postal, chome, _weight = rnd.choice(TOWNS)
        block = f"{rnd.randint(1, chome)}丁目{rnd.randint(1, 30)}番{rnd.randint(1, 20)}号"
        add(
            "C01",
            atena_no=atena,
            household_no=household_no,
            relation=relation,
            postal_code=postal,
            address=f"{PREFECTURE}{MUNICIPALITY}{town}{block}",
        )
    taken = Person.objects.order_by("-atena_no").values_list("atena_no", flat=True).first()
    atena = str(int(taken or "9000000000") + 1)
    town, postal, chome, _weight = rnd.choice(TOWNS)
    add(
        "A01",
        atena_no=atena,
        household_no=f"8{atena[-9:]}",
        relation="世帯主",
        name="連携\u3000一郎",
        name_kana="レンケイ\u3000イチロウ",
        birth_date="1980-05-05",
        sex="1",
        postal_code=postal,
        address=f"{PREFECTURE}{MUNICIPALITY}{town}1丁目1番1号",
        foreign="0",
        special_address="0",
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in COLUMNS})
    return len(rows)


def demo_national_send(
    *, today: dt.date, seed: int, directory: Path, write: Callable[[str], None]
) -> NationalDemo:
    """Full extracts (once, for the day before `today`), the day's changes, the deltas."""
    outcome = NationalDemo()
    day_before = today - dt.timedelta(days=1)
    for feed in FEEDS:
        if OutboundFile.objects.filter(feed=feed, full=True).exists():
            continue
        try:
            outcome.full.append(national_export(feed=feed, as_of=day_before, full=True, actor=None))
        except NationalExportError as error:  # a feed with nothing to send yet
            outcome.messages.append(str(error))
    changes = directory / f"residents-changes-{today:%Y%m%d}.csv"
    if not changes.exists():
        demo_day_changes_write(day=today, seed=seed, path=changes)
    summary = import_residents_changes(path=changes, actor=None)
    write(summary.format())
    for feed in FEEDS:
        try:
            outcome.delta.append(national_export(feed=feed, as_of=today, full=False, actor=None))
        except NationalExportError as error:
            outcome.messages.append(str(error))
    return outcome


# The demo's 処理結果 for the オンライン資格確認 files: most records accepted, a few rejected
# with an error code, and one J-LIS mismatch (住基 holds the address in another form).
REJECTIONS = (
    ("E201", "生年月日が住民基本台帳と一致しません"),
    ("E305", "資格取得年月日が重複しています"),
)


def _jlis_values(person: Person) -> dict[str, Any]:
    """The 5 items as 住基 (J-LIS) would return them for the demo's one mismatch."""
    address = person.address.replace("丁目", "-").replace("番", "-").replace("号", "")
    return {
        "jlis_name": person.name,
        "jlis_kana": person.name_kana,
        "jlis_birth_date": person.birth_date,
        "jlis_sex": person.sex,
        "jlis_address": address if address != person.address else f"{person.address}　１階",
    }


def demo_onshi_results(*, directory: Path, write: Callable[[str], None]) -> int:
    """A result file for each オンライン資格確認 file that has none yet, imported through the
    real importer. Returns how many files were answered."""
    desc = descriptor("onshi_result")
    answered = 0
    files = OutboundFile.objects.filter(feed=Feed.ONSHI_HISTORY, acknowledged_at__isnull=True)
    for file in files.order_by("sequence"):
        records = list(
            OutboundRecord.objects.filter(file=file)
            .order_by("line_no")
            .values_list("key", "subject")
        )
        # The delta gets the J-LIS mismatch (the day's changes were checked against 住基);
        # the full extract a couple of rejections.
        mismatch = records[0] if records and not file.full else None
        rejected = {key for key, _ in records[1 : 1 + len(REJECTIONS)]} if file.full else set()
        lines = [
            line_write(
                desc,
                "control",
                {
                    "layout": desc.layout,
                    "version": desc.version,
                    "insurer_no": settings.KOKUHO_INSURER_NUMBER,
                    "feed": "onshi_history",
                    "sequence": file.sequence,
                },
                file.as_of,
            )
        ]
        codes = iter(REJECTIONS)
        for key, subject in records:
            values: dict[str, Any] = {"key": key, "result": "0"}
            if mismatch is not None and key == mismatch[0]:
                person = Person.objects.get(pk=subject)
                values |= {"result": "2", "code": "J001", "message": "住基照合で不一致"}
                values |= _jlis_values(person)
            elif key in rejected:
                code, message = next(codes)
                values |= {"result": "1", "code": code, "message": message}
            lines.append(line_write(desc, "data", values, file.as_of))
        lines.append(line_write(desc, "end", {"count": len(records)}, file.as_of))
        path = directory / "results" / f"onshi_result_{file.sequence:08d}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp932"))
        outcome = national_result_import(path=path, actor=None)
        write(
            f"  処理結果を取り込みました（{file.get_feed_display()} 通番 {file.sequence}）: "
            f"受付 {outcome.accepted:,}件、不備・不一致 {outcome.rejected:,}件"
        )
        answered += 1
    return answered
