"""PDF reports with an embedded Japanese font (reportlab + Debian fonts-ipaexfont).

Used for the office's own reports (自己点検, 開示資料): a title block, then sections of
paragraphs, key–value rows and tables. Forms with a fixed layout (証・通知書) draw on the
canvas themselves but register the fonts through `fonts_register` too.

The font is embedded as a subset (reportlab's TTFont), so a PDF opens with the same glyphs on
a machine without the font — what a report handed to a resident or an auditor needs.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from django.conf import settings
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
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
    doc.build(story, onFirstPage=_footer, onLaterPages=_footer)
    return buffer.getvalue()
