"""Mailed letters (通知・お願い): plain data in, PDF bytes out — the 返還のお願い of the
documents, the 返還金納入通知書 of the cases, any letter that is a flow of paragraphs and
tables under a 長3 window envelope's addressee block.

A `Letter` is its head (number, date, addressee, title) and its `blocks`: paragraphs
(wrapped with 禁則, optionally numbered), headings, a centred line (「記」) and tables whose
rows continue on further pages with the header repeated. Each letter starts a new page; the
first page has the addressee where the window shows it (`core.pdf.window_header_draw`), the
later ones a short header naming the letter and the addressee; every page ends with the
contact line and, when there are several, 「n/m」.

Refused with ValueError, nothing drawn: a letter without blocks, an addressee too long for
the window, a character outside the embedded fonts, anything shaped like a 個人番号.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

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
from kokuho.core.wareki import format_wareki

# --- The letter's data ----------------------------------------------------------------------


@dataclass(frozen=True)
class LetterAddressee:
    postal_code: str  # "799-0001"; may be empty
    address: str
    name: str


@dataclass(frozen=True)
class Paragraph:
    text: str
    indent: float = 0.0
    mark: str = ""  # drawn before the first line, in the indent ("1.", "※")


@dataclass(frozen=True)
class Heading:
    text: str  # 「■ 返還の方法など」: kept with what follows


@dataclass(frozen=True)
class Centred:
    text: str  # 「記」: kept with what follows


@dataclass(frozen=True)
class Column:
    header: str
    width: float
    align: Literal["left", "right"] = "left"


@dataclass(frozen=True)
class Table:
    columns: tuple[Column, ...]
    rows: tuple[tuple[str, ...], ...]


Block = Paragraph | Heading | Centred | Table


@dataclass(frozen=True)
class Letter:
    number: str  # e.g. 「文書番号　HK20261201-0000012」, top right
    issued_on: dt.date
    addressee: LetterAddressee
    title: str
    blocks: tuple[Block, ...]


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
PAD = 2 * mm
GREY = 0.9
LINE = 0.6

Draw = Callable[[Canvas, float], None]  # (canvas, top y of the item)


@dataclass(slots=True)
class _Item:
    height: float
    draw: Draw
    table: Table | None = None  # a table row: a page that starts with one repeats the header
    keep_with_next: bool = False


def _paragraph(block: Paragraph) -> list[_Item]:
    font, size, leading = BODY
    items = []
    for i, line in enumerate(text_wrap(block.text, font, size, WIDTH - block.indent)):

        def draw(c: Canvas, top: float, line: str = line, first: bool = i == 0) -> None:
            c.setFont(font, size)
            if block.mark and first:
                c.drawString(LEFT, top - size, block.mark)
            c.drawString(LEFT + block.indent, top - size, line)

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


def _row(table: Table, cells: Sequence[str], *, header: bool = False) -> _Item:
    font, size, leading = (HEAD[0], HEAD[1], 11.0) if header else CELL
    wrapped = [
        text_wrap(text, font, size, column.width - 2 * PAD)
        for text, column in zip(cells, table.columns, strict=True)
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
        for lines, column in zip(wrapped, table.columns, strict=True):
            if x > LEFT:
                c.line(x, top, x, top - height)
            y = top - 1.3 * mm - size
            for line in lines:
                if header:
                    c.drawCentredString(x + column.width / 2, y, line)
                elif column.align == "right":
                    c.drawRightString(x + column.width - PAD, y, line)
                else:
                    c.drawString(x + PAD, y, line)
                y -= leading
            x += column.width

    return _Item(height, draw, table=None if header else table, keep_with_next=header)


def _table_header(table: Table) -> _Item:
    return _row(table, [column.header for column in table.columns], header=True)


def _items(letter: Letter) -> list[_Item]:
    items: list[_Item] = []
    for block in letter.blocks:
        if isinstance(block, Paragraph):
            items += _paragraph(block)
        elif isinstance(block, Heading):
            items.append(_gap(11 * mm, block.text, heading=True))
        elif isinstance(block, Centred):
            items.append(_gap(9 * mm, block.text))
        else:
            items.append(_table_header(block))
            items += [_row(block, cells) for cells in block.rows]
    return items


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
            if item.table is not None:
                header = _table_header(item.table)
                pages[-1].append((header, y))
                y -= header.height
        pages[-1].append((item, y))
        y -= item.height
    return pages


@dataclass(slots=True)
class _Layout:
    letter: Letter
    address_lines: tuple[str, ...]
    name_lines: tuple[str, ...]
    title_y: float
    pages: list[list[tuple[_Item, float]]]


def _layout(letter: Letter, *, contact_lines: int) -> _Layout:
    a = letter.addressee
    address_lines = text_wrap(a.address, MINCHO, 10.5, ADDRESS_W)
    name_lines = text_wrap(f"{a.name}　様", MINCHO, 13, ADDRESS_W - 4 * mm)
    if len(address_lines) > 3 or len(name_lines) > 2:
        raise ValueError(f"{letter.title} {letter.number}: 宛名が封筒の窓に収まりません")
    bottom = ADDRESS_TOP - 15 * len(address_lines) - 8 - 18 * len(name_lines)
    title_y = min(PAGE_H - 58 * mm, bottom - 6 * mm)
    flow_bottom = FOOT + (contact_lines - 1) * CONTACT[2] + 8 * mm
    pages = _plan(_items(letter), title_y - 9 * mm, flow_bottom)
    return _Layout(letter, address_lines, name_lines, title_y, pages)


def _texts(letter: Letter) -> list[str]:
    a = letter.addressee
    texts = [letter.number, letter.title, a.postal_code, a.address, a.name]
    for block in letter.blocks:
        if isinstance(block, Table):
            texts += [c.header for c in block.columns] + [t for row in block.rows for t in row]
        else:
            texts += [block.text, getattr(block, "mark", "")]
    return texts


def _check(letter: Letter, texts: Sequence[str]) -> None:
    missing = sorted({c for t in texts for c in t if c != "\n" and not font_covers(c)})
    if missing:
        raise ValueError(
            f"{letter.title} {letter.number}: フォントにない文字があります"
            "（代替字にしてください）: " + " ".join(f"{c}(U+{ord(c):04X})" for c in missing)
        )
    if any(mask_my_numbers_in(t) != t for t in texts):
        raise ValueError(f"{letter.title} {letter.number}: 個人番号と同じ形の数字は印字できません")


def letters_pdf(
    letters: Sequence[Letter],
    *,
    title: str,
    municipality: str,
    contact: str,
    contact_label: str = "問い合わせ先",
) -> bytes:
    """One PDF for a batch of letters, each from a new page, in the given order (module
    docstring); `title` is the PDF's own."""
    if not letters:
        raise ValueError(f"{title}がありません")
    fonts_register()
    font, size, leading = CONTACT
    contact_lines = text_wrap(f"{contact_label}　{contact}", font, size, WIDTH - 14 * mm)
    layouts = []
    for letter in letters:
        if not letter.blocks:
            raise ValueError(f"{letter.title} {letter.number}: 本文がありません")
        _check(letter, [municipality, contact, *_texts(letter)])
        layouts.append(_layout(letter, contact_lines=len(contact_lines)))
    buffer = io.BytesIO()
    c = japanese_canvas(buffer)
    c.setTitle(title)
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


def _draw_first_header(c: Canvas, layout: _Layout, municipality: str) -> None:
    letter = layout.letter
    window_header_draw(
        c,
        postal_code=letter.addressee.postal_code,
        address_lines=layout.address_lines,
        name_lines=layout.name_lines,
        number=letter.number,
        issued_on=format_wareki(letter.issued_on),
        issuer=f"{municipality}長",
        title=letter.title,
        title_y=layout.title_y,
    )


def _draw_later_header(c: Canvas, letter: Letter) -> None:
    c.setFont(GOTHIC, 12)
    c.drawString(LEFT, PAGE_H - 22 * mm, f"{letter.title}（続き）")
    c.setFont(GOTHIC, 9)
    c.drawRightString(RIGHT, PAGE_H - 20 * mm, letter.number)
    c.setFont(MINCHO, 10.5)
    c.drawRightString(RIGHT, PAGE_H - 27 * mm, f"{letter.addressee.name}　様")
    c.setLineWidth(LINE)
    c.line(LEFT, PAGE_H - 31 * mm, RIGHT, PAGE_H - 31 * mm)
