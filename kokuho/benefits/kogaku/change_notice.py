"""高額療養費 不支給決定通知書 and 支給額変更決定通知書 (payments.md §3), as PDF.

A 変更決定 notice shows the two computations side by side — the decision it replaces on the
left, the new one on the right, line by line — above the amounts before and after, the
difference (追加支給 paid to the account, or 返納 to be paid back) and the cause. A 不支給
notice gives the reason and the 計算明細 that shows it. Both carry the 教示. The drawing
reuses the decision notice's layout (`kokuho.benefits.notices`): same page, envelope window,
fonts and 教示 box; only the body differs.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone
from reportlab.pdfgen.canvas import Canvas

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.benefits import notices as n
from kokuho.benefits.models import DecisionKind, DecisionOutcome, KogakuDecision
from kokuho.core.pdf import GOTHIC, text_wrap
from kokuho.core.purposes import Purpose
from kokuho.core.wareki import format_wareki
from kokuho.people.models import Household

CHANGE_TITLE = "高額療養費支給額変更決定通知書"
REFUSAL_TITLE = "高額療養費不支給決定通知書"
REFUND_TEXT = (
    "返納額は、後日お送りする返納通知書（納付書）により納めてください。すでに受け取られた"
    "高額療養費のうち、この決定により支給額を超えることとなった額です。"
)


@dataclass(frozen=True)
class ChangeNotice:
    """One 不支給 or 変更決定 notice, as plain data (the PDF is drawn from it alone)."""

    notice_no: str
    title: str
    issued_on: dt.date
    addressee: n.NoticeAddressee
    insured_symbol: str
    insured_number: str
    service_month: dt.date
    decided_on: dt.date
    reason: str
    amount: int  # 支給額 after this decision
    before_amount: int | None  # None for a first decision (不支給)
    before_decided_on: dt.date | None
    difference: int
    payee: str  # masked account (追加支給 only)
    before_steps: tuple[str, ...]
    steps: tuple[str, ...]


def _two_columns(before: tuple[str, ...], after: tuple[str, ...]) -> list[n._Item]:
    """The two 計算明細 side by side: a row per line number, each side wrapped in its column,
    the row as tall as its longer side; the header repeats on a continuation page."""
    font, size, leading = n.STEP
    gap = 4 * n.mm
    column = (n.WIDTH - gap) / 2
    number_w = 6 * n.mm

    def header() -> n._Item:
        def draw(c: Canvas, top: float) -> None:
            c.setFont(GOTHIC, 9)
            c.drawString(n.LEFT, top - 9, "変更前の計算")
            c.drawString(n.LEFT + column + gap, top - 9, "変更後の計算")
            c.setLineWidth(n.LINE)
            c.line(n.LEFT, top - 12, n.LEFT + column, top - 12)
            c.line(n.LEFT + column + gap, top - 12, n.RIGHT, top - 12)

        return n._Item(16, draw, keep_with_next=True)

    items = [header()]
    for i in range(max(len(before), len(after))):
        sides = []
        for steps in (before, after):
            text = steps[i] if i < len(steps) else ""
            sides.append(text_wrap(text, font, size, column - number_w) if text else [])
        lines = max(len(sides[0]), len(sides[1]), 1)

        def draw(c: Canvas, top: float, sides: list = sides, number: int = i + 1) -> None:
            c.setFont(font, size)
            for x, side in ((n.LEFT, sides[0]), (n.LEFT + column + gap, sides[1])):
                if side:
                    c.drawRightString(x + number_w - 1.5 * n.mm, top - size, f"{number}.")
                for k, line in enumerate(side):
                    c.drawString(x + number_w, top - size - k * leading, line)

        items.append(n._Item(lines * leading + 1.5, draw, step=True))
    return items


def _yen_signed(amount: int) -> str:
    return n._yen(abs(amount))


def _layout(notice: ChangeNotice, *, municipality: str, prefecture: str) -> n._Layout:
    n._check_month(notice.notice_no, notice.service_month)
    month = n._month(notice.service_month)
    refused = notice.before_amount is None
    if refused:
        body = (
            f"　{month}診療分の高額療養費の支給申請について、{n.LEGAL_BASIS}の規定により審査した"
            "結果、下記の理由により支給しないことに決定しましたので通知します。"
        )
        table = [
            ("診療年月", f"{month}診療分", False),
            ("記号・番号", n._symbol_number(notice.insured_symbol, notice.insured_number), False),
            ("決定内容", "不支給", True),
            ("不支給の理由", notice.reason, False),
            ("決定日", format_wareki(notice.decided_on), False),
        ]
    else:
        assert notice.before_decided_on is not None
        body = (
            f"　{format_wareki(notice.before_decided_on)}付けで決定した{month}診療分の高額療養費"
            "について、支給額を計算し直した結果、下記のとおり支給額を変更することに決定しました"
            "ので通知します。"
        )
        if notice.difference > 0:
            difference = ("追加支給額", _yen_signed(notice.difference), True)
        else:
            difference = ("返納額", _yen_signed(notice.difference), True)
        table = [
            ("診療年月", f"{month}診療分", False),
            ("記号・番号", n._symbol_number(notice.insured_symbol, notice.insured_number), False),
            ("変更前の支給額", n._yen(notice.before_amount), False),
            ("変更後の支給額", n._yen(notice.amount), False),
            difference,
            ("変更の理由", notice.reason, False),
            ("決定日", format_wareki(notice.decided_on), False),
        ]
        if notice.difference > 0:
            table.append(("振込先", notice.payee, False))
    texts = [municipality, prefecture, notice.notice_no, *n._addressee_texts(notice.addressee),
             body, notice.reason, notice.payee, notice.insured_symbol, notice.insured_number,
             *notice.before_steps, *notice.steps]  # fmt: skip
    n._check_text(notice.notice_no, texts)
    items = [*n._text_item(body, n.BODY), n._centred("記"), n._key_values(table)]
    if not refused and notice.difference < 0:
        items += n._text_item(REFUND_TEXT, n.BODY)
    if refused:
        items += [n._heading("計算明細"), *n._steps(notice.steps)]
    else:
        items += [n._heading("計算明細（変更前と変更後）"), *_two_columns(
            notice.before_steps, notice.steps)]  # fmt: skip
    return n._layout(
        notice_no=notice.notice_no,
        title=notice.title,
        addressee=notice.addressee,
        issued_on=notice.issued_on,
        items=items,
        foot=n.appeal_paragraphs(municipality, prefecture),
    )


def change_notices_pdf(notices: list[ChangeNotice], *, municipality: str, prefecture: str) -> bytes:
    """The notices as one PDF, each from a new page. Raises ValueError (nothing drawn) for a
    character outside the font or anything shaped like a 個人番号."""
    layouts = [_layout(x, municipality=municipality, prefecture=prefecture) for x in notices]
    title = notices[0].title if notices else CHANGE_TITLE
    return n._render(layouts, title=title, municipality=municipality)


def _addressee(household: Household) -> n.NoticeAddressee:
    head = household.head
    if head is None:
        raise ValueError(f"世帯 {household.household_no} に世帯主が登録されていません")
    return n.NoticeAddressee(postal_code=head.postal_code, address=head.address, name=head.name)


def change_notice(decision: KogakuDecision, *, issued_on: dt.date) -> ChangeNotice:
    """The notice of a 不支給 or 変更決定 (a paid first decision has the 支給決定通知書)."""
    if decision.kind != DecisionKind.CHANGE and decision.outcome != DecisionOutcome.REFUSED:
        raise ValueError("支給決定の通知は支給決定通知書です")
    household = Household.objects.select_related("head", "nhi_number").get(pk=decision.household_id)
    number = getattr(household, "nhi_number", None)
    if number is None:
        raise ValueError(f"世帯 {household.household_no} に記号・番号がありません")
    before = decision.replaces if decision.kind == DecisionKind.CHANGE else None
    prefix = "KH" if before is None else "KV"
    return ChangeNotice(
        notice_no=f"{prefix}{decision.month:%Y%m}-{decision.pk:06d}",
        title=REFUSAL_TITLE if before is None else CHANGE_TITLE,
        issued_on=issued_on,
        addressee=_addressee(household),
        insured_symbol=number.symbol,
        insured_number=number.number,
        service_month=decision.month,
        decided_on=decision.decided_on,
        reason=decision.reason or decision.get_cause_display(),
        amount=decision.amount,
        before_amount=None if before is None else before.amount,
        before_decided_on=None if before is None else before.decided_on,
        difference=decision.difference,
        payee=decision.masked_account(),
        before_steps=() if before is None else tuple(before.steps),
        steps=tuple(decision.steps),
    )


def change_notice_pdf(*, decision: KogakuDecision, actor: Any, on: dt.date | None = None) -> bytes:
    """One decision's 不支給 / 変更決定 notice; showing it is recorded like the 支給決定's."""
    notice = change_notice(decision, issued_on=on or timezone.localdate())
    content = change_notices_pdf(
        [notice],
        municipality=settings.KOKUHO_MUNICIPALITY_NAME,
        prefecture=settings.KOKUHO_PREFECTURE_NAME,
    )
    audit_event_record(
        event_type=EventType.HOUSEHOLD_VIEWED,
        actor=actor,
        subject_type=SubjectType.HOUSEHOLD,
        subject_id=decision.household.household_no,
        purpose=Purpose.NHI_BENEFITS,
        extra={"screen": "kogaku_change_notice", "notice_no": notice.notice_no},
    )
    return content
