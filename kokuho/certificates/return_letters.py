"""返還のお願い: the letter asking the 世帯主 to return 資格確認書 and 認定証 that became invalid.

`document_invalidate` sets `return_requested_on` when the law wants a card back (資格喪失, a
card replaced by a reissue or a 記載事項変更, a 区分 no longer entitled); this module writes
the letter for those cards and records that it was sent (`return_letter_on`), so that a card
is asked back by letter once.

* `return_letters_due` groups the cards asked back, not returned and not yet written about by
  household (the document's own `household`); the letter goes to that household's 世帯主 as
  the registry has them today (to the holder when the household has none), sorted by postal
  code, then address — the order of a mailing batch.
* `return_letters_print` renders the due letters as one PDF and marks their documents in the
  same transaction, with one audit event: a PDF that cannot be drawn marks nothing. Names
  and addresses read from the registry print their 代替字 (`glyphs.printable`).
* `return_letters_pdf` draws them: plain data in, PDF bytes out (A4 portrait, one letter from a
  new page, the addressee block where a 長3 window envelope shows it, as the 高額療養費
  notices; a table of the cards, continued on further pages when it does not fit). Like the
  notices it refuses a character outside the embedded font and anything shaped like a
  個人番号.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from reportlab.lib.units import mm

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.certificates.glyphs import printable
from kokuho.certificates.models import DocumentStatus, DocumentType, InvalidReason, IssuedDocument
from kokuho.certificates.services import DocumentError
from kokuho.core.letters import (
    WIDTH,
    Block,
    Centred,
    Column,
    Heading,
    Letter,
    LetterAddressee,
    Paragraph,
    Table,
    letters_pdf,
)
from kokuho.core.purposes import Purpose
from kokuho.core.wareki import format_wareki
from kokuho.people.models import Household, Person

TITLE = "資格確認書等の返還について（お願い）"
# One print (a click, a daily run) writes at most this many letters; the rest wait.
RETURN_LETTER_BATCH = 1000


# --- The letter's data ----------------------------------------------------------------------


@dataclass(frozen=True)
class LetterDocument:
    """One card to return."""

    serial: str  # 交付番号
    title: str  # 資格確認書, 限度額適用認定証 …
    holder_name: str  # the name printed on the card
    invalid_from: dt.date  # 無効となった日
    invalid_reason: str  # 無効事由 (label)


@dataclass(frozen=True)
class ReturnLetter:
    letter_no: str
    issued_on: dt.date
    addressee: LetterAddressee
    documents: tuple[LetterDocument, ...]


# --- Which letters are due ------------------------------------------------------------------


@dataclass(frozen=True)
class DueLetter:
    """The documents one addressee is asked to return, as the database has them now."""

    household: Household
    addressee: Person
    documents: tuple[IssuedDocument, ...]


def _due_documents():
    return IssuedDocument.objects.filter(
        status=DocumentStatus.INVALID,
        return_requested_on__isnull=False,
        returned_on__isnull=True,
        return_letter_on__isnull=True,
    )


def return_letters_due() -> list[DueLetter]:
    """Letters to write: documents asked back, not returned, not yet written about, one letter
    per household (to its 世帯主 today; to each holder when it has none), sorted by postal
    code, address and 世帯番号."""
    rows = _due_documents().select_related("person", "household__head").order_by("pk")
    groups: dict[tuple[int, int], list[IssuedDocument]] = {}
    for document in rows:
        addressee = document.household.head or document.person
        groups.setdefault((document.household_id, addressee.pk), []).append(document)
    letters = []
    for documents in groups.values():
        first = documents[0]
        addressee = first.household.head or first.person
        documents.sort(key=lambda d: (d.person_id, d.serial))
        letters.append(DueLetter(first.household, addressee, tuple(documents)))
    letters.sort(
        key=lambda d: (
            d.addressee.postal_code,
            d.addressee.address,
            d.household.household_no,
            d.addressee.atena_no,
        )
    )
    return letters


def return_letters_due_count() -> int:
    """How many letters `return_letters_due` would write (one query, no rows built)."""
    keys = _due_documents().values_list("household_id", "household__head_id", "person_id")
    return len({(household, head or person) for household, head, person in keys})


def return_letter(due: DueLetter, *, issued_on: dt.date) -> ReturnLetter:
    """The letter's data: the registry's name and address with their 代替字 (`printable`),
    the holder's name as printed on the card."""
    head = due.addressee
    first = min(d.pk for d in due.documents)
    return ReturnLetter(
        letter_no=f"HK{issued_on:%Y%m%d}-{first:07d}",
        issued_on=issued_on,
        addressee=LetterAddressee(
            postal_code=head.postal_code,
            address=printable(head.address)[0],
            name=printable(head.name)[0],
        ),
        documents=tuple(
            LetterDocument(
                serial=d.serial,
                title=DocumentType(d.doc_type).label,
                holder_name=d.printed.get("name") or printable(d.person.name)[0],
                invalid_from=d.invalid_from or d.return_requested_on,
                invalid_reason=InvalidReason(d.invalid_reason).label,
            )
            for d in due.documents
        ),
    )


def return_letters_print(
    *, actor: Any, limit: int = RETURN_LETTER_BATCH, on: dt.date | None = None
) -> tuple[bytes, int]:
    """Up to `limit` due letters as one PDF, their documents marked `return_letter_on` (the
    letter's date, today unless given) with one audit event. `(b"", 0)` when none is due.
    Raises ValueError (nothing marked) when a letter cannot be drawn."""
    on = on or timezone.localdate()
    with transaction.atomic():
        due = return_letters_due()[:limit]
        if not due:
            return b"", 0
        letters = [return_letter(d, issued_on=on) for d in due]
        content = return_letters_pdf(
            letters,
            municipality=settings.KOKUHO_MUNICIPALITY_NAME,
            contact=settings.KOKUHO_INSURER_CONTACT,
        )
        ids = [document.pk for d in due for document in d.documents]
        marked = _due_documents().filter(pk__in=ids).update(return_letter_on=on)
        if marked != len(ids):  # another print took some of them meanwhile
            raise DocumentError("返還のお願いを同時に印刷しています。もう一度やり直してください")
        audit_event_record(
            event_type=EventType.CERTIFICATE_PRINTED,
            actor=actor,
            subject_type=SubjectType.SYSTEM,
            subject_id="return_letters",
            purpose=Purpose.NHI_ELIGIBILITY,
            extra={"kind": "return_letters", "letters": len(letters), "documents": len(ids)},
        )
    return content, len(letters)


# --- Drawing (core.letters) -----------------------------------------------------------------


def _body(municipality: str) -> list[str]:
    return [
        "　下記の資格確認書等は、国民健康保険の資格の喪失や記載事項の変更などにより無効となり"
        "ました。無効となった日以後は、医療機関や薬局で使うことはできません。無効となった資格"
        "確認書等を使って受診した場合は、その医療費のうち国民健康保険が負担した分を、後日返して"
        "いただくことになります。",
        f"　お手数ですが、下記の資格確認書等を{municipality}へ返還してください。世帯の方の分も、"
        "まとめて返還してください。",
    ]


_HOW = [
    "窓口で返還する場合　下記の問い合わせ先の窓口へお持ちください。",
    "郵送で返還する場合　この通知を同封して、下記の問い合わせ先あてに送ってください。",
    "すでに返還された場合や、紛失などで返還できない場合は、下記の問い合わせ先へご連絡"
    "ください。行き違いでこの通知が届いた場合は、ご容赦ください。",
]


COLUMNS = (
    Column("交付番号", 32 * mm),
    Column("種類", 40 * mm),
    Column("氏名", 34 * mm),
    Column("無効となった日", 32 * mm),
    Column("無効事由", WIDTH - 138 * mm),
)


def _letter(letter: ReturnLetter, municipality: str) -> Letter:
    blocks: list[Block] = [Paragraph(text) for text in _body(municipality)]
    blocks.append(Centred("記"))
    rows = tuple(
        (d.serial, d.title, d.holder_name, format_wareki(d.invalid_from), d.invalid_reason)
        for d in letter.documents
    )
    blocks.append(Table(COLUMNS, rows))
    blocks.append(Heading("■ 返還の方法など"))
    blocks += [
        Paragraph(text, indent=6 * mm, mark=f"{number}.") for number, text in enumerate(_HOW, 1)
    ]
    return Letter(
        number=f"文書番号　{letter.letter_no}",
        issued_on=letter.issued_on,
        addressee=letter.addressee,
        title=TITLE,
        blocks=tuple(blocks),
    )


def return_letters_pdf(
    letters: Sequence[ReturnLetter], *, municipality: str, contact: str
) -> bytes:
    """One PDF for a batch of 返還のお願い, each letter from a new page, in the given order
    (`core.letters`). Raises ValueError (nothing is drawn) for a letter without documents, an
    addressee too long for the envelope's window, a character outside the font, or anything
    shaped like a 個人番号."""
    if not letters:
        raise ValueError("返還のお願いがありません")
    for letter in letters:
        if not letter.documents:
            raise ValueError(f"返還のお願い {letter.letter_no}: 返還を求める証がありません")
    return letters_pdf(
        [_letter(letter, municipality) for letter in letters],
        title=TITLE,
        municipality=municipality,
        contact=contact,
        contact_label="問い合わせ先・返還先",
    )
