"""返還金の納入について（通知）: the 返還請求 of a 資格喪失後受診 case, as a mailed letter
(`core.letters`): why the money is due and on what basis, each claim with what it cost us,
the amount and the 納期限, the 納付書 data, and the way to 保険者間調整.

The letter goes to the household's 世帯主 as the registry has them today (to the person when
the household has none); names and addresses print their 代替字 (`glyphs.printable`). The
返還請求 of 不当利得 is a claim of civil law, not an administrative disposition: the letter
carries no 教示 (no 審査請求 lies against it; docs/decisions.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from reportlab.lib.units import mm

from kokuho.cases.models import InvestigationCase
from kokuho.cases.selectors import case_claims
from kokuho.certificates.glyphs import printable
from kokuho.core.letters import (
    WIDTH,
    Centred,
    Column,
    Heading,
    Letter,
    LetterAddressee,
    Paragraph,
    Table,
    letters_pdf,
)
from kokuho.core.wareki import format_wareki, format_wareki_month
from kokuho.eligibility.selectors import current_periods_by_person

TITLE = "国民健康保険 返還金の納入について（通知）"
COLUMNS = (
    Column("診療年月", 30 * mm),
    Column("医療機関コード", 32 * mm),
    Column("医療費（10割）", 34 * mm, "right"),
    Column("一部負担金", 30 * mm, "right"),
    Column("返還額（保険者負担分）", WIDTH - 126 * mm, "right"),
)
SLIP_COLUMNS = (
    Column("通知番号", 48 * mm),
    Column("納付金額", 40 * mm, "right"),
    Column("納期限", 40 * mm),
    Column("納付義務者", WIDTH - 128 * mm),
)


@dataclass(frozen=True)
class PaymentSlip:
    """納付書 data: what the bank's or the counter's 納付書 carries for this notice."""

    notice_no: str
    amount_yen: int
    due_on: dt.date
    payer_name: str
    payer_address: str

    def as_dict(self) -> dict[str, object]:
        return {
            "notice_no": self.notice_no,
            "amount_yen": self.amount_yen,
            "due_on": self.due_on.isoformat(),
            "payer_name": self.payer_name,
            "payer_address": self.payer_address,
        }


def _yen(amount: int) -> str:
    return f"{amount:,}円"


def _loss_day(case: InvestigationCase, first_month: dt.date) -> dt.date:
    """The 資格喪失日 the claims fall after: the day after the last period ending before
    the first claimed month (the periods as now known)."""
    periods = current_periods_by_person(person_ids=[case.person_id])[case.person_id]
    ended = [p.end for p in periods if p.end is not None and p.end < first_month]
    return max(ended) + dt.timedelta(days=1) if ended else first_month


def refund_notice(
    case: InvestigationCase, *, issued_on: dt.date, due_on: dt.date
) -> tuple[Letter, PaymentSlip]:
    """The letter and its 納付書 data for what is outstanding on the case."""
    person = case.person
    addressee = person.household.head if person.household and person.household.head else person
    claims = [c for c in case_claims(case) if not c["withdrawn"]]
    if not claims:
        raise ValueError(f"案件 {case.pk}: 返還を求めるレセプトがありません")
    first = dt.date.fromisoformat(f"{claims[0]['service_month']}-01")
    rows = [
        (
            format_wareki_month(dt.date.fromisoformat(f"{c['service_month']}-01")),
            c["provider"],
            _yen(c["cost_yen"]),
            _yen(c["copay_yen"]),
            _yen(c["insurer_share_yen"]),
        )
        for c in claims
    ]
    rows.append(("合計", f"{len(claims)}件", "", "", _yen(case.claimed_yen)))
    number = f"HS{issued_on:%Y%m%d}-{case.pk:07d}"
    name = printable(person.name)[0]
    slip = PaymentSlip(
        notice_no=number,
        amount_yen=case.outstanding_yen,
        due_on=due_on,
        payer_name=printable(addressee.name)[0],
        payer_address=printable(addressee.address)[0],
    )
    municipality = settings.KOKUHO_MUNICIPALITY_NAME
    received = (
        f"　なお、すでに納付された {_yen(case.recovered_yen)} を差し引いた額を請求します。"
        if case.recovered_yen
        else ""
    )
    blocks = (
        Paragraph(
            f"　{name} 様は、{format_wareki(_loss_day(case, first))}に国民健康保険の資格を喪失"
            "しましたが、その後の診療について、医療費のうち国民健康保険が負担する分"
            f"（保険者負担分）を{municipality}が医療機関に支払っていました。資格のない期間の"
            "医療費は国民健康保険から給付することができないため、下記の金額を返還してください"
            "（民法第703条、国民健康保険法第65条）。"
        ),
        Paragraph(
            "　同封の納付書により、納期限までに金融機関又は市役所の窓口で納付してください。"
            + received
        ),
        Centred("記"),
        Table(COLUMNS, tuple(rows)),
        Paragraph(f"返還金額　{_yen(slip.amount_yen)}　　納期限　{format_wareki(due_on)}"),
        Heading("■ 新しく加入した健康保険との調整（保険者間調整）"),
        Paragraph(
            "　社会保険など新しい健康保険に加入している場合は、あなたの同意により、"
            f"{municipality}と新しい保険者との間で国民健康保険団体連合会を通じて精算"
            "（保険者間調整）できることがあります。ご希望の方は、納期限までに下記の問い合わせ"
            "先へご連絡ください（同意書を提出していただきます）。"
        ),
        Heading("■ 納付が難しい場合"),
        Paragraph("　分割での納付などについてご相談ください。", indent=0),
        Heading("■ 納付書の内容"),
        Table(
            SLIP_COLUMNS,
            ((number, _yen(slip.amount_yen), format_wareki(due_on), slip.payer_name),),
        ),
    )
    letter = Letter(
        number=f"通知番号　{number}",
        issued_on=issued_on,
        addressee=LetterAddressee(
            postal_code=addressee.postal_code,
            address=slip.payer_address,
            name=slip.payer_name,
        ),
        title=TITLE,
        blocks=blocks,
    )
    return letter, slip


def refund_notices_pdf(letters: list[Letter]) -> bytes:
    return letters_pdf(
        letters,
        title=TITLE,
        municipality=settings.KOKUHO_MUNICIPALITY_NAME,
        contact=settings.KOKUHO_INSURER_CONTACT,
    )
