"""The life cycle's 決定通知書 PDF: what each page says, read back from the PDF with pypdf.

All data is synthetic; the steps are those `lifecycle.rules` writes. No database.
"""

import dataclasses
import datetime as dt
import io
import re

import pytest
from pypdf import PdfReader

from kokuho.benefits.lifecycle.notice_pdf import BenefitNotice, benefit_decision_notices_pdf

FUNERAL_STEPS = (
    "死亡日 2026-05-01、葬祭日 2026-05-04、喪主 給付 太郎",
    "葬祭費 50,000円（条例の額）",
)
BIRTH_STEPS = (
    "出産日 2026-06-10、妊娠 280日、1児",
    "1児 500,000円（産科医療補償制度の対象） × 1 = 500,000円",
    "直接支払制度: 出産費用 480,000円のうち 480,000円を医療機関等へ（国保連経由）、"
    "差額 20,000円を世帯へ",
)
ACCOUNT = "0001 みかん銀行 本店 普通 ****567 キユウフ タロウ"


def funeral(**changes) -> BenefitNotice:
    notice = BenefitNotice(
        notice_no="B-2026-000101",
        issued_on=dt.date(2026, 6, 1),
        postal_code="799-0001",
        address="みかん市本町1-1",
        name="給付 太郎",
        benefit_label="葬祭費",
        legal_basis="国民健康保険法第58条第1項",
        subject_name="給付 一郎",
        event_label="葬祭を行った日",
        event_date=dt.date(2026, 5, 4),
        outcome="paid",
        amount=50_000,
        difference=50_000,
        institution_amount=0,
        reason="",
        steps=FUNERAL_STEPS,
        pay_date=dt.date(2026, 6, 25),
        account_masked=ACCOUNT,
    )
    return dataclasses.replace(notice, **changes)


def birth(**changes) -> BenefitNotice:
    values = {
        "notice_no": "B-2026-000102",
        "benefit_label": "出産育児一時金",
        "subject_name": "給付 花子",
        "event_label": "出産日",
        "event_date": dt.date(2026, 6, 10),
        "amount": 500_000,
        "difference": 20_000,
        "institution_amount": 480_000,
        "steps": BIRTH_STEPS,
    }
    return funeral(**{**values, **changes})


def refused(**changes) -> BenefitNotice:
    values = {
        "outcome": "refused",
        "amount": 0,
        "difference": 0,
        "reason": "死亡日に当市の国民健康保険の被保険者ではありません",
        "steps": (*FUNERAL_STEPS[:1], "死亡日に当市の国民健康保険の被保険者ではありません"),
        "pay_date": None,
        "account_masked": "",
    }
    return funeral(**{**values, **changes})


def pages_of(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def flat(text: str) -> str:
    """The text without line breaks: a wrapped line reads as one again."""
    return re.sub(r"\s*\n\s*", "", text)


def render(*notices: BenefitNotice, **options) -> list[str]:
    return pages_of(benefit_decision_notices_pdf(notices or [funeral()], **options))


# --- Titles and body ------------------------------------------------------------------------


def test_a_paid_decision_is_one_page_with_its_title_and_addressee():
    [page] = render()
    assert "葬祭費支給決定通知書" in page
    assert "〒799-0001" in page and "みかん市本町1-1" in page
    assert "給付 太郎　様" in page
    assert "B-2026-000101" in page
    assert "みかん市長" in page
    text = flat(page)
    assert "国民健康保険法第58条第1項の規定により、下記のとおり決定しましたので通知します。" in text
    assert "決定内容支給" in text.replace(" ", "")


def test_a_partial_decision_keeps_the_title_and_says_why():
    notice = funeral(
        benefit_label="療養費",
        legal_basis="国民健康保険法第54条",
        event_label="支払日",
        outcome="partial",
        amount=21_000,
        difference=21_000,
        reason="支払額 35,000円のうち保険診療の費用額 30,000円を超える部分は対象外",
        steps=("対象額 30,000円 − 一部負担金相当額 9,000円（30%、10円未満四捨五入） = 21,000円",),
    )
    [page] = render(notice)
    text = flat(page).replace(" ", "")
    assert "療養費支給決定通知書" in page and "不支給" not in page
    assert "決定内容一部支給" in text
    assert "支給額21,000円" in text
    assert "理由" in text and "30,000円を超える部分は対象外" in text


def test_a_refusal_has_its_own_title_the_reason_and_no_amount():
    [page] = render(refused())
    text = flat(page)
    assert "葬祭費不支給決定通知書" in page
    assert "不支給" in text
    assert "死亡日に当市の国民健康保険の被保険者ではありません" in text
    assert "支給額" not in text and "振込" not in text


def test_a_change_has_its_own_title_the_previous_amount_and_the_addition():
    notice = birth(
        is_change=True,
        amount=1_000_000,
        difference=40_000,
        institution_amount=960_000,
        previous_amount=500_000,
        reason="双子の出産と判明したため（出生証明書による）",
    )
    [page] = render(notice)
    text = flat(page).replace(" ", "")
    assert "出産育児一時金支給変更決定通知書" in page
    assert "下記のとおり変更することに決定しましたので通知します。" in text
    assert "変更前の支給額500,000円" in text
    assert "追加支給40,000円" in text
    assert "双子の出産と判明したため" in text


def test_a_negative_difference_is_a_reclaim_with_a_payment_slip_to_follow():
    notice = funeral(
        is_change=True,
        outcome="refused",
        amount=0,
        difference=-50_000,
        previous_amount=50_000,
        reason="前の保険者から埋葬料が支給されるため",
        pay_date=None,
        account_masked="",
    )
    [page] = render(notice)
    text = flat(page).replace(" ", "")
    assert "葬祭費支給変更決定通知書" in page
    assert "返納50,000円" in text
    assert "納入通知書" in text
    assert "追加支給" not in text


# --- Amounts, steps, dates ------------------------------------------------------------------


def test_amounts_carry_thousands_separators():
    [page] = render(birth())
    assert "500,000円" in page and "480,000円" in page and "20,000円" in page
    assert "500000" not in page


def test_direct_payment_shows_what_the_hospital_and_the_household_get():
    [page] = render(birth())
    text = flat(page).replace(" ", "")
    assert "医療機関等へ支払う額480,000円（直接支払制度）" in text
    assert "世帯へ支払う額（差額）20,000円" in text


def test_without_direct_payment_there_are_no_hospital_rows():
    [page] = render()
    assert "医療機関等へ支払う額" not in page


def test_every_step_is_listed_in_order_under_its_heading():
    [page] = render(birth())
    text = flat(page).replace(" ", "")
    position = text.index("計算の内訳")
    for step in BIRTH_STEPS:
        position = text.index(step.replace(" ", ""), position + 1)


def test_dates_are_in_wareki_with_the_payment_and_masked_account():
    [page] = render()
    text = flat(page)
    assert "令和8年6月1日" in text  # 発行日
    assert "令和8年5月4日" in text  # 葬祭を行った日
    assert "令和8年6月25日" in text  # 振込予定日
    assert "****567" in text


# --- 教示 and contact -----------------------------------------------------------------------


@pytest.mark.parametrize("notice", [funeral(), refused(), birth(is_change=True, previous_amount=0,
                                                               reason="訂正")])  # fmt: skip
def test_every_decision_carries_the_appeal_naming_the_prefecture_board(notice):
    [page] = render(notice)
    text = flat(page)
    assert "【教示】" in text
    assert "愛媛県国民健康保険審査会に対して" in text  # settings.KOKUHO_PREFECTURE_NAME
    assert "翌日から起算して3か月以内" in text
    assert "裁決があったことを知った日から6か月以内" in text
    assert "みかん市を被告として" in text


def test_the_prefecture_can_be_given(settings):
    settings.KOKUHO_MUNICIPALITY_NAME = "いよ町"
    settings.KOKUHO_INSURER_CONTACT = "いよ町役場 住民課 電話 089-111-1111"
    [page] = render(prefecture="高知県")
    text = flat(page)
    assert "高知県国民健康保険審査会" in text
    assert "いよ町長" in text and "いよ町を被告として" in text
    assert "問い合わせ先　いよ町役場 住民課 電話 089-111-1111" in page


# --- Pages ----------------------------------------------------------------------------------


def test_many_notices_make_one_page_each_in_order():
    notices = [funeral(), refused(notice_no="B-2026-000103"), birth()]
    pages = render(*notices)
    assert len(pages) == 3
    for page, notice in zip(pages, notices, strict=True):
        assert notice.notice_no in page
        assert notice.title in page
        assert "【教示】" in page


def test_long_steps_continue_on_another_page_with_the_appeal_on_page_one():
    steps = tuple(f"確認事項 {i}: 申請書の記載と添付書類を照合した" for i in range(70))
    long = funeral(steps=steps)
    pages = render(funeral(notice_no="B-2026-000099"), long)
    assert len(pages) >= 3
    first, *rest = pages[1:]
    assert "【教示】" in first and "1/" in first
    assert all("【教示】" not in page for page in rest)
    assert "葬祭費支給決定通知書（続き）" in rest[0]
    assert "計算の内訳（続き）" in rest[0]
    assert "確認事項 69" in pages[-1]
    assert all("問い合わせ先" in page for page in pages)


# --- The file -------------------------------------------------------------------------------


def test_the_ipaex_fonts_are_embedded():
    fonts = set()
    for page in PdfReader(io.BytesIO(benefit_decision_notices_pdf([birth()]))).pages:
        for font in page["/Resources"]["/Font"].values():
            descriptor = font.get_object()
            for child in descriptor.get("/DescendantFonts", [descriptor]):
                fd = child.get_object().get("/FontDescriptor")
                if fd is not None and "/FontFile2" in fd.get_object():
                    fonts.add(str(fd.get_object()["/FontName"]))
    assert any("IPAexGothic" in name for name in fonts), fonts
    assert any("IPAexMincho" in name for name in fonts), fonts


# --- Refusals: nothing is drawn -------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "label"),
    [("subject_name", "対象者"), ("address", "住所"), ("reason", "理由")],
)
def test_a_character_outside_the_font_is_refused_naming_the_field(field, label):
    notice = refused(**{field: "\U00020bb7田 一郎"})  # 𠮷 (つちよし) is not in IPAex
    with pytest.raises(ValueError, match=rf"B-2026-000101: {label}（{field}）.*U\+20BB7"):
        benefit_decision_notices_pdf([funeral(notice_no="B-2026-000100"), notice])


def test_a_character_outside_the_font_in_a_step_is_refused():
    with pytest.raises(ValueError, match=r"計算の内訳 2（steps）"):
        benefit_decision_notices_pdf([funeral(steps=("ok", "😀"))])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"reason": ""}, "理由"),
        ({"outcome": "partial"}, "理由"),
        ({"is_change": True, "previous_amount": 50_000}, "理由"),
        ({"is_change": True, "reason": "訂正"}, "previous_amount"),
        ({"outcome": "granted"}, "outcome"),
        ({"difference": 40_000}, "difference"),
        ({"outcome": "refused", "reason": "x"}, "0円"),
        ({"amount": 0, "difference": 0}, "0円以下"),
        ({"institution_amount": 60_000}, "institution_amount"),
        ({"account_masked": "0001 みかん銀行 本店 普通 1234567"}, "伏せて"),
        ({"steps": ()}, "steps"),
    ],
)
def test_a_notice_that_cannot_be_issued_is_refused(changes, message):
    make = refused if changes.get("reason") == "" else funeral
    with pytest.raises(ValueError, match=message):
        benefit_decision_notices_pdf([make(**changes)])


def test_a_payment_on_a_refusal_is_refused():
    with pytest.raises(ValueError, match="振込がない決定"):
        benefit_decision_notices_pdf([refused(pay_date=dt.date(2026, 6, 25))])


def test_an_empty_batch_is_refused():
    with pytest.raises(ValueError, match="ありません"):
        benefit_decision_notices_pdf([])
