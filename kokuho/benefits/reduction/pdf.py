"""一部負担金減額・免除・徴収猶予証明書 and the decision notice, as PDF.

Plain data in, PDF bytes out, with the look of the other benefit notices (`benefits.notices`):
A4 for the 長3 window envelope, the head of the household as addressee. The 証明書 is shown
at the provider's counter with the 資格確認書 or マイナ保険証; it names the insured person,
their 記号・番号・枝番, the kind (and rate) and the period. The notice is a 処分 and carries
the 教示 (`appeal_paragraphs`). Neither ever prints a 個人番号: every text is checked for
characters outside the embedded font and for anything shaped like one (ValueError naming
the document and the field, before anything is drawn).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from reportlab.lib.units import mm

from kokuho.benefits.notices import (
    BODY,
    FOOT,
    LATER_BOTTOM,
    LEFT,
    RIGHT,
    WIDTH,
    NoticeAddressee,
    _centred,
    _draw_foot_box,
    _draw_later_header,
    _heading,
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
from kokuho.core.pdf import (
    GOTHIC,
    MINCHO,
    font_covers,
    fonts_register,
    japanese_canvas,
    text_wrap,
    window_header_draw,
)
from kokuho.core.wareki import format_wareki

__all__ = [
    "CERTIFICATE_TITLE",
    "ReductionCertificate",
    "ReductionNotice",
    "reduction_certificates_pdf",
    "reduction_notices_pdf",
]

CERTIFICATE_TITLE = "一部負担金減額・免除・徴収猶予証明書"
LEGAL_BASIS = "国民健康保険法第44条第1項"
KIND_LABELS = {"exemption": "免除", "reduction": "減額", "deferral": "徴収猶予"}
RESULT_LABELS = {**KIND_LABELS, "refused": "不承認"}
CERTIFICATE_NOTES = [
    "【ご注意】",
    "1　保険医療機関・保険薬局の窓口で、資格確認書またはマイナ保険証とともにこの証明書を"
    "提示してください。",
    "2　期間が過ぎたとき、国民健康保険の資格を失ったとき、世帯の収入が回復したときは、この証明書を"
    "使うことはできません。速やかに返してください。",
    "3　偽りその他不正な行為により減額・免除・徴収猶予を受けたときは、その額を返していただきます。",
]


@dataclass(frozen=True)
class ReductionCertificate:
    certificate_no: str
    issued_on: date
    postal_code: str
    address: str
    name: str  # the addressee: the head of the household
    subject_name: str
    subject_birth_date: date
    insurer_no: str
    symbol: str  # 記号 ("" when none is held)
    number: str
    branch: str
    result: str  # exemption / reduction / deferral
    rate_percent: int
    period_start: date
    period_end: date


@dataclass(frozen=True)
class ReductionNotice:
    notice_no: str
    issued_on: date
    postal_code: str
    address: str
    name: str  # the addressee: the applicant (the head)
    subject_name: str
    received_on: date
    requested_kind: str
    result: str  # exemption / reduction / deferral / refused
    rate_percent: int
    reason: str  # required for refused
    period_start: date | None
    period_end: date | None
    certificate_no: str
    steps: Sequence[str]
    is_extension: bool = False

    @property
    def title(self) -> str:
        if self.result == "refused":
            return "一部負担金減額・免除・徴収猶予不承認決定通知書"
        extension = "期間延長" if self.is_extension else ""
        return f"一部負担金{RESULT_LABELS[self.result]}{extension}決定通知書"


def kind_text(result: str, rate_percent: int) -> str:
    if result == "reduction":
        return f"減額（一部負担金の{rate_percent}%を減額）"
    if result == "exemption":
        return "免除（一部負担金の全額を免除）"
    return "徴収猶予（一部負担金の徴収を猶予）"


def _check_text(where: str, label: str, text: str) -> None:
    missing = sorted({c for c in text if c != "\n" and not font_covers(c)})
    if missing:
        raise ValueError(
            f"{where}: {label}にフォントにない文字があります（代替字にしてください）: "
            + " ".join(f"{c}(U+{ord(c):04X})" for c in missing)
        )
    if mask_my_numbers_in(text) != text:
        raise ValueError(f"{where}: {label}に個人番号と同じ形の数字は印字できません")


def _check_all(where: str, texts: dict[str, str]) -> None:
    for label, text in texts.items():
        _check_text(where, label, text)


def _period(start: date, end: date) -> str:
    return f"{format_wareki(start)}から{format_wareki(end)}まで"


def _certificate_layout(n: ReductionCertificate) -> _Layout:
    where = f"{CERTIFICATE_TITLE} {n.certificate_no}"
    if n.result not in KIND_LABELS:
        raise ValueError(f"{where}: 不承認の決定には証明書を交付しません")
    if not n.certificate_no.strip() or n.period_end < n.period_start:
        raise ValueError(f"{where}: 証明書番号・期間が正しくありません")
    number = f"{n.symbol}・{n.number}（枝番 {n.branch}）" if n.number else "（未付番）"
    _check_all(
        where,
        {"証明書番号": n.certificate_no, "住所": n.address, "宛名": n.name,
         "対象者": n.subject_name, "記号・番号": number, "保険者番号": n.insurer_no},
    )  # fmt: skip
    body = (
        f"　下記の被保険者は、{LEGAL_BASIS}の規定により、下記の期間、保険医療機関等に支払う"
        "一部負担金について、下記のとおり認められた者であることを証明します。"
    )
    table = [
        ("保険者番号", n.insurer_no, False),
        ("記号・番号", number, False),
        ("被保険者氏名", n.subject_name, False),
        ("生年月日", format_wareki(n.subject_birth_date), False),
        ("区分", kind_text(n.result, n.rate_percent), True),
        ("期間", _period(n.period_start, n.period_end), True),
        ("証明書番号", n.certificate_no, False),
    ]
    items = [*_text_item(body, BODY), _centred("記"), _key_values(table)]
    addressee = NoticeAddressee(n.postal_code, n.address, n.name)
    return _layout(
        notice_no=n.certificate_no, title=CERTIFICATE_TITLE, addressee=addressee,
        issued_on=n.issued_on, items=items, foot=CERTIFICATE_NOTES,
    )  # fmt: skip


def _notice_layout(n: ReductionNotice, foot: list[str]) -> _Layout:
    where = f"{n.title} {n.notice_no}"
    if n.result not in RESULT_LABELS or n.requested_kind not in KIND_LABELS:
        raise ValueError(f"{where}: 決定内容（result）・申請の種類が不明です")
    if n.result == "refused" and not n.reason.strip():
        raise ValueError(f"{where}: 不承認には理由（reason）が必要です")
    if n.result != "refused" and (n.period_start is None or n.period_end is None):
        raise ValueError(f"{where}: 承認の決定には期間が必要です")
    if not n.steps:
        raise ValueError(f"{where}: 判定の内訳（steps）がありません")
    texts = {"通知番号": n.notice_no, "住所": n.address, "宛名": n.name}
    texts |= {"対象者": n.subject_name, "理由": n.reason, "証明書番号": n.certificate_no}
    texts |= {f"判定の内訳 {i}": step for i, step in enumerate(n.steps, start=1)}
    _check_all(where, texts)
    applied = f"{format_wareki(n.received_on)}に申請のあった"
    what = "期間の延長" if n.is_extension else "一部負担金の減額・免除・徴収猶予"
    body = (
        f"　{applied}{n.subject_name}さんの{what}について、{LEGAL_BASIS}の規定により、"
        "下記のとおり決定しましたので通知します。"
    )
    if n.result != "refused":
        body += "同封の証明書を、医療機関等の窓口で提示してください。"
    table = [
        ("対象者", n.subject_name, False),
        ("申請の種類", KIND_LABELS[n.requested_kind], False),
    ]
    if n.result == "refused":
        table += [("決定内容", "不承認", True), ("理由", n.reason, False)]
    else:
        assert n.period_start is not None and n.period_end is not None  # checked
        table += [
            ("決定内容", kind_text(n.result, n.rate_percent), True),
            ("期間", _period(n.period_start, n.period_end), True),
            ("証明書番号", n.certificate_no, False),
        ]
    items = [*_text_item(body, BODY), _centred("記"), _key_values(table)]
    items += [_heading("判定の内訳"), *_steps(tuple(n.steps))]
    addressee = NoticeAddressee(n.postal_code, n.address, n.name)
    return _layout(
        notice_no=n.notice_no, title=n.title, addressee=addressee, issued_on=n.issued_on,
        items=items, foot=foot,
    )  # fmt: skip


def _settings_texts() -> tuple[str, str]:
    municipality = settings.KOKUHO_MUNICIPALITY_NAME
    contact = f"問い合わせ先　{settings.KOKUHO_INSURER_CONTACT}"
    _check_all("設定", {"市町村名": municipality, "問い合わせ先": contact})
    return municipality, contact


def reduction_certificates_pdf(certificates: Sequence[ReductionCertificate]) -> bytes:
    """The 証明書 of approved decisions, one page each."""
    if not certificates:
        raise ValueError("証明書がありません")
    municipality, contact = _settings_texts()
    layouts = [_certificate_layout(n) for n in certificates]
    return _render(
        layouts, title=CERTIFICATE_TITLE, municipality=municipality, contact=contact,
        number_label="証明書番号",
    )  # fmt: skip


def reduction_notices_pdf(
    notices: Sequence[ReductionNotice], *, prefecture: str | None = None
) -> bytes:
    """The 決定通知書 of a batch of decisions, each from a new page, with the 教示."""
    if not notices:
        raise ValueError("決定通知書がありません")
    municipality, contact = _settings_texts()
    board = settings.KOKUHO_PREFECTURE_NAME if prefecture is None else prefecture
    _check_text("設定", "都道府県名", board)
    foot = appeal_paragraphs(municipality, board)
    layouts = [_notice_layout(n, foot) for n in notices]
    title = "一部負担金減額・免除・徴収猶予の決定通知書"
    return _render(
        layouts, title=title, municipality=municipality, contact=contact, number_label="通知番号"
    )


def _render(
    layouts: Sequence[_Layout], *, title: str, municipality: str, contact: str, number_label: str
) -> bytes:
    fonts_register()
    contact_lines = text_wrap(contact, GOTHIC, 9, WIDTH - 15 * mm)  # room for 「1/2」
    buffer = io.BytesIO()
    c = japanese_canvas(buffer)
    c.setTitle(title)
    c.setAuthor(municipality)
    c.setCreator("Kokuho")
    for layout in layouts:
        first_bottom = FOOT + 10 * mm + layout.foot_height if layout.foot else LATER_BOTTOM
        pages = _plan(layout, layout.title_y - 8 * mm, first_bottom)
        for number, placed in enumerate(pages, start=1):
            if number == 1:
                window_header_draw(
                    c,
                    postal_code=layout.addressee.postal_code,
                    address_lines=layout.address_lines,
                    name_lines=layout.name_lines,
                    number=f"{number_label}　{layout.notice_no}",
                    issued_on=format_wareki(layout.issued_on),
                    issuer=f"{municipality}長",
                    title=layout.title,
                    title_y=layout.title_y,
                )
            else:
                _draw_later_header(c, layout)
            for item, top in placed:
                item.draw(c, top)
            if number == 1 and layout.foot:
                _draw_foot_box(c, layout.foot, layout.foot_height)
            if number < len(pages):
                last, top = placed[-1]
                c.setFont(MINCHO, 8)
                c.drawRightString(RIGHT, top - last.height - 3 * mm, "（次ページに続きます）")
            c.setFont(GOTHIC, 9)
            for i, line in enumerate(contact_lines):
                c.drawString(LEFT, FOOT - i * 11, line)
            if len(pages) > 1:
                c.drawRightString(RIGHT, FOOT, f"{number}/{len(pages)}")
            c.showPage()
    _save_binary(c)
    return buffer.getvalue()
