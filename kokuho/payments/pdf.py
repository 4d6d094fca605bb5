"""支払の帳票: the 支払明細書 of a run (for the 会計課) and the 支払通知書 to each payee, as PDF.

Plain data in, PDF bytes out (payments.md §5): the run reads its models and hands over frozen
dataclasses; nothing here touches the database. Drawn on the canvas with the embedded IPAex
fonts of `kokuho.core.pdf`, as the 高額療養費 notices are. Everything is checked before
anything is drawn: a character outside the font, a value too wide for its column, a full
account number on a notice — each is refused with a ValueError naming the field, never
printed as tofu or as a cut-off value.

* 支払明細書 — A4 landscape, internal: the run's head on every page, a table of every
  transfer (full account numbers; its header repeated on each page), then the totals per
  benefit, per 予算科目 and in all, and the 確認欄 (作成者・確認者・会計課); 「n / N」 at the foot.
* 支払通知書（振込のお知らせ） — A4 portrait, one page per payee, the head in the 長3 window
  (`window_header_draw`), the 振込先 with only the last 3 digits of the account, the items
  and their total, the name the transfer shows under, and the contact line.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from reportlab.lib.pagesizes import A4, landscape
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
    text_width,
    text_wrap,
    window_header_draw,
)
from kokuho.core.wareki import format_both, format_wareki
from kokuho.payments.models import AccountKind

REGISTER_TITLE = "支払明細書"
NOTICE_TITLE = "支払通知書（振込のお知らせ）"


@dataclass(frozen=True)
class RegisterLine:
    """One transfer of the run, as the 全銀 file carries it."""

    customer_code: str
    benefit: str  # label, e.g. 高額療養費
    budget_item: str
    atena_no: str
    decision: str  # e.g. "kogaku_decision:41"
    bank_code: str
    branch_code: str
    account_type: int  # 全銀 預金種目 (1 普通, 2 当座, 4 貯蓄, 9 その他)
    account_number: str
    payee_name: str  # half-width 全銀 kana as written in the file
    new_code: int
    amount: int


@dataclass(frozen=True)
class RegisterData:
    run_id: int
    pay_date: date
    sent_on: date
    payer_label: str
    lines: Sequence[RegisterLine]


@dataclass(frozen=True)
class NoticeItem:
    benefit: str
    decision_label: str  # e.g. "令和8年7月診療分 高額療養費"
    amount: int


@dataclass(frozen=True)
class PaymentNoticeData:
    postal_code: str
    address: str  # a "\n" starts a new line (方書)
    name: str  # the payee (受給者), as the registry has them
    pay_date: date
    bank_name: str
    branch_name: str
    account_type_label: str
    account_masked: str  # e.g. "****567": only the last 3 digits are printed
    holder: str
    items: Sequence[NoticeItem]
    notice_no: str
    issued_on: date
    payer_name: str = ""  # 振込依頼人名 as the passbook shows it, e.g. ﾐｶﾝｼ ｺｸﾐﾝｹﾝｺｳﾎｹﾝ
    honorific: str = "様"  # 御中 for an organisation payee (施術所, 国保連合会)


# --- Checks and cells -------------------------------------------------------------------------

MIN_SIZE = 5.5  # a cell's text is set smaller down to this, then refused
PAD = 1.5 * mm


@dataclass(frozen=True)
class _Col:
    title: str
    width: float
    align: str = "L"  # L, C or R


def _check(where: str, cells: Sequence[tuple[str, str, str]], cols: Sequence[_Col] = (),
           font: str = MINCHO, size: float = 10.0) -> None:  # fmt: skip
    """Refuse (label, field, text) cells with a character outside the font or, given their
    columns, too wide for them even at MIN_SIZE."""
    for i, (label, name, text) in enumerate(cells):
        missing = sorted({c for c in text if c != "\n" and not font_covers(c)})
        if missing:
            chars = " ".join(f"{c}(U+{ord(c):04X})" for c in missing)
            raise ValueError(f"{where}: {label}（{name}）にフォントにない文字があります: {chars}")
        if cols and _fit(text, font, size, cols[i].width - 2 * PAD) is None:
            raise ValueError(f"{where}: {label}（{name}）が欄に収まりません: {text}")


def _fit(text: str, font: str, size: float, width: float) -> float | None:
    """The size at which `text` fits `width` (at most `size`), or None below MIN_SIZE."""
    natural = text_width(text, font, size)
    if natural <= width:
        return size
    smaller = int(size * width / natural * 10) / 10
    return smaller if smaller >= MIN_SIZE else None


def _yen(amount: int) -> str:
    return f"{amount:,}円"


def _row(c: Canvas, x: float, top: float, cols: Sequence[_Col], cells: Sequence[str],
         font: str, size: float, height: float, grey: float | None = None) -> None:  # fmt: skip
    """One bordered table row; each cell's text set smaller when it must (checked before)."""
    total = sum(col.width for col in cols)
    right = x + total
    if grey is not None:
        c.setFillGray(grey)
        c.rect(x, top - height, total, height, stroke=0, fill=1)
        c.setFillGray(0)
    c.setLineWidth(0.5)
    c.rect(x, top - height, total, height)
    for col, text in zip(cols, cells, strict=True):
        fitted = _fit(text, font, size, col.width - 2 * PAD) or MIN_SIZE
        c.setFont(font, fitted)
        baseline = top - height / 2 - fitted * 0.35
        if col.align == "R":
            c.drawRightString(x + col.width - PAD, baseline, text)
        elif col.align == "C":
            c.drawCentredString(x + col.width / 2, baseline, text)
        else:
            c.drawString(x + PAD, baseline, text)
        x += col.width
        if x < right - 0.01:  # a divider between cells
            c.line(x, top, x, top - height)


def _new_canvas(title: str, pagesize: tuple[float, float]) -> tuple[io.BytesIO, Canvas]:
    fonts_register()
    buffer = io.BytesIO()
    # The initial font is IPAex too, so that no unembedded Helvetica is named in the file.
    c = japanese_canvas(buffer, pagesize=pagesize)
    c.setTitle(title)
    c.setAuthor(settings.KOKUHO_MUNICIPALITY_NAME)
    c.setCreator("Kokuho")
    return buffer, c


# --- 支払明細書 ---------------------------------------------------------------------------------

LAND_W, LAND_H = landscape(A4)
R_LEFT, R_RIGHT = 12 * mm, LAND_W - 12 * mm
R_TABLE_TOP = LAND_H - 30 * mm
R_BOTTOM = 15 * mm
R_ROW = 5 * mm
R_CELL = (GOTHIC, 7.5)
ACCOUNT_TYPES = dict(AccountKind.choices)

REGISTER_COLS = (  # column, label of the field in messages, field
    (_Col("顧客コード", 21 * mm), "顧客コード", "customer_code"),
    (_Col("給付", 22 * mm), "給付", "benefit"),
    (_Col("予算科目", 50 * mm), "予算科目", "budget_item"),
    (_Col("宛名番号", 19 * mm), "宛名番号", "atena_no"),
    (_Col("決定", 29 * mm), "決定", "decision"),
    (_Col("銀行", 10 * mm, "C"), "銀行コード", "bank_code"),
    (_Col("支店", 9 * mm, "C"), "支店コード", "branch_code"),
    (_Col("種目", 10 * mm, "C"), "預金種目", "account_type"),
    (_Col("口座番号", 15 * mm, "C"), "口座番号", "account_number"),
    (_Col("受取人名（全銀）", 44 * mm), "受取人名", "payee_name"),
    (_Col("新規", 8 * mm, "C"), "新規コード", "new_code"),
    (_Col("金額（円）", 24 * mm, "R"), "金額", "amount"),
)
R_COLS = (_Col("No.", 12 * mm, "R"), *(col for col, *_ in REGISTER_COLS))
BENEFIT_COLS = (_Col("給付", 42 * mm), _Col("件数", 15 * mm, "R"), _Col("金額", 28 * mm, "R"))
ITEM_COLS = (_Col("予算科目", 66 * mm), _Col("件数", 15 * mm, "R"), _Col("金額", 28 * mm, "R"))
STAMPS = ("作成者", "確認者", "会計課")
STAMP_W, STAMP_H = 22 * mm, 20 * mm


def _cell(line: RegisterLine, name: str) -> str:
    value = getattr(line, name)
    if name == "account_type":
        return ACCOUNT_TYPES[value]
    return f"{value:,}" if name == "amount" else str(value)


def _register_check(data: RegisterData) -> list[tuple[str, ...]]:
    """The table's cells, line by line, once every line is known to print."""
    if not data.lines:
        raise ValueError(f"支払明細 処理番号 {data.run_id}: 明細がありません")
    where = f"支払明細 処理番号 {data.run_id}"
    meta = _register_meta(data)
    _check(where, [("振込依頼人", "payer_label", meta)], [_Col("", R_RIGHT - R_LEFT)], GOTHIC, 9)
    rows = []
    for number, line in enumerate(data.lines, start=1):
        at = f"{where} {number}行目（顧客コード {line.customer_code}）"
        if line.account_type not in ACCOUNT_TYPES:
            raise ValueError(f"{at}: 預金種目（account_type）が不明です: {line.account_type}")
        if line.amount <= 0:
            raise ValueError(f"{at}: 金額（amount）が0円以下です")
        cells = [(label, name, _cell(line, name)) for _, label, name in REGISTER_COLS]
        _check(at, cells, R_COLS[1:], *R_CELL)
        rows.append((str(number), *(text for *_, text in cells)))
    return rows


def _totals(lines: Sequence[RegisterLine], key: Callable[[RegisterLine], str]) -> list[tuple]:
    buckets: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for line in lines:
        buckets[key(line)][0] += 1
        buckets[key(line)][1] += line.amount
    rows = [(name, f"{n:,}件", _yen(total)) for name, (n, total) in sorted(buckets.items())]
    return [*rows, ("合計", f"{len(lines):,}件", _yen(sum(x.amount for x in lines)))]


def _summary_height(by_benefit: list, by_item: list) -> float:
    tables = max(len(by_benefit), len(by_item)) + 1
    return 12 * mm + 6 * mm + max(tables * R_ROW, 5 * mm + STAMP_H)


def _draw_summary(c: Canvas, top: float, data: RegisterData, by_benefit: list, by_item: list):
    count, total = len(data.lines), sum(x.amount for x in data.lines)
    c.setFont(GOTHIC, 11)
    c.drawString(R_LEFT, top - 8 * mm, f"総計　{count:,}件　{_yen(total)}")
    caption_y, table_top = top - 16 * mm, top - 18 * mm
    stamps_x = R_RIGHT - STAMP_W * len(STAMPS)
    for x, cols, rows, caption in (
        (R_LEFT, BENEFIT_COLS, by_benefit, "給付別"),
        (R_LEFT + 92 * mm, ITEM_COLS, by_item, "予算科目別"),
        (stamps_x, (), (), "確認欄"),
    ):
        c.setFont(GOTHIC, 9)
        c.drawString(x, caption_y, caption)
        if not cols:
            continue
        _row(c, x, table_top, cols, [col.title for col in cols], *R_CELL, R_ROW, 0.9)
        for i, cells in enumerate(rows, start=1):
            grey = 0.95 if i == len(rows) else None
            _row(c, x, table_top - i * R_ROW, cols, cells, *R_CELL, R_ROW, grey)
    stamp_cols = [_Col(label, STAMP_W, "C") for label in STAMPS]
    _row(c, stamps_x, table_top, stamp_cols, STAMPS, *R_CELL, 5 * mm, 0.9)
    for i in range(len(STAMPS)):
        c.rect(stamps_x + i * STAMP_W, table_top - 5 * mm - STAMP_H, STAMP_W, STAMP_H)


def _register_meta(data: RegisterData) -> str:
    return (
        f"支払日　{format_both(data.pay_date)}　　送信日　{format_both(data.sent_on)}"
        f"　　振込依頼人　{data.payer_label}"
    )


def register_pdf(data: RegisterData) -> bytes:
    """The 支払明細書 of one run: every transfer, the totals and the 確認欄."""
    rows = _register_check(data)
    by_benefit = _totals(data.lines, lambda x: x.benefit)
    by_item = _totals(data.lines, lambda x: x.budget_item)
    summary = _summary_height(by_benefit, by_item)
    per_page = int((R_TABLE_TOP - R_BOTTOM) / R_ROW) - 1  # less the header row
    pages = [rows[i : i + per_page] for i in range(0, len(rows), per_page)]
    used = (len(pages[-1]) + 1) * R_ROW
    summary_alone = R_TABLE_TOP - used - summary < R_BOTTOM
    if summary > R_TABLE_TOP - R_BOTTOM:
        raise ValueError(f"支払明細 処理番号 {data.run_id}: 合計が1ページに収まりません")
    count = len(pages) + summary_alone
    buffer, c = _new_canvas(f"{REGISTER_TITLE} 処理番号 {data.run_id}", landscape(A4))
    meta = _register_meta(data)
    for number in range(1, count + 1):
        c.setFont(GOTHIC, 16)
        c.drawString(R_LEFT, LAND_H - 17 * mm, REGISTER_TITLE)
        c.setFont(GOTHIC, 10)
        c.drawRightString(R_RIGHT, LAND_H - 15 * mm, f"処理番号　{data.run_id}")
        c.drawRightString(R_RIGHT, LAND_H - 21 * mm, settings.KOKUHO_MUNICIPALITY_NAME)
        c.setFont(GOTHIC, 9)
        c.drawString(R_LEFT, LAND_H - 25 * mm, meta)
        top = R_TABLE_TOP
        if number <= len(pages):
            _row(c, R_LEFT, top, R_COLS, [col.title for col in R_COLS], *R_CELL, R_ROW, 0.9)
            for i, cells in enumerate(pages[number - 1], start=1):
                _row(c, R_LEFT, top - i * R_ROW, R_COLS, cells, *R_CELL, R_ROW)
            top -= (len(pages[number - 1]) + 1) * R_ROW
        if number == count:
            _draw_summary(c, top, data, by_benefit, by_item)
        c.setFont(GOTHIC, 8)
        c.drawString(R_LEFT, 9 * mm, f"{REGISTER_TITLE}　処理番号 {data.run_id}（内部資料）")
        c.drawRightString(R_RIGHT, 9 * mm, f"{number} / {count}")
        c.showPage()
    c.save()
    return buffer.getvalue()


# --- 支払通知書 ---------------------------------------------------------------------------------

PAGE_W, PAGE_H = A4
N_LEFT, N_RIGHT = 20 * mm, PAGE_W - 20 * mm
N_WIDTH = N_RIGHT - N_LEFT
ADDRESS_W = 85 * mm
N_ROW = 7 * mm
N_CELL = (MINCHO, 10.0)
N_LABEL = (GOTHIC, 9.0)
N_FOOT = 12 * mm
KV_COLS = (_Col("", 38 * mm), _Col("", N_WIDTH - 38 * mm))
ITEM_TABLE = (_Col("内容", N_WIDTH - 70 * mm), _Col("給付", 35 * mm), _Col("金額", 35 * mm, "R"))
BODY = "　下記のとおり口座に振り込みますので、お知らせします。"


NOTES = (
    "・振込は支払予定日に行います。金融機関によっては、通帳への記帳が遅れることがあります。",
    "・通帳等には、振込依頼人として{payer}と表示されることがあります。",
    "・口座番号は、下3桁のみを表示しています。",
    "・支給の決定の内容は、別にお送りした決定通知書をご覧ください。",
)


@dataclass(frozen=True)
class _Notice:
    data: PaymentNoticeData
    address_lines: tuple[str, ...]
    name_lines: tuple[str, ...]
    kv: tuple[tuple[str, str], ...]
    notes: tuple[str, ...]
    contact: tuple[str, ...]


def _notice_check(n: PaymentNoticeData) -> _Notice:
    where = f"支払通知 {n.notice_no}"
    city = settings.KOKUHO_MUNICIPALITY_NAME
    contact = f"問い合わせ先　{settings.KOKUHO_INSURER_CONTACT}"
    if sum(ch.isdigit() for ch in n.account_masked) > 3:
        raise ValueError(f"{where}: 口座番号（account_masked）は下3桁のみ印字します")
    if not n.items or any(x.amount <= 0 for x in n.items):
        raise ValueError(f"{where}: 明細（items）がないか、0円以下の明細があります")
    texts = [
        ("通知番号", "notice_no", n.notice_no), ("郵便番号", "postal_code", n.postal_code),
        ("住所", "address", n.address), ("氏名", "name", n.name),
        ("振込依頼人名", "payer_name", n.payer_name),
        ("市町村名", "KOKUHO_MUNICIPALITY_NAME", city),
        ("問い合わせ先", "KOKUHO_INSURER_CONTACT", contact),
    ]  # fmt: skip
    kv = (
        ("振込金額", "items", _yen(sum(x.amount for x in n.items))),
        ("支払予定日", "pay_date", format_wareki(n.pay_date)),
        ("金融機関", "bank_name, branch_name", f"{n.bank_name}　{n.branch_name}"),
        ("預金種目", "account_type_label", n.account_type_label),
        ("口座番号", "account_masked", n.account_masked),
        ("口座名義", "holder", n.holder),
    )
    _check(where, texts)
    for cell in kv:
        _check(where, [cell], KV_COLS[1:])
    for i, x in enumerate(n.items, 1):
        cells = [(f"明細{i}の内容", "decision_label", x.decision_label),
                 (f"明細{i}の給付", "benefit", x.benefit),
                 (f"明細{i}の金額", "amount", _yen(x.amount))]  # fmt: skip
        _check(where, cells, ITEM_TABLE)
        texts += cells
    for label, name, text in [*texts, *kv]:
        if mask_my_numbers_in(text) != text:
            raise ValueError(f"{where}: {label}（{name}）に個人番号と同じ形の数字は印字できません")
    address_lines = text_wrap(n.address, MINCHO, 10.5, ADDRESS_W)
    if n.honorific not in ("様", "御中"):
        raise ValueError(f"{where}: 敬称（honorific）は 様 か 御中 です")
    name_lines = text_wrap(f"{n.name}　{n.honorific}", MINCHO, 13, ADDRESS_W)
    if len(address_lines) > 3 or len(name_lines) > 2:
        raise ValueError(f"{where}: 宛先の住所・氏名（address, name）が封筒の窓に収まりません")
    payer = f"「{n.payer_name}」" if n.payer_name else f"{city}の名義"
    notes = tuple(
        line for t in NOTES for line in text_wrap(t.format(payer=payer), MINCHO, 9, N_WIDTH)
    )
    notice = _Notice(n, address_lines, name_lines, tuple((k, v) for k, _, v in kv), notes,
                     text_wrap(contact, GOTHIC, 9, N_WIDTH))  # fmt: skip
    if _notice_flow_bottom(notice) < N_FOOT + 6 * mm + 11 * len(notice.contact):
        raise ValueError(f"{where}: 明細が {len(n.items)} 件あり、1ページに収まりません")
    return notice


def _title_y(notice: _Notice) -> float:
    bottom = ADDRESS_TOP - 15 * len(notice.address_lines) - 8 - 18 * len(notice.name_lines)
    return min(PAGE_H - 58 * mm, bottom - 6 * mm)


def _notice_flow_bottom(notice: _Notice) -> float:
    y = _title_y(notice) - 8 * mm - 16.5 - 8 * mm - len(notice.kv) * N_ROW
    y -= 10 * mm + (len(notice.data.items) + 2) * N_ROW
    return y - 10 * mm - len(notice.notes) * 13


def _draw_notice(c: Canvas, notice: _Notice) -> None:
    n = notice.data
    title_y = _title_y(notice)
    window_header_draw(
        c, postal_code=n.postal_code, address_lines=notice.address_lines,
        name_lines=notice.name_lines, number=f"通知番号　{n.notice_no}",
        issued_on=format_wareki(n.issued_on), issuer=f"{settings.KOKUHO_MUNICIPALITY_NAME}長",
        title=NOTICE_TITLE, title_y=title_y,
    )  # fmt: skip
    y = title_y - 8 * mm
    c.setFont(MINCHO, 10.5)
    c.drawString(N_LEFT, y - 10.5, BODY)
    y -= 16.5
    c.drawCentredString(PAGE_W / 2, y - 2 * mm - 10.5, "記")
    y -= 8 * mm
    for i, (label, value) in enumerate(notice.kv):
        _row(c, N_LEFT, y, KV_COLS[:1], [label], *N_LABEL, N_ROW, 0.9)
        strong = (GOTHIC, 12.0) if i == 0 else N_CELL
        _row(c, N_LEFT + KV_COLS[0].width, y, KV_COLS[1:], [value], *strong, N_ROW)
        y -= N_ROW
    c.setFont(GOTHIC, 10.5)
    c.drawString(N_LEFT, y - 4 * mm - 10.5, "■ 支払の内訳")
    y -= 10 * mm
    _row(c, N_LEFT, y, ITEM_TABLE, [col.title for col in ITEM_TABLE], *N_LABEL, N_ROW, 0.9)
    for x in n.items:
        y -= N_ROW
        _row(
            c, N_LEFT, y, ITEM_TABLE, [x.decision_label, x.benefit, _yen(x.amount)], *N_CELL, N_ROW
        )
    y -= N_ROW
    total = _yen(sum(x.amount for x in n.items))
    _row(c, N_LEFT, y, ITEM_TABLE, ["合計", "", total], *N_LABEL, N_ROW, 0.9)
    y -= N_ROW + 4 * mm
    c.setFont(GOTHIC, 10.5)
    c.drawString(N_LEFT, y - 10.5, "■ ご注意")
    y -= 6 * mm
    c.setFont(MINCHO, 9)
    for line in notice.notes:
        c.drawString(N_LEFT, y - 9, line)
        y -= 13
    c.setFont(GOTHIC, 9)
    for i, line in enumerate(notice.contact):
        c.drawString(N_LEFT, N_FOOT + 11 * (len(notice.contact) - 1 - i), line)


def payment_notices_pdf(notices: Sequence[PaymentNoticeData]) -> bytes:
    """One PDF for a batch of 支払通知書, one A4 page per payee in the given order."""
    if not notices:
        raise ValueError("支払通知がありません")
    checked = [_notice_check(n) for n in notices]
    buffer, c = _new_canvas("支払通知書", A4)
    for notice in checked:
        _draw_notice(c, notice)
        c.showPage()
    c.save()
    return buffer.getvalue()
