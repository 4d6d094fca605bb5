"""高額療養費の通知書: 支給決定通知書 and 支給申請のお知らせ（申請勧奨） as PDF.

Plain data in, PDF bytes out: the caller (the workflow's services) reads its models, masks
what must be masked (振込先) and hands over frozen dataclasses; nothing here touches the
database, so a batch of a month's notices is one pass over a list.

Layout (A4 portrait, one notice from a new page, docs/decisions.md 100–109):

* page 1 — the addressee block where a 長3 window envelope shows it (〒, 住所, 氏名 様),
  the notice number, issue date (和暦) and issuer top right, the title, the body with its
  legal basis, 記, the table of the decision, the per-person table, the 計算明細; at the
  foot the 教示 (decisions only, always on page 1) and the contact line;
* continuation pages — only when the 計算明細 (or anything else in the flow) does not fit:
  a short header naming the notice and the addressee, the rest of the flow, the contact line
  and 「1/2」 marks.

Drawn on the canvas with the embedded IPAex fonts (`kokuho.core.pdf`), one document for
the whole batch; the text is broken into lines here (禁則: no line starts with 、。）円 … or
ends with （「; numbers and codes are never split). `bench/notices_pdf.py` measures the batch:
reportlab's own drawing of the same calls is ~90 % of the time.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from kokuho.core.mynumber import mask_my_numbers_in
from kokuho.core.pdf import (
    GOTHIC,
    MINCHO,
    Widths,
    char_widths,
    fonts_register,
    japanese_canvas,
    text_width,
    text_wrap,
    window_header_draw,
)
from kokuho.core.wareki import format_wareki, format_wareki_month

__all__ = [
    "DecisionNotice",
    "InvitationNotice",
    "NoticeAddressee",
    "NoticePerson",
    "appeal_paragraphs",
    "decision_notices_pdf",
    "invitation_notices_pdf",
]

DECISION_TITLE = "高額療養費支給決定通知書"
INVITATION_TITLE = "高額療養費支給申請のお知らせ"
LEGAL_BASIS = "国民健康保険法第57条の2"


# --- Input ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoticeAddressee:
    postal_code: str  # "799-0001"
    address: str  # "みかん市本町1-1"; a "\n" starts a new line (方書)
    name: str  # 世帯主 氏名


@dataclass(frozen=True)
class NoticePerson:
    name: str
    counted_copay: int  # 合算対象の一部負担金 (yen)
    benefit: int  # 支給額 (按分, yen)


@dataclass(frozen=True)
class DecisionNotice:
    """高額療養費支給決定通知書."""

    notice_no: str
    issued_on: date
    addressee: NoticeAddressee
    insured_symbol: str  # 記号
    insured_number: str  # 番号
    service_month: date  # 診療月 (first day)
    amount: int  # 支給額 (yen)
    decided_on: date
    kind_label: str  # "申請による決定" | "申請簡素化による決定"
    payee: str  # 振込先, masked by the caller
    payment_due_on: date | None  # 振込予定日
    persons: tuple[NoticePerson, ...]
    steps: tuple[str, ...]  # 計算明細, ready-made lines
    provisional: bool = False  # a 試算 is never a decision: refused


@dataclass(frozen=True)
class InvitationNotice:
    """高額療養費支給申請のお知らせ（申請勧奨）."""

    notice_no: str
    issued_on: date
    addressee: NoticeAddressee
    insured_symbol: str
    insured_number: str
    service_month: date
    amount: int  # 支給見込額
    apply_by: date  # 申請期限 (国保法110条: 2 years from the 1st of the month after 診療月)
    first_time: bool  # first invitation of the household: explain 申請簡素化
    persons: tuple[NoticePerson, ...]
    steps: tuple[str, ...]


# --- Public entry points --------------------------------------------------------------------


def decision_notices_pdf(
    notices: Sequence[DecisionNotice], *, municipality: str, prefecture: str = ""
) -> bytes:
    """One PDF for a batch of 支給決定通知書, each notice from a new page, in the given order.

    ``prefecture`` names the 国民健康保険審査会 of the 教示 (「愛媛県国民健康保険審査会」);
    without it the 教示 says 「国民健康保険審査会」. Raises ValueError (nothing is drawn) for
    a provisional notice, a non-positive amount, persons whose 支給額 do not add up to it,
    a character outside the font, or anything shaped like a 個人番号.
    """
    pages = [_decision_layout(n, municipality=municipality, prefecture=prefecture) for n in notices]
    return _render(pages, title=DECISION_TITLE, municipality=municipality)


def invitation_notices_pdf(notices: Sequence[InvitationNotice], *, municipality: str) -> bytes:
    """One PDF for a batch of 支給申請のお知らせ (申請勧奨); same rules as the decisions."""
    pages = [_invitation_layout(n, municipality=municipality) for n in notices]
    return _render(pages, title=INVITATION_TITLE, municipality=municipality)


# --- Formatting -----------------------------------------------------------------------------


def _yen(amount: int) -> str:
    return f"{amount:,}円"


def _month(d: date) -> str:
    return format_wareki_month(d)


def _symbol_number(symbol: str, number: str) -> str:
    return f"記号 {symbol}　番号 {number}"


# --- Validation -----------------------------------------------------------------------------


def _covered() -> Widths:
    return char_widths(MINCHO)  # both IPAex faces cover the same characters


def _check_text(notice_no: str, texts: Sequence[str]) -> None:
    covered = _covered()
    missing = sorted({c for t in texts for c in t if c != "\n" and c not in covered})
    if missing:
        raise ValueError(
            f"通知 {notice_no}: フォントにない文字があります（代替字にしてください）: "
            + " ".join(f"{c}(U+{ord(c):04X})" for c in missing)
        )
    for text in texts:
        if mask_my_numbers_in(text) != text:
            raise ValueError(f"通知 {notice_no}: 個人番号と同じ形の数字は印字できません")


def _check_amounts(notice_no: str, amount: int, persons: Sequence[NoticePerson]) -> None:
    if amount <= 0:
        raise ValueError(f"通知 {notice_no}: 支給額が0円以下の通知は作れません（不支給は別の通知）")
    if any(p.benefit < 0 or p.counted_copay < 0 for p in persons):
        raise ValueError(f"通知 {notice_no}: 負の金額があります")
    total = sum(p.benefit for p in persons)
    if total != amount:
        raise ValueError(
            f"通知 {notice_no}: 被保険者ごとの支給額の合計 {_yen(total)} が支給額 "
            f"{_yen(amount)} と一致しません"
        )


def _check_month(notice_no: str, month: date) -> None:
    if month.day != 1:
        raise ValueError(f"通知 {notice_no}: 診療月は月の初日で渡してください: {month}")


# --- Geometry -------------------------------------------------------------------------------

PAGE_W, PAGE_H = A4
LEFT = 20 * mm
RIGHT = PAGE_W - 20 * mm
WIDTH = RIGHT - LEFT
FLOW_TOP_LATER = PAGE_H - 40 * mm  # where the flow starts on a continuation page
FOOT = 12 * mm  # baseline of the contact line
LATER_BOTTOM = FOOT + 8 * mm  # the flow's lowest point on a page without a box at the foot
ADDRESS_X = 25 * mm  # the addressee block sits in a 長3 window envelope's window
ADDRESS_TOP = PAGE_H - 29 * mm  # baseline of the first address line
ADDRESS_W = 85 * mm

BODY = (MINCHO, 10.5, 16.5)  # font, size, leading
CELL = (MINCHO, 10.0)
LABEL = (GOTHIC, 9.0)
STEP = (GOTHIC, 7.8, 10.6)
APPEAL = (MINCHO, 7.6, 10.4)
GREY = 0.9
LINE = 0.6

Draw = Callable[[Canvas, float], None]  # (canvas, top y of the item)
_FootRow = tuple[str, float, str]  # number (or ""), indent of the text, text


@dataclass(slots=True)
class _Item:
    height: float
    draw: Draw
    keep_with_next: bool = False
    step: bool = False  # a 計算明細 line: a page that starts with one gets 「計算明細（続き）」


@dataclass(slots=True)
class _Layout:
    """One notice, ready to draw: fixed parts of page 1, then the flowing items."""

    notice_no: str
    title: str
    addressee: NoticeAddressee
    issued_on: date
    items: list[_Item]
    foot: list[_FootRow]  # the boxed note at the foot of page 1 (教示, 申請簡素化)
    foot_height: float  # 0 without a note
    address_lines: tuple[str, ...]
    name_lines: tuple[str, ...]
    title_y: float  # baseline of the title; the flow starts 8 mm below


def _layout(
    *, notice_no: str, title: str, addressee: NoticeAddressee, issued_on: date,
    items: list[_Item], foot: list[str],
) -> _Layout:  # fmt: skip
    address_lines = text_wrap(addressee.address, MINCHO, 10.5, ADDRESS_W)
    name_lines = text_wrap(f"{addressee.name}　様", MINCHO, 13, ADDRESS_W)
    bottom = ADDRESS_TOP - 15 * len(address_lines) - 8 - 18 * len(name_lines)
    title_y = min(PAGE_H - 58 * mm, bottom - 6 * mm)
    rows, height = _foot_box(foot) if foot else ([], 0.0)
    return _Layout(
        notice_no, title, addressee, issued_on, items, rows, height, address_lines, name_lines,
        title_y,
    )  # fmt: skip


def _text_item(text: str, style: tuple[str, float, float]) -> list[_Item]:
    """A paragraph: one item per line, so that it can break over a page."""
    font, size, leading = style
    items = []
    for line in text_wrap(text, font, size, WIDTH):

        def draw(c: Canvas, top: float, line: str = line) -> None:
            c.setFont(font, size)
            c.drawString(LEFT, top - size, line)

        items.append(_Item(leading, draw))
    return items


def _heading(text: str, *, space_before: float = 4 * mm) -> _Item:
    def draw(c: Canvas, top: float) -> None:
        c.setFont(GOTHIC, 10.5)
        c.drawString(LEFT, top - space_before - 10.5, f"■ {text}")

    return _Item(space_before + 6.5 * mm, draw, keep_with_next=True)


def _centred(text: str) -> _Item:
    def draw(c: Canvas, top: float) -> None:
        c.setFont(MINCHO, 10.5)
        c.drawCentredString(PAGE_W / 2, top - 2 * mm - 10.5, text)

    return _Item(8 * mm, draw)


def _key_values(rows: Sequence[tuple[str, str, bool]]) -> _Item:
    """A two-column table: label (grey) and value; a third field marks the amount row."""
    label_w = 38 * mm
    pad = 2.5 * mm
    cells = []
    for label, value, strong in rows:
        font, size = (GOTHIC, 12.0) if strong else CELL
        lines = text_wrap(value, font, size, WIDTH - label_w - 2 * pad)
        height = max(7 * mm, len(lines) * size * 1.45 + 3 * mm)
        cells.append((label, lines, font, size, height))
    total = sum(h for *_, h in cells)

    def draw(c: Canvas, top: float) -> None:
        c.setLineWidth(LINE)
        y = top
        c.setFillGray(GREY)
        for *_, height in cells:
            c.rect(LEFT, y - height, label_w, height, stroke=0, fill=1)
            y -= height
        c.setFillGray(0)
        c.rect(LEFT, top - total, WIDTH, total)
        c.line(LEFT + label_w, top, LEFT + label_w, top - total)
        y = top
        for label, lines, font, size, height in cells:
            if y != top:
                c.line(LEFT, y, RIGHT, y)
            c.setFont(*LABEL)
            c.drawString(LEFT + pad, y - height / 2 - LABEL[1] * 0.35, label)
            c.setFont(font, size)
            block = len(lines) * size * 1.45
            baseline = y - (height - block) / 2 - size * 1.1
            for line in lines:
                c.drawString(LEFT + label_w + pad, baseline, line)
                baseline -= size * 1.45
            y -= height

    return _Item(total, draw)


def _persons_table(persons: Sequence[NoticePerson], amount_label: str) -> _Item:
    widths = (WIDTH - 100 * mm, 50 * mm, 50 * mm)
    header = ("氏名", "合算対象の一部負担金", amount_label)
    rows = [(p.name, _yen(p.counted_copay), _yen(p.benefit)) for p in persons]
    rows.append(
        ("合計", _yen(sum(p.counted_copay for p in persons)), _yen(sum(p.benefit for p in persons)))
    )
    row_h = 6 * mm
    pad = 2.5 * mm
    total = row_h * (len(rows) + 1)

    def draw(c: Canvas, top: float) -> None:
        c.setLineWidth(LINE)
        c.setFillGray(GREY)
        c.rect(LEFT, top - row_h, WIDTH, row_h, stroke=0, fill=1)
        c.rect(LEFT, top - total, WIDTH, row_h, stroke=0, fill=1)  # 合計
        c.setFillGray(0)
        c.rect(LEFT, top - total, WIDTH, total)
        x = LEFT
        for w in widths[:-1]:
            x += w
            c.line(x, top, x, top - total)
        for i in range(1, len(rows) + 1):
            c.line(LEFT, top - i * row_h, RIGHT, top - i * row_h)
        offset = row_h / 2 + 3.2
        c.setFont(*LABEL)
        x = LEFT
        for w, text in zip(widths, header, strict=True):
            c.drawCentredString(x + w / 2, top - offset, text)
            x += w
        y = top - row_h
        for i, (name, copay, benefit) in enumerate(rows, start=1):
            c.setFont(*(LABEL if i == len(rows) else CELL))
            c.drawString(LEFT + pad, y - offset, name)
            c.drawRightString(LEFT + widths[0] + widths[1] - pad, y - offset, copay)
            c.drawRightString(RIGHT - pad, y - offset, benefit)
            y -= row_h

    return _Item(total, draw)


def _step_line(text: str, mark: str) -> _Item:
    font, size, leading = STEP
    gutter = 7 * mm

    def draw(c: Canvas, top: float) -> None:
        c.setFont(font, size)
        if mark:
            c.drawRightString(LEFT + gutter - 2 * mm, top - size, mark)
        c.drawString(LEFT + gutter, top - size, text)

    return _Item(leading, draw, step=True)


def _steps(steps: Sequence[str]) -> list[_Item]:
    """計算明細: each line numbered, wrapped with a hanging indent."""
    font, size, _ = STEP
    items = []
    for number, text in enumerate(steps, start=1):
        for i, line in enumerate(text_wrap(text, font, size, WIDTH - 7 * mm)):
            items.append(_step_line(line, f"{number}." if i == 0 else ""))
    return items


# --- The two notices ------------------------------------------------------------------------


def appeal_paragraphs(municipality: str, prefecture: str) -> list[str]:
    """教示 (行政不服審査法82条, 行政事件訴訟法46条): where and until when to object.

    The heading, then the numbered paragraphs, as `_foot_box` takes them; shared with the
    other benefits' decision notices (`lifecycle.notice_pdf`).
    """
    board = f"{prefecture}国民健康保険審査会"
    head = municipality + "長"
    return [
        "【教示】",
        f"1　この決定に不服がある場合は、この決定があったことを知った日（この通知書を受け取った日）"
        f"の翌日から起算して3か月以内に、{board}に対して、文書または口頭で審査請求をすることが"
        "できます（国民健康保険法第91条第1項、第99条）。",
        "2　この決定の取消しを求める訴え（取消訴訟）は、審査請求に対する裁決を経た後でなければ"
        "提起することができません（国民健康保険法第103条）。取消訴訟は、裁決があったことを"
        f"知った日から6か月以内に、{municipality}を被告として（訴訟において{municipality}を代表する者は"
        f"{head}となります）提起することができます（行政事件訴訟法第14条）。ただし、審査請求が"
        "あった日から3か月を経過しても裁決がないときなどは、裁決を経ないで取消訴訟を提起する"
        "ことができます（行政事件訴訟法第8条第2項）。",
    ]


def _decision_layout(n: DecisionNotice, *, municipality: str, prefecture: str) -> _Layout:
    if n.provisional:
        raise ValueError(f"通知 {n.notice_no}: 試算（未確定の値を含む計算）は支給決定にできません")
    _check_month(n.notice_no, n.service_month)
    _check_amounts(n.notice_no, n.amount, n.persons)
    month = _month(n.service_month)
    body = (
        f"　{month}診療分の高額療養費について、{LEGAL_BASIS}の規定により、下記のとおり支給する"
        "ことに決定しましたので通知します。支給額は下記の口座へ振り込みます。"
    )
    table = [
        ("診療年月", f"{month}診療分", False),
        ("記号・番号", _symbol_number(n.insured_symbol, n.insured_number), False),
        ("支給額", _yen(n.amount), True),
        ("決定区分", n.kind_label, False),
        ("決定日", format_wareki(n.decided_on), False),
        ("振込先", n.payee, False),
        ("振込予定日", format_wareki(n.payment_due_on) if n.payment_due_on else "未定", False),
    ]
    foot = appeal_paragraphs(municipality, prefecture)
    _check_text(
        n.notice_no,
        [municipality, prefecture, n.notice_no, *_addressee_texts(n.addressee), body, n.payee,
         n.kind_label, n.insured_symbol, n.insured_number, *(p.name for p in n.persons),
         *n.steps],
    )  # fmt: skip
    items = [*_text_item(body, BODY), _centred("記"), _key_values(table)]
    items += [_heading("支給額の内訳"), _persons_table(n.persons, "支給額")]
    items += [_heading("計算明細"), *_steps(n.steps)]
    return _layout(
        notice_no=n.notice_no, title=DECISION_TITLE, addressee=n.addressee,
        issued_on=n.issued_on, items=items, foot=foot,
    )  # fmt: skip


def _invitation_layout(n: InvitationNotice, *, municipality: str) -> _Layout:
    _check_month(n.notice_no, n.service_month)
    _check_amounts(n.notice_no, n.amount, n.persons)
    month = _month(n.service_month)
    body = [
        f"　{month}診療分の医療費について、医療機関等の窓口で支払った一部負担金が自己負担限度額を"
        f"超えたため、高額療養費（{LEGAL_BASIS}）が支給される見込みです。支給を受けるには申請が"
        "必要です。同封の申請書に必要事項を記入し、申請期限までに提出してください。",
        "　申請期限を過ぎると、時効により支給を受けられなくなります（国民健康保険法第110条）。"
        "支給見込額は診療報酬明細書（レセプト）に基づくもので、審査の結果、変わることがあります。",
    ]
    foot = (
        [
            "【申請簡素化について】",
            "　申請書の「申請簡素化」欄で希望された場合、次の診療月からの高額療養費は、新たに申請"
            "していただかなくても、今回の申請で届け出た振込先へ振り込み、支給決定通知書でお知らせ"
            "します。振込先や世帯主が変わったときは、改めて申請が必要です。",
        ]
        if n.first_time
        else []
    )
    table = [
        ("診療年月", f"{month}診療分", False),
        ("記号・番号", _symbol_number(n.insured_symbol, n.insured_number), False),
        ("支給見込額", _yen(n.amount), True),
        ("申請期限", format_wareki(n.apply_by), False),
    ]
    _check_text(
        n.notice_no,
        [municipality, n.notice_no, *_addressee_texts(n.addressee), n.insured_symbol,
         n.insured_number, *(p.name for p in n.persons), *n.steps],
    )  # fmt: skip
    items = [item for text in body for item in _text_item(text, BODY)]
    items += [_centred("記"), _key_values(table)]
    items += [_heading("支給見込額の内訳"), _persons_table(n.persons, "支給見込額")]
    items += [_heading("計算明細"), *_steps(n.steps)]
    return _layout(
        notice_no=n.notice_no, title=INVITATION_TITLE, addressee=n.addressee,
        issued_on=n.issued_on, items=items, foot=foot,
    )  # fmt: skip


def _addressee_texts(a: NoticeAddressee) -> list[str]:
    return [a.postal_code, a.address, a.name]


# --- Drawing --------------------------------------------------------------------------------


def _draw_first_header(c: Canvas, layout: _Layout, municipality: str) -> None:
    """Addressee block, number, issue date, issuer and title."""
    window_header_draw(
        c,
        postal_code=layout.addressee.postal_code,
        address_lines=layout.address_lines,
        name_lines=layout.name_lines,
        number=f"通知番号　{layout.notice_no}",
        issued_on=format_wareki(layout.issued_on),
        issuer=f"{municipality}長",
        title=layout.title,
        title_y=layout.title_y,
    )


def _draw_later_header(c: Canvas, layout: _Layout) -> None:
    c.setFont(GOTHIC, 12)
    c.drawString(LEFT, PAGE_H - 22 * mm, f"{layout.title}（続き）")
    c.setFont(GOTHIC, 9)
    c.drawRightString(RIGHT, PAGE_H - 20 * mm, f"通知番号　{layout.notice_no}")
    c.setFont(MINCHO, 10.5)
    c.drawRightString(RIGHT, PAGE_H - 27 * mm, f"{layout.addressee.name}　様")
    c.setLineWidth(LINE)
    c.line(LEFT, PAGE_H - 31 * mm, RIGHT, PAGE_H - 31 * mm)


def _foot_box(paragraphs: Sequence[str]) -> tuple[list[_FootRow], float]:
    """A boxed note at the foot of page 1 (教示, 申請簡素化): its rows and the box height.

    The first paragraph is the heading. A paragraph that starts with a number and a full-width
    space hangs after the number.
    """
    font, size, leading = APPEAL
    inner = WIDTH - 6 * mm
    rows: list[_FootRow] = []
    for text in paragraphs:
        mark, sep, rest = text.partition("　")
        if sep and mark.isdigit():
            indent = text_width(mark + sep, font, size)
            for i, line in enumerate(text_wrap(rest, font, size, inner - indent)):
                rows.append((mark if i == 0 else "", indent, line))
        else:
            rows += [("", 0.0, line) for line in text_wrap(text, font, size, inner)]
    return rows, len(rows) * leading + 4 * mm


def _draw_foot_box(c: Canvas, rows: Sequence[_FootRow], height: float) -> None:
    font, size, leading = APPEAL
    bottom = FOOT + 6 * mm
    x = LEFT + 3 * mm
    c.setLineWidth(LINE)
    c.rect(LEFT, bottom, WIDTH, height)
    y = bottom + height - 2 * mm - size
    for i, (mark, indent, line) in enumerate(rows):
        c.setFont(GOTHIC if i == 0 else font, size)
        if mark:
            c.drawString(x, y, mark)
        c.drawString(x + indent, y, line)
        y -= leading


def _plan(
    layout: _Layout, first_top: float, first_bottom: float
) -> list[list[tuple[_Item, float]]]:
    """Place the items on pages: [[(item, top y), …] per page]."""
    pages: list[list[tuple[_Item, float]]] = [[]]
    y, bottom = first_top, first_bottom
    items = layout.items
    i = 0
    while i < len(items):
        item = items[i]
        need = item.height
        if item.keep_with_next and i + 1 < len(items):
            need += items[i + 1].height
        if y - need < bottom and pages[-1]:
            if item.height > FLOW_TOP_LATER - LATER_BOTTOM:
                raise ValueError(f"通知 {layout.notice_no}: 1ページに収まらない表があります")
            pages.append([])
            y, bottom = FLOW_TOP_LATER, LATER_BOTTOM
            if item.step:
                heading = _heading("計算明細（続き）", space_before=0)
                pages[-1].append((heading, y))
                y -= heading.height
        pages[-1].append((item, y))
        y -= item.height
        i += 1
    return pages


def _render(layouts: Sequence[_Layout], *, title: str, municipality: str) -> bytes:
    if not layouts:
        raise ValueError("通知がありません")
    fonts_register()
    buffer = io.BytesIO()
    c = japanese_canvas(buffer)
    c.setTitle(title)
    c.setAuthor(municipality)
    c.setCreator("Kokuho")
    contact = f"問い合わせ先　{municipality} 国民健康保険課 給付係"
    for layout in layouts:
        first_bottom = FOOT + 10 * mm + layout.foot_height if layout.foot else LATER_BOTTOM
        pages = _plan(layout, layout.title_y - 8 * mm, first_bottom)
        for number, placed in enumerate(pages, start=1):
            if number == 1:
                _draw_first_header(c, layout, municipality)
            else:
                _draw_later_header(c, layout)
            for item, top in placed:
                item.draw(c, top)
            if number == 1 and layout.foot:  # after the flow, so the text reads in order
                _draw_foot_box(c, layout.foot, layout.foot_height)
            if number < len(pages):
                last, top = placed[-1]
                c.setFont(MINCHO, 8)
                c.drawRightString(RIGHT, top - last.height - 3 * mm, "（次ページに続きます）")
            c.setFont(GOTHIC, 9)
            c.drawString(LEFT, FOOT, contact)
            if len(pages) > 1:
                c.drawRightString(RIGHT, FOOT, f"{number}/{len(pages)}")
            c.showPage()
    _save_binary(c)
    return buffer.getvalue()


def _save_binary(c: Canvas) -> None:
    """Save with plain Flate streams, without reportlab's ASCII85 layer.

    ASCII85 is pure Python here (no rl_accel): ~20 % of a batch's time and 20 % of its size,
    for a file that is binary anyway. The switch is global in reportlab, so it is set only
    for the save and put back (a PDF saved by another thread meanwhile merely comes out
    binary too).
    """
    previous = rl_config.useA85
    rl_config.useA85 = 0
    try:
        c.save()
    finally:
        rl_config.useA85 = previous
