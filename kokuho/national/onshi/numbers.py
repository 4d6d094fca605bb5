"""個人番号 put into the オンライン資格確認 records while the file is written, never before.

The ledger keeps each record as the extract made it — the 個人番号 item empty, 本人確認判定
saying whether a number is held — in `OutboundRecord.line` and `SentState.line`, so the
business database never holds a number and a delta compares records without one. The
ledger's writer hook calls `number_filler(file, desc)` once per file and the filler with each
batch of (subject, line) about to be written: one query for the persons' 宛名番号, one bulk
vault read through the purpose-bound service (`my_numbers_for_linkage`, purpose
ONLINE_ELIGIBILITY, audited per batch), and the number placed in its CSV position. A rewrite
of a file already in the ledger draws the numbers again the same way.
"""

from __future__ import annotations

from collections.abc import Callable

from kokuho.core.purposes import Purpose
from kokuho.identity.services import my_numbers_for_linkage
from kokuho.national.layouts import Descriptor
from kokuho.national.models import OutboundFile
from kokuho.national.onshi.extract import NO_NUMBER
from kokuho.people.models import Person

Filler = Callable[[list[tuple[int, str]]], list[str]]


def _position(desc: Descriptor, field: str) -> int:
    for item in desc.records["data"]:
        if item.field == field:
            return (item.position or 0) - 1
    raise LookupError(f"{desc.layout}: 項目 {field} がありません")


def _atena_nos(pids: list[int]) -> dict[int, str]:
    """宛名番号 of the persons `pids` (sorted). The lines of a full extract's batch come
    from one chunk of ids, so a dense set is read as its id range (faster than a list of
    thousands of ids, which the driver and the ORM handle one by one); a sparse one (a
    delta) by its ids."""
    if not pids:
        return {}
    people = Person.objects.all()
    if pids[-1] - pids[0] < 4 * len(pids):
        people = people.filter(pk__gte=pids[0], pk__lte=pids[-1])
    else:
        people = people.filter(pk__among=pids)
    wanted = set(pids)
    return {pk: atena for pk, atena in people.values_list("pk", "atena_no") if pk in wanted}


def number_filler(file: OutboundFile, desc: Descriptor) -> Filler:
    number_at, check_at = _position(desc, "my_number"), _position(desc, "identity_check")
    job = f"national:{file.feed}:{file.sequence}"

    def fill(rows: list[tuple[int, str]]) -> list[str]:
        parts = [line.split(",") for _, line in rows]
        wanted = sorted(
            {s for (s, _), p in zip(rows, parts, strict=True) if p[check_at] != NO_NUMBER}
        )
        atena = _atena_nos(wanted)
        numbers = my_numbers_for_linkage(
            atena_nos=atena.values(), purpose=Purpose.ONLINE_ELIGIBILITY, job=job
        ) if atena else {}  # fmt: skip
        out = []
        for (subject, line), items in zip(rows, parts, strict=True):
            number = numbers.get(atena.get(subject, ""), "")
            if not number:
                out.append(line)
                continue
            items[number_at] = number
            out.append(",".join(items))
        return out

    return fill
