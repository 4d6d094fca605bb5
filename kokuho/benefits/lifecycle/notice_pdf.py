"""決定通知書 of the decision life cycle's benefits (葬祭費, 出産育児一時金, 療養費 …) as PDF.

Plain data in, PDF bytes out, as `kokuho.benefits.notices` (the 高額療養費 notices) does,
and with its look and its drawing: the 長3 window head, the 記 table, the numbered 計算の
内訳 (continued on further pages when long), the 教示 boxed at the foot of page 1 and the
contact line. The caller reads a `BenefitDecision` and its application, masks the account
and hands over `BenefitNotice`s; nothing here touches the database.

Every notice of a batch is checked before anything is drawn (outcome, amounts, the reason a
一部支給・不支給・変更 must give, characters outside the embedded font, anything shaped
like a 個人番号); a ValueError names the notice and the field.

Every decision here is a 処分, whatever its outcome: each notice carries the 教示 (審査請求
to the prefecture's 国民健康保険審査会 within 3 months, 取消訴訟 within 6 months of the 裁決).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from reportlab.lib.units import mm

from kokuho.benefits.notices import (
    BODY,
    FOOT,
    LEFT,
    RIGHT,
    WIDTH,
    NoticeAddressee,
    _centred,
    _draw_first_header,
    _draw_foot_box,
    _draw_later_header,
    _heading,
    _Item,
    _key_values,
    _Layout,
    _layout,
    _plan,
    _save_binary,
    _steps,
    _text_item,
    appeal_paragraphs,
)
from kokuho.core.mynumber import mask_my_numbers_in
from kokuho.core.pdf import GOTHIC, MINCHO, font_covers, fonts_register, japanese_canvas, text_wrap
from kokuho.core.wareki import format_wareki

__all__ = ["OUTCOME_LABELS", "BenefitNotice", "benefit_decision_notices_pdf"]

OUTCOME_LABELS = {"paid": "支給", "partial": "一部支給", "refused": "不支給"}
STEPS_HEADING = "計算の内訳"
CONTACT = (GOTHIC, 9.0, 11.0)  # font, size, leading of the contact line(s)
UNMASKED = re.compile(r"\d{6,}")  # an account number in full (口座番号 are 7 digits)


@dataclass(frozen=True)
class BenefitNotice:
    """One 決定通知書: a `BenefitDecision` as the addressee reads it."""

    notice_no: str
    issued_on: date
    postal_code: str  # "799-0001"; "" when the registry has none
    address: str  # a "\n" starts a new line (方書)
    name: str  # the addressee: the applicant (世帯主, 喪主)
    benefit_label: str  # 葬祭費, 出産育児一時金, 療養費
    legal_basis: str  # 国民健康保険法第58条第1項
    subject_name: str  # the insured person the benefit is about
    event_label: str  # 葬祭を行った日, 出産日, 支払日
    event_date: date
    outcome: str  # "paid" | "partial" | "refused"
    amount: int  # 支給額 after this decision (yen)
    difference: int  # what this decision pays (> 0) or reclaims (< 0, 返納)
    institution_amount: int  # 直接支払制度: paid to the hospital
    reason: str  # required for partial, refused and a change
    steps: Sequence[str]  # the explanation, one numbered line each
    is_change: bool = False
    previous_amount: int | None = None  # a 変更決定: the 支給額 of the changed decision
    pay_date: date | None = None  # 振込予定日, when known
    account_masked: str = ""  # 振込先, masked by the caller (****567)

    @property
    def title(self) -> str:
        if self.is_change:
            return f"{self.benefit_label}支給変更決定通知書"
        if self.outcome == "refused":
            return f"{self.benefit_label}不支給決定通知書"
        return f"{self.benefit_label}支給決定通知書"


# The printed text fields, with the names an error message gives them.
TEXT_FIELDS = {
    "notice_no": "通知番号",
    "postal_code": "郵便番号",
    "address": "住所",
    "name": "宛名",
    "benefit_label": "給付の名称",
    "legal_basis": "根拠法令",
    "subject_name": "対象者",
    "event_label": "支給事由の日の名称",
    "reason": "理由",
    "account_masked": "振込先",
}


def benefit_decision_notices_pdf(
    notices: Sequence[BenefitNotice], *, prefecture: str | None = None
) -> bytes:
    """One PDF for a batch of 決定通知書, each notice from a new page, in the given order.

    ``prefecture`` names the 国民健康保険審査会 of the 教示 (default
    settings.KOKUHO_PREFECTURE_NAME); the municipality (the issuer, 「…長」) and the contact
    line come from settings. Raises ValueError, before anything is drawn, for an empty batch
    or a notice that cannot be issued as given (see the module docstring).
    """
    if not notices:
        raise ValueError("決定通知書がありません")
    municipality = settings.KOKUHO_MUNICIPALITY_NAME
    board = settings.KOKUHO_PREFECTURE_NAME if prefecture is None else prefecture
    contact = f"問い合わせ先　{settings.KOKUHO_INSURER_CONTACT}"
    settings_texts = {"市町村名": municipality, "都道府県名": board, "問い合わせ先": contact}
    for label, text in settings_texts.items():
        _check_chars("決定通知書", label, text)
    foot = appeal_paragraphs(municipality, board)
    layouts = [_notice_layout(n, foot) for n in notices]
    return _render(layouts, municipality=municipality, contact=contact)


# --- Checks ---------------------------------------------------------------------------------


def _yen(amount: int) -> str:
    return f"{amount:,}円"


def _fail(n: BenefitNotice, message: str) -> ValueError:
    return ValueError(f"{n.title} {n.notice_no}: {message}")


def _check_chars(where: str, label: str, text: str) -> None:
    missing = sorted({c for c in text if c != "\n" and not font_covers(c)})
    if missing:
        raise ValueError(
            f"{where}: {label}にフォントにない文字があります（代替字にしてください）: "
            + " ".join(f"{c}(U+{ord(c):04X})" for c in missing)
        )
    if mask_my_numbers_in(text) != text:
        raise ValueError(f"{where}: {label}に個人番号と同じ形の数字は印字できません")


def _check(n: BenefitNotice) -> None:
    if not n.notice_no.strip():
        raise _fail(n, "通知番号（notice_no）がありません")
    if n.outcome not in OUTCOME_LABELS:
        raise _fail(n, f"決定内容（outcome）が不明です: {n.outcome!r}")
    for field in ("benefit_label", "legal_basis", "subject_name", "event_label", "name"):
        if not getattr(n, field).strip():
            raise _fail(n, f"{TEXT_FIELDS[field]}（{field}）がありません")
    where = f"{n.title} {n.notice_no}"
    for field, label in TEXT_FIELDS.items():
        _check_chars(where, f"{label}（{field}）", getattr(n, field))
    for i, step in enumerate(n.steps, start=1):
        _check_chars(where, f"計算の内訳 {i}（steps）", step)
    if not n.steps:
        raise _fail(n, "計算の内訳（steps）がありません")
    if n.amount < 0 or n.institution_amount < 0:
        raise _fail(n, "支給額（amount）・医療機関等へ支払う額（institution_amount）が負です")
    if n.outcome == "refused" and (n.amount or n.institution_amount):
        raise _fail(n, f"不支給の支給額（amount）は0円です: {_yen(n.amount)}")
    if n.outcome != "refused" and n.amount <= 0:
        raise _fail(n, "支給・一部支給の支給額（amount）が0円以下です")
    if n.institution_amount > n.amount:
        raise _fail(n, "医療機関等へ支払う額（institution_amount）が支給額を超えています")
    if (n.outcome != "paid" or n.is_change) and not n.reason.strip():
        raise _fail(n, "一部支給・不支給・変更決定には理由（reason）が必要です")
    if n.is_change:
        if n.previous_amount is None or n.previous_amount < 0:
            raise _fail(n, "変更決定には変更前の支給額（previous_amount）が必要です")
    else:
        if n.previous_amount is not None:
            raise _fail(n, "変更前の支給額（previous_amount）は変更決定にだけ書きます")
        if n.difference != n.amount - n.institution_amount:
            raise _fail(
                n,
                f"差額（difference）{_yen(n.difference)} が世帯へ支払う額 "
                f"{_yen(n.amount - n.institution_amount)} と一致しません",
            )
    if n.difference <= 0 and (n.pay_date is not None or n.account_masked):
        raise _fail(n, "振込がない決定に振込予定日（pay_date）・振込先（account_masked）があります")
    if UNMASKED.search(n.account_masked):
        raise _fail(n, "振込先（account_masked）の口座番号は伏せて渡してください（****567）")


# --- Layout ---------------------------------------------------------------------------------


def _body(n: BenefitNotice) -> str:
    if n.is_change:
        return (
            f"　{n.subject_name}さんの{n.benefit_label}の支給決定について、{n.legal_basis}"
            "の規定により、下記のとおり変更することに決定しましたので通知します。"
        )
    return (
        f"　{n.subject_name}さんの{n.benefit_label}について、{n.legal_basis}の規定により、"
        "下記のとおり決定しましたので通知します。"
    )


def _difference(n: BenefitNotice) -> str:
    if n.difference > 0:
        return f"追加支給 {_yen(n.difference)}（下記の口座へ振り込みます）"
    if n.difference < 0:
        return f"返納 {_yen(-n.difference)}（別途、納入通知書をお送りします）"
    return "なし"


def _table(n: BenefitNotice) -> list[tuple[str, str, bool]]:
    refused_outright = n.outcome == "refused" and not n.is_change
    rows = [
        ("対象者", n.subject_name, False),
        (n.event_label, format_wareki(n.event_date), False),
        ("決定内容", OUTCOME_LABELS[n.outcome], refused_outright),
    ]
    if not refused_outright:
        rows.append(("支給額", _yen(n.amount), True))
    if n.institution_amount:
        rows += [
            ("医療機関等へ支払う額", f"{_yen(n.institution_amount)}（直接支払制度）", False),
            ("世帯へ支払う額（差額）", _yen(n.amount - n.institution_amount), False),
        ]
    if n.is_change:
        assert n.previous_amount is not None  # checked
        rows += [("変更前の支給額", _yen(n.previous_amount), False), ("差額", _difference(n), True)]
    if n.reason:
        rows.append(("理由", n.reason, False))
    if n.pay_date is not None:
        rows.append(("振込予定日", format_wareki(n.pay_date), False))
    if n.account_masked:
        rows.append(("振込先", n.account_masked, False))
    return rows


def _notice_layout(n: BenefitNotice, foot: list[str]) -> _Layout:
    _check(n)
    items: list[_Item] = [*_text_item(_body(n), BODY), _centred("記"), _key_values(_table(n))]
    items += [_heading(STEPS_HEADING), *_steps(tuple(n.steps))]
    addressee = NoticeAddressee(n.postal_code, n.address, n.name)
    return _layout(
        notice_no=n.notice_no, title=n.title, addressee=addressee, issued_on=n.issued_on,
        items=items, foot=foot,
    )  # fmt: skip


# --- Drawing --------------------------------------------------------------------------------


def _pages(layout: _Layout, top: float, bottom: float) -> list[list[tuple[_Item, float]]]:
    """notices.py's page plan; the heading it puts before continued steps (「計算明細
    （続き）」) is renamed after this notice's own (「計算の内訳（続き）」), same height."""
    pages = _plan(layout, top, bottom)
    own = {id(item) for item in layout.items}
    for placed in pages[1:]:
        item, y = placed[0]
        if id(item) not in own:
            placed[0] = (_heading(f"{STEPS_HEADING}（続き）", space_before=0), y)
    return pages


def _render(layouts: Sequence[_Layout], *, municipality: str, contact: str) -> bytes:
    fonts_register()
    font, size, leading = CONTACT
    contact_lines = text_wrap(contact, font, size, WIDTH - 15 * mm)  # room for 「1/2」
    buffer = io.BytesIO()
    c = japanese_canvas(buffer)
    c.setTitle("給付の決定通知書")
    c.setAuthor(municipality)
    c.setCreator("Kokuho")
    for layout in layouts:
        first_bottom = FOOT + 10 * mm + layout.foot_height
        pages = _pages(layout, layout.title_y - 8 * mm, first_bottom)
        for number, placed in enumerate(pages, start=1):
            if number == 1:
                _draw_first_header(c, layout, municipality)
            else:
                _draw_later_header(c, layout)
            for item, top in placed:
                item.draw(c, top)
            if number == 1:  # after the flow, so the text reads in order
                _draw_foot_box(c, layout.foot, layout.foot_height)
            if number < len(pages):
                last, top = placed[-1]
                c.setFont(MINCHO, 8)
                c.drawRightString(RIGHT, top - last.height - 3 * mm, "（次ページに続きます）")
            c.setFont(font, size)
            for i, line in enumerate(contact_lines):  # a long contact runs below the foot
                c.drawString(LEFT, FOOT - i * leading, line)
            if len(pages) > 1:
                c.drawRightString(RIGHT, FOOT, f"{number}/{len(pages)}")
            c.showPage()
    _save_binary(c)
    return buffer.getvalue()
