"""PDF reports with an embedded Japanese font (reportlab + Debian fonts-ipaexfont).

Used for the office's own reports (自己点検, 開示資料): a title block, then sections of
paragraphs, key–value rows and tables. Forms with a fixed layout (証・通知書) draw on the
canvas themselves but register the fonts through `fonts_register` too.

The font is embedded as a subset (reportlab's TTFont), so a PDF opens with the same glyphs on
a machine without the font — what a report handed to a resident or an auditor needs.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.flowables import Flowable

GOTHIC = "IPAexGothic"
MINCHO = "IPAexMincho"

_FONT_FILES = {
    GOTHIC: ("ipaexfont-gothic/ipaexg.ttf", "fonts-japanese-gothic.ttf"),
    MINCHO: ("ipaexfont-mincho/ipaexm.ttf", "fonts-japanese-mincho.ttf"),
}
_FONT_DIRS = ("/usr/share/fonts/opentype", "/usr/share/fonts/truetype")


class FontMissing(RuntimeError):
    """The Japanese font is not installed (`make setup` installs Debian fonts-ipaexfont)."""


def _font_path(name: str) -> Path:
    dirs = [getattr(settings, "KOKUHO_FONT_DIR", None), *_FONT_DIRS]
    for directory in filter(None, dirs):
        for relative in _FONT_FILES[name]:
            candidate = Path(directory) / relative
            if candidate.is_file():
                return candidate
    raise FontMissing(f"フォント {name} が見つかりません（fonts-ipaexfont を導入してください）")


@cache
def fonts_register() -> None:
    """Register the IPAex fonts with reportlab once per process."""
    for name in (GOTHIC, MINCHO):
        pdfmetrics.registerFont(TTFont(name, str(_font_path(name))))


@dataclass(frozen=True)
class Section:
    """One block of a report: a heading, then any of paragraphs, key–value rows, a table."""

    heading: str
    paragraphs: Sequence[str] = ()
    rows: Sequence[tuple[str, str]] = ()
    table_header: Sequence[str] = ()
    table: Sequence[Sequence[str]] = ()
    empty_text: str = ""
    col_widths: Sequence[float] | None = None


@dataclass(frozen=True)
class Report:
    title: str
    subtitle: str = ""
    meta: Sequence[tuple[str, str]] = ()
    sections: Sequence[Section] = field(default_factory=tuple)
    footer: str = ""
    author: str = "Kokuho"


def japanese_canvas(buffer: Any, *, pagesize: tuple[float, float] = A4, **kwargs: Any) -> Canvas:
    """A reportlab canvas whose initial font is IPAex, not Helvetica: reportlab names its
    initial font in every page it starts, so a canvas left at Helvetica writes a PDF that
    names a font it does not embed. Every PDF of the product starts here (or in
    `report_pdf`, which hands this to platypus)."""
    fonts_register()
    for name, value in (("initialFontName", GOTHIC), ("pageCompression", 1), ("lang", "ja")):
        if kwargs.get(name) is None:  # platypus passes its own None
            kwargs[name] = value
    return Canvas(buffer, pagesize=pagesize, **kwargs)


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle(
        "body", fontName=GOTHIC, fontSize=9, leading=13, wordWrap="CJK", alignment=TA_LEFT
    )
    return {
        "body": base,
        "cell": ParagraphStyle("cell", parent=base, fontSize=8, leading=11),
        "head": ParagraphStyle("head", parent=base, fontSize=11, leading=16, spaceBefore=8),
        "title": ParagraphStyle("title", parent=base, fontSize=16, leading=22),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=10, leading=14),
    }


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _grid(data: list[list[Flowable]], widths: Sequence[float] | None, header: bool) -> Table:
    table = Table(data, colWidths=widths, repeatRows=1 if header else 0, hAlign="LEFT")
    style = [
        # The cells are Paragraphs, but a table sets its cells' font anyway (Helvetica unless
        # told): named in the file, it would be a font the PDF does not embed.
        ("FONTNAME", (0, 0), (-1, -1), GOTHIC),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")))
    table.setStyle(TableStyle(style))
    return table


def report_pdf(report: Report) -> bytes:
    """Render `report` to PDF bytes (A4 portrait, page numbers in the footer)."""
    fonts_register()
    styles = _styles()
    width = A4[0] - 30 * mm
    story: list[Flowable] = [Paragraph(_escape(report.title), styles["title"])]
    if report.subtitle:
        story.append(Paragraph(_escape(report.subtitle), styles["subtitle"]))
    if report.meta:
        cells = [
            [Paragraph(_escape(k), styles["cell"]), Paragraph(_escape(v), styles["cell"])]
            for k, v in report.meta
        ]
        story += [Spacer(1, 4 * mm), _grid(cells, [40 * mm, width - 40 * mm], header=False)]
    for section in report.sections:
        block: list[Flowable] = [Paragraph(_escape(section.heading), styles["head"])]
        block += [Paragraph(_escape(p), styles["body"]) for p in section.paragraphs]
        if section.rows:
            cells = [
                [Paragraph(_escape(k), styles["cell"]), Paragraph(_escape(v), styles["cell"])]
                for k, v in section.rows
            ]
            block.append(_grid(cells, [45 * mm, width - 45 * mm], header=False))
        if section.table:
            head = [[Paragraph(_escape(h), styles["cell"]) for h in section.table_header]]
            body = [[Paragraph(_escape(str(c)), styles["cell"]) for c in r] for r in section.table]
            widths = section.col_widths
            if widths is None and section.table_header:
                widths = [width / len(section.table_header)] * len(section.table_header)
            block.append(_grid(head + body if head[0] else body, widths, header=bool(head[0])))
        elif section.empty_text:
            block.append(Paragraph(_escape(section.empty_text), styles["body"]))
        story.append(KeepTogether(block[:2]))
        story += block[2:]

    def _footer(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(GOTHIC, 7)
        text = f"{report.footer}　{doc.page} ページ" if report.footer else f"{doc.page} ページ"
        canvas.drawRightString(A4[0] - 15 * mm, 10 * mm, text)
        canvas.restoreState()

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=18 * mm,
        title=report.title,
        author=report.author,
    )
    doc.build(story, onFirstPage=_footer, onLaterPages=_footer, canvasmaker=japanese_canvas)
    return buffer.getvalue()


# --- Forms drawn on the canvas: measuring, line breaking, the window-envelope header -------
# Shared by the 高額療養費 notices, the 証・通知 and the 返還のお願い.

# Characters that may not start a line (行頭禁則) or end one (行末禁則).
NO_START = frozenset(
    "、。，．,.:;!?)]}）」』】〕〉》］｝・：；？！ーぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ々〜～…‥％%円"
)
NO_END = frozenset("（「『【〔〈《［｛([{")
# ASCII words (numbers with their commas, codes) stay whole; everything else breaks anywhere.
WORDS = re.compile(r"[\x21-\x7e]+| +|.")


class Widths(dict[str, float]):
    """Advance widths of one font by character (1/1000 em); unknown characters are 1 em."""

    def __missing__(self, char: str) -> float:
        return 1000.0


@cache
def char_widths(font: str) -> Widths:
    fonts_register()
    face = pdfmetrics.getFont(font).face
    return Widths((chr(code), width) for code, width in face.charWidths.items())


def font_covers(char: str) -> bool:
    """Whether the embedded fonts have the character (both IPAex faces cover the same)."""
    return char in char_widths(MINCHO)


def text_width(text: str, font: str, size: float) -> float:
    return sum(map(char_widths(font).__getitem__, text)) * size / 1000.0


@lru_cache(maxsize=8192)
def text_wrap(
    text: str, font: str, size: float, width: float, words: re.Pattern[str] = WORDS
) -> tuple[str, ...]:
    """Break `text` into lines no wider than `width` points; "\\n" always breaks.

    `words` are kept whole unless wider than a line. 禁則: a line does not start with
    、。）円… nor end with （「 — the word before is carried down with it (追い出し), or, when
    the line has nothing else, the character hangs past the width (ぶら下げ; a caller for
    whom nothing may stick out checks the widths). Cached: fixed texts break once a process.
    """
    widths = char_widths(font)
    limit = width * 1000.0 / size
    lines: list[str] = []
    for paragraph in text.split("\n"):
        if sum(map(widths.__getitem__, paragraph)) <= limit:  # most lines: no break at all
            lines.append(paragraph.rstrip(" "))
        else:
            lines += _break(paragraph, widths, limit, words)
    return tuple(lines)


def _break(paragraph: str, widths: Widths, limit: float, words: re.Pattern[str]) -> list[str]:
    lines: list[str] = []
    line: list[tuple[str, float]] = []
    used = 0.0
    for word in words.findall(paragraph):
        word_units = widths[word] if len(word) == 1 else sum(map(widths.__getitem__, word))
        # A word longer than a line breaks anywhere.
        pieces = [(word, word_units)] if word_units <= limit else [(c, widths[c]) for c in word]
        for token, units in pieces:
            if token[0] == " ":
                if line:
                    line.append((token, units))
                    used += units
                continue
            if used + units <= limit or not line:
                line.append((token, units))
                used += units
                continue
            _rstrip(line)
            carry = [(token, units)]
            while carry[0][0][0] in NO_START and len(line) > 1:  # 追い出し
                carry.insert(0, line.pop())
                _rstrip(line)
            if carry[0][0][0] in NO_START:  # nothing left to push out: ぶら下げ
                line += carry
                used += units  # the others were counted already
                continue
            while len(line) > 1 and line[-1][0][-1] in NO_END:
                carry.insert(0, line.pop())
                _rstrip(line)
            lines.append("".join(t for t, _ in line))
            line, used = carry, sum(u for _, u in carry)
    _rstrip(line)
    lines.append("".join(t for t, _ in line))
    return lines


def _rstrip(line: list[tuple[str, float]]) -> None:
    while line and line[-1][0][0] == " ":
        line.pop()


PAGE_W, PAGE_H = A4
FORM_RIGHT = PAGE_W - 20 * mm
ADDRESS_X = 25 * mm  # the addressee block sits in a 長3 window envelope's window
ADDRESS_TOP = PAGE_H - 29 * mm  # baseline of the first address line


def window_header_draw(
    c: Canvas,
    *,
    postal_code: str,
    address_lines: Sequence[str],
    name_lines: Sequence[str],
    number: str,
    issued_on: str,
    issuer: str,
    title: str,
    title_y: float,
) -> None:
    """The first page's head of a mailed form: 〒, 住所 and 氏名 様 where the window shows
    them, the form's number (「通知番号　…」), date and issuer top right, and the title."""
    if postal_code:  # the registry may not have one
        c.setFont(GOTHIC, 10)
        c.drawString(ADDRESS_X, PAGE_H - 22 * mm, f"〒{postal_code}")
    y = ADDRESS_TOP
    c.setFont(MINCHO, 10.5)
    for line in address_lines:
        c.drawString(ADDRESS_X, y, line)
        y -= 15
    y -= 8
    c.setFont(MINCHO, 13)
    for line in name_lines:
        c.drawString(ADDRESS_X + 4 * mm, y, line)
        y -= 18
    c.setFont(GOTHIC, 9)
    c.drawRightString(FORM_RIGHT, PAGE_H - 20 * mm, number)
    c.setFont(MINCHO, 10.5)
    c.drawRightString(FORM_RIGHT, PAGE_H - 27 * mm, issued_on)
    c.setFont(MINCHO, 11)
    c.drawRightString(FORM_RIGHT, PAGE_H - 35 * mm, issuer)
    c.setFont(GOTHIC, 16)
    c.drawCentredString(PAGE_W / 2, title_y, title)
