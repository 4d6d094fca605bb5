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
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.certificates.glyphs import printable
from kokuho.certificates.models import DocumentStatus, DocumentType, InvalidReason, IssuedDocument
from kokuho.certificates.services import DocumentError
from kokuho.core.mynumber import mask_my_numbers_in
from kokuho.core.pdf import (
    ADDRESS_TOP,
    GOTHIC,
    MINCHO,
    font_covers,
    fonts_register,
    japanese_canvas,
    text_wrap,
    window_header_draw,
)
from kokuho.core.purposes import Purpose
from kokuho.core.wareki import format_wareki
from kokuho.people.models import Household, Person

TITLE = "資格確認書等の返還について（お願い）"
# One print (a click, a daily run) writes at most this many letters; the rest wait.
RETURN_LETTER_BATCH = 1000


# --- The letter's data ----------------------------------------------------------------------


@dataclass(frozen=True)
class LetterAddressee:
    postal_code: str  # "799-0001"; may be empty
    address: str
    name: str  # 世帯主 氏名


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


# --- Text -----------------------------------------------------------------------------------


# Characters that may not start a line (行頭禁則): pushed to the next line with the one before.
def _check(letter: ReturnLetter, texts: Sequence[str]) -> None:
    missing = sorted({c for t in texts for c in t if c != "\n" and not font_covers(c)})
    if missing:
        raise ValueError(
            f"返還のお願い {letter.letter_no}: フォントにない文字があります"
            "（代替字にしてください）: " + " ".join(f"{c}(U+{ord(c):04X})" for c in missing)
        )
    if any(mask_my_numbers_in(t) != t for t in texts):
        raise ValueError(f"返還のお願い {letter.letter_no}: 個人番号と同じ形の数字は印字できません")


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


# --- Geometry -------------------------------------------------------------------------------

PAGE_W, PAGE_H = A4
LEFT = 20 * mm
RIGHT = PAGE_W - 20 * mm
WIDTH = RIGHT - LEFT
FOOT = 12 * mm  # baseline of the last contact line
ADDRESS_W = 85 * mm
LATER_TOP = PAGE_H - 40 * mm

BODY = (MINCHO, 10.5, 16.5)  # font, size, leading
CELL = (MINCHO, 9.0, 12.0)
HEAD = (GOTHIC, 9.0)
CONTACT = (GOTHIC, 9.0, 12.0)
COLUMNS = (  # header, width
    ("交付番号", 32 * mm),
    ("種類", 40 * mm),
    ("氏名", 34 * mm),
    ("無効となった日", 32 * mm),
    ("無効事由", WIDTH - 138 * mm),
)
PAD = 2 * mm
GREY = 0.9
LINE = 0.6

Draw = Callable[[Canvas, float], None]  # (canvas, top y of the item)


@dataclass(slots=True)
class _Item:
    height: float
    draw: Draw
    row: bool = False  # a table row: a page that starts with one repeats the header
    keep_with_next: bool = False


def _paragraph(text: str, *, indent: float = 0.0, mark: str = "") -> list[_Item]:
    font, size, leading = BODY
    items = []
    for i, line in enumerate(text_wrap(text, font, size, WIDTH - indent)):

        def draw(c: Canvas, top: float, line: str = line, first: bool = i == 0) -> None:
            c.setFont(font, size)
            if mark and first:
                c.drawString(LEFT, top - size, mark)
            c.drawString(LEFT + indent, top - size, line)

        items.append(_Item(leading, draw))
    return items


def _gap(height: float, text: str = "", *, heading: bool = False) -> _Item:
    def draw(c: Canvas, top: float) -> None:
        if heading:
            c.setFont(GOTHIC, 10.5)
            c.drawString(LEFT, top - height + 2 * mm, text)
        elif text:
            c.setFont(MINCHO, 10.5)
            c.drawCentredString(PAGE_W / 2, top - height + 2 * mm, text)

    return _Item(height, draw, keep_with_next=bool(text))


def _row(cells: Sequence[str], *, header: bool = False) -> _Item:
    font, size, leading = (HEAD[0], HEAD[1], 11.0) if header else CELL
    wrapped = [
        text_wrap(text, font, size, width - 2 * PAD)
        for text, (_, width) in zip(cells, COLUMNS, strict=True)
    ]
    height = max(len(lines) for lines in wrapped) * leading + 2.6 * mm

    def draw(c: Canvas, top: float) -> None:
        c.setLineWidth(LINE)
        if header:
            c.setFillGray(GREY)
            c.rect(LEFT, top - height, WIDTH, height, stroke=0, fill=1)
            c.setFillGray(0)
        c.rect(LEFT, top - height, WIDTH, height)
        c.setFont(font, size)
        x = LEFT
        for lines, (_, width) in zip(wrapped, COLUMNS, strict=True):
            if x > LEFT:
                c.line(x, top, x, top - height)
            y = top - 1.3 * mm - size
            for line in lines:
                if header:
                    c.drawCentredString(x + width / 2, y, line)
                else:
                    c.drawString(x + PAD, y, line)
                y -= leading
            x += width

    return _Item(height, draw, row=not header, keep_with_next=header)


def _table_header() -> _Item:
    return _row([header for header, _ in COLUMNS], header=True)


def _items(letter: ReturnLetter, municipality: str) -> list[_Item]:
    items = [item for text in _body(municipality) for item in _paragraph(text)]
    items.append(_gap(9 * mm, "記"))
    items.append(_table_header())
    for d in letter.documents:
        cells = [d.serial, d.title, d.holder_name, format_wareki(d.invalid_from), d.invalid_reason]
        items.append(_row(cells))
    items.append(_gap(11 * mm, "■ 返還の方法など", heading=True))
    for number, text in enumerate(_HOW, start=1):
        items += _paragraph(text, indent=6 * mm, mark=f"{number}.")
    return items


@dataclass(slots=True)
class _Layout:
    letter: ReturnLetter
    address_lines: tuple[str, ...]
    name_lines: tuple[str, ...]
    title_y: float
    pages: list[list[tuple[_Item, float]]]


def _plan(
    items: Sequence[_Item], first_top: float, bottom: float
) -> list[list[tuple[_Item, float]]]:
    """Place the items on pages: [[(item, top y), …] per page]."""
    pages: list[list[tuple[_Item, float]]] = [[]]
    y = first_top
    for i, item in enumerate(items):
        need = item.height + (
            items[i + 1].height if item.keep_with_next and i + 1 < len(items) else 0
        )
        if y - need < bottom and pages[-1]:
            pages.append([])
            y = LATER_TOP
            if item.row:
                header = _table_header()
                pages[-1].append((header, y))
                y -= header.height
        pages[-1].append((item, y))
        y -= item.height
    return pages


def _layout(letter: ReturnLetter, *, municipality: str, contact_lines: int) -> _Layout:
    a = letter.addressee
    address_lines = text_wrap(a.address, MINCHO, 10.5, ADDRESS_W)
    name_lines = text_wrap(f"{a.name}　様", MINCHO, 13, ADDRESS_W - 4 * mm)
    if len(address_lines) > 3 or len(name_lines) > 2:
        raise ValueError(f"返還のお願い {letter.letter_no}: 宛名が封筒の窓に収まりません")
    bottom = ADDRESS_TOP - 15 * len(address_lines) - 8 - 18 * len(name_lines)
    title_y = min(PAGE_H - 58 * mm, bottom - 6 * mm)
    flow_bottom = FOOT + (contact_lines - 1) * CONTACT[2] + 8 * mm
    pages = _plan(_items(letter, municipality), title_y - 9 * mm, flow_bottom)
    return _Layout(letter, address_lines, name_lines, title_y, pages)


def _draw_first_header(c: Canvas, layout: _Layout, municipality: str) -> None:
    letter = layout.letter
    window_header_draw(
        c,
        postal_code=letter.addressee.postal_code,
        address_lines=layout.address_lines,
        name_lines=layout.name_lines,
        number=f"文書番号　{letter.letter_no}",
        issued_on=format_wareki(letter.issued_on),
        issuer=f"{municipality}長",
        title=TITLE,
        title_y=layout.title_y,
    )


def _draw_later_header(c: Canvas, letter: ReturnLetter) -> None:
    c.setFont(GOTHIC, 12)
    c.drawString(LEFT, PAGE_H - 22 * mm, f"{TITLE}（続き）")
    c.setFont(GOTHIC, 9)
    c.drawRightString(RIGHT, PAGE_H - 20 * mm, f"文書番号　{letter.letter_no}")
    c.setFont(MINCHO, 10.5)
    c.drawRightString(RIGHT, PAGE_H - 27 * mm, f"{letter.addressee.name}　様")
    c.setLineWidth(LINE)
    c.line(LEFT, PAGE_H - 31 * mm, RIGHT, PAGE_H - 31 * mm)


def return_letters_pdf(
    letters: Sequence[ReturnLetter], *, municipality: str, contact: str
) -> bytes:
    """One PDF for a batch of 返還のお願い, each letter from a new page, in the given order.

    Raises ValueError (nothing is drawn) for a letter without documents, an addressee too long
    for the envelope's window, a character outside the font, or anything shaped like a
    個人番号."""
    if not letters:
        raise ValueError("返還のお願いがありません")
    fonts_register()
    font, size, leading = CONTACT
    contact_lines = text_wrap(f"問い合わせ先・返還先　{contact}", font, size, WIDTH - 14 * mm)
    layouts = []
    for letter in letters:
        if not letter.documents:
            raise ValueError(f"返還のお願い {letter.letter_no}: 返還を求める証がありません")
        a = letter.addressee
        texts = [municipality, contact, letter.letter_no, a.postal_code, a.address, a.name]
        for d in letter.documents:
            texts += [d.serial, d.title, d.holder_name, d.invalid_reason]
        _check(letter, texts)
        layouts.append(_layout(letter, municipality=municipality, contact_lines=len(contact_lines)))
    buffer = io.BytesIO()
    c = japanese_canvas(buffer)
    c.setTitle(TITLE)
    c.setAuthor(municipality)
    c.setCreator("Kokuho")
    for layout in layouts:
        total = len(layout.pages)
        for number, placed in enumerate(layout.pages, start=1):
            if number == 1:
                _draw_first_header(c, layout, municipality)
            else:
                _draw_later_header(c, layout.letter)
            for item, top in placed:
                item.draw(c, top)
            if number < total:
                last, top = placed[-1]
                c.setFont(MINCHO, 8)
                c.drawRightString(RIGHT, top - last.height - 3 * mm, "（次ページに続きます）")
            c.setFont(font, size)
            y = FOOT + (len(contact_lines) - 1) * leading
            for line in contact_lines:
                c.drawString(LEFT, y, line)
                y -= leading
            if total > 1:
                c.drawRightString(RIGHT, FOOT, f"{number}/{total}")
            c.showPage()
    previous = rl_config.useA85  # plain Flate streams, as the notices (no ASCII85 layer)
    rl_config.useA85 = 0
    try:
        c.save()
    finally:
        rl_config.useA85 = previous
    return buffer.getvalue()
