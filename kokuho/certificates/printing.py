"""From issued documents to printable pages: the recorded `printed` items, nothing recomputed.

A document is printed from what was recorded when it was issued, so a reprint shows exactly
what the resident holds. Mailing batches are sorted by postal code, then address and
household, so that a household's documents go in one envelope to its 世帯主.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from django.conf import settings

from kokuho.certificates.models import IssuedDocument
from kokuho.certificates.pdf import DocumentAddressee, DocumentPrint, InsurerInfo, documents_pdf
from kokuho.core.forking import forked_map


def insurer_info() -> InsurerInfo:
    return InsurerInfo(
        municipality=settings.KOKUHO_MUNICIPALITY_NAME,
        insurer_number=settings.KOKUHO_INSURER_NUMBER,
        contact=settings.KOKUHO_INSURER_CONTACT,
    )


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def document_print(document: IssuedDocument, *, mailed: bool) -> DocumentPrint:
    """The renderer's input for one recorded document (addressed to the 世帯主 when mailed)."""
    p = document.printed
    addressee = None
    if mailed:
        addressee = DocumentAddressee(
            postal_code=p.get("postal_code") or "",
            address=p["address"],
            name=p.get("head_name") or p["name"],
        )
    birth = _date(p["birth_date"])
    assert birth is not None  # every document prints a birth date
    return DocumentPrint(
        doc_type=document.doc_type,
        serial=document.serial,
        issued_on=document.issued_on,
        valid_from=document.valid_from,
        valid_until=document.valid_until,
        symbol=p["symbol"],
        number=p["number"],
        branch=p["branch"],
        name=p["name"],
        birth_date=birth,
        sex=p["sex"],
        acquired_on=_date(p.get("acquired_on")),
        head_name=p.get("head_name") or "",
        address=p["address"],
        copay_rate=p.get("copay_rate"),
        copay_from=_date(p.get("copay_from")),
        category=p.get("category") if _shows_category(document) else None,
        long_stay_from=_date(p.get("long_stay_from")),
        disease=p.get("disease"),
        limit_amount=p.get("limit_amount"),
        addressee=addressee,
    )


# The 区分 is printed on the 認定証, and on a 資格確認書 when the person asked for it.
_CATEGORY_TYPES = ("gendogaku", "gengaku")


def _shows_category(document: IssuedDocument) -> bool:
    if document.doc_type in _CATEGORY_TYPES:
        return True
    return document.doc_type == "kakuninsho" and bool(document.printed.get("show_category"))


def mailing_order(documents: Iterable[IssuedDocument]) -> list[IssuedDocument]:
    """Postal code, address, household, then person: one envelope per household."""
    return sorted(
        documents,
        key=lambda d: (
            d.printed.get("postal_code") or "",
            d.printed.get("address") or "",
            d.household_id,
            d.person_id,
            d.pk,
        ),
    )


def documents_render(documents: Sequence[IssuedDocument], *, mailed: bool) -> bytes:
    return documents_pdf(
        [document_print(d, mailed=mailed) for d in documents], insurer=insurer_info()
    )


# Groups in flight per worker: enough that a worker never waits for the next one, few
# enough that memory holds a handful of batches' PDFs whatever the run's size.
RENDER_AHEAD = 2


def groups_render(
    groups: Sequence[Sequence[IssuedDocument]], *, mailed: bool
) -> Iterator[bytes | ValueError]:
    """Each group's PDF, in the groups' order, or the ValueError the renderer refused it with.

    Rendering is pure CPU over what the documents recorded, so with several groups it runs
    in `KOKUHO_PRINT_WORKERS` forked processes while this one writes and records what is
    done: the files are those of one process, byte for byte. Workers inherit the groups
    (fork: nothing pickled on the way in) and never touch a database (`connections_detach`).
    """
    workers = min(settings.KOKUHO_PRINT_WORKERS, len(groups))
    if workers <= 1:
        for group in groups:
            yield _rendered_or_refused(group, mailed)
        return
    yield from forked_map(
        _worker_render,
        range(len(groups)),
        workers=workers,
        ahead=RENDER_AHEAD,
        initializer=_WORKER.update,
        initargs=({"groups": groups, "mailed": mailed},),
    )


_WORKER: dict[str, Any] = {}


def _worker_render(index: int) -> bytes | ValueError:
    return _rendered_or_refused(_WORKER["groups"][index], _WORKER["mailed"])


def _rendered_or_refused(group: Sequence[IssuedDocument], mailed: bool) -> bytes | ValueError:
    try:
        return documents_render(group, mailed=mailed)
    except ValueError as refused:
        return refused  # the group's result: the caller sets the refused documents aside


def batch_file_write(directory: Path, name: str, content: bytes) -> tuple[Path, str]:
    """Write a mailing PDF (atomically: a temporary name, then renamed); its SHA-256."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    partial = path.with_suffix(".part")
    partial.write_bytes(content)
    partial.replace(path)
    return path, hashlib.sha256(content).hexdigest()
