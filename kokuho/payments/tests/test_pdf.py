"""The payment PDFs (支払明細書, 支払通知書): what each page says, read back with pypdf.

No database: the PDFs take plain data. All data is synthetic (みかん市, 架空の口座).
"""

import dataclasses
import datetime as dt
import io
import re

import pytest
from pypdf import PdfReader

from kokuho.payments.pdf import (
    NoticeItem,
    PaymentNoticeData,
    RegisterData,
    RegisterLine,
    payment_notices_pdf,
    register_pdf,
)

PAYER = "ﾐｶﾝｼ ｺｸﾐﾝｹﾝｺｳﾎｹﾝ"
KOGAKU_ITEM = "02-02-01-19 一般被保険者高額療養費"
RYOYOHI_ITEM = "02-01-03-19 一般被保険者療養費"


def line(n: int, benefit: str = "高額療養費", amount: int = 57_600, **changes) -> RegisterLine:
    item = KOGAKU_ITEM if benefit == "高額療養費" else RYOYOHI_ITEM
    made = RegisterLine(
        customer_code=f"{n:010d}",
        benefit=benefit,
        budget_item=item,
        atena_no=f"{200000 + n}",
        decision=f"kogaku_decision:{n}",
        bank_code="1234",
        branch_code="101",
        account_type=1,
        account_number=f"{1000000 + n:07d}",
        payee_name="ｷﾕｳﾌ ﾀﾛｳ",
        new_code=0,
        amount=amount,
    )
    return dataclasses.replace(made, **changes)


THREE = (line(41), line(42, amount=12_345), line(43, "療養費", 8_000))


def register(lines=THREE) -> RegisterData:
    return RegisterData(
        run_id=17,
        pay_date=dt.date(2026, 9, 25),
        sent_on=dt.date(2026, 9, 22),
        payer_label=f"{PAYER} 1234-101 普通 7654321",
        lines=lines,
    )


def notice(**changes) -> PaymentNoticeData:
    made = PaymentNoticeData(
        postal_code="799-0001",
        address="みかん市本町1-1",
        name="給付 太郎",
        pay_date=dt.date(2026, 9, 25),
        bank_name="みかん銀行",
        branch_name="本店",
        account_type_label="普通",
        account_masked="****567",
        holder="ｷﾕｳﾌ ﾀﾛｳ",
        items=(
            NoticeItem("高額療養費", "令和8年7月診療分 高額療養費", 57_600),
            NoticeItem("療養費", "令和8年6月 療養費（補装具）", 12_000),
        ),
        notice_no="P-2026-000123",
        issued_on=dt.date(2026, 9, 18),
        payer_name=PAYER,
    )
    return dataclasses.replace(made, **changes)


def pages_of(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def flat(text: str) -> str:
    """The text without line breaks: the cells of a row read as one string."""
    return re.sub(r"\s*\n\s*", "", text)


def embedded_fonts(pdf: bytes) -> set[str]:
    names = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            for child in font.get("/DescendantFonts", [font]):
                descriptor = child.get_object()["/FontDescriptor"].get_object()
                assert "/FontFile2" in descriptor, font["/BaseFont"]  # embedded, every one
                names.add(str(descriptor["/FontName"]).split("+", 1)[1])
    return names


# --- 支払明細書 ---------------------------------------------------------------------------------


def test_the_register_has_its_head_every_line_and_the_totals():
    [page] = pages_of(register_pdf(register()))
    text = flat(page)
    assert "支払明細書" in page
    assert "処理番号　17" in page
    assert "令和8年9月25日（2026-09-25）" in page  # 支払日, wareki and ISO
    assert "令和8年9月22日" in page  # 送信日
    assert PAYER in page
    for x in THREE:
        assert x.customer_code in page
        assert x.account_number in page  # in full: the 会計課 needs it
    assert "ｷﾕｳﾌ ﾀﾛｳ" in page
    assert "12,345" in page and "12345" not in page
    assert "給付別" in page and "予算科目別" in page
    assert "高額療養費2件69,945円" in text
    assert "療養費1件8,000円" in text
    assert f"{KOGAKU_ITEM}2件69,945円" in text
    assert f"{RYOYOHI_ITEM}1件8,000円" in text
    assert "総計　3件　77,945円" in page
    for stamp in ("確認欄", "作成者", "確認者", "会計課"):
        assert stamp in page
    assert "1 / 1" in page


def test_a_register_of_120_lines_spans_pages_with_the_header_on_each():
    lines = [line(n, "高額療養費" if n % 3 else "療養費", 1_000 * n) for n in range(1, 121)]
    pdf = register_pdf(register(lines))
    pages = pages_of(pdf)
    count = len(pages)
    assert count >= 4
    for number, page in enumerate(pages, start=1):
        assert "支払明細書" in page and "処理番号　17" in page
        assert f"{number} / {count}" in page
    for page in pages[:-1]:
        assert "顧客コード" in page and "受取人名（全銀）" in page  # the table's header
    assert "2 / " in pages[1]
    text = "".join(pages)
    assert all(x.customer_code in text for x in lines)
    codes = [c for page in pages for c in re.findall(r"\b0000000\d{3}\b", page)]
    assert codes == [x.customer_code for x in lines]  # each once, in order
    total = sum(x.amount for x in lines)
    assert f"総計　120件　{total:,}円" in pages[-1]
    assert "総計" not in "".join(pages[:-1])
    assert PdfReader(io.BytesIO(pdf)).metadata.title == "支払明細書 処理番号 17"


def test_the_register_embeds_the_ipaex_font():
    assert embedded_fonts(register_pdf(register())) == {"IPAexGothic"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"payee_name": "ｷﾕｳﾌ 𠮷ﾀﾛｳ"},
            r"2行目.*受取人名（payee_name）にフォントにない文字.*U\+20BB7",
        ),
        ({"budget_item": "予算" * 40}, r"2行目.*予算科目（budget_item）が欄に収まりません"),
        ({"account_type": 3}, r"預金種目（account_type）が不明"),
        ({"amount": 0}, r"金額（amount）が0円以下"),
    ],
)
def test_the_register_refuses_what_it_cannot_print(changes, message):
    lines = (THREE[0], dataclasses.replace(THREE[1], **changes), THREE[2])
    with pytest.raises(ValueError, match=message):
        register_pdf(register(lines))


def test_an_empty_register_is_refused():
    with pytest.raises(ValueError, match="明細がありません"):
        register_pdf(register(()))


# --- 支払通知書 ---------------------------------------------------------------------------------


def test_a_notice_is_one_page_for_the_window_envelope(settings):
    settings.KOKUHO_MUNICIPALITY_NAME = "みかん市"
    [page] = pages_of(payment_notices_pdf([notice()]))
    assert "支払通知書（振込のお知らせ）" in page
    assert "〒799-0001" in page and "みかん市本町1-1" in page and "給付 太郎　様" in page
    assert "通知番号　P-2026-000123" in page
    assert "令和8年9月18日" in page and "みかん市長" in page
    assert "下記のとおり口座に振り込みます" in page


def test_a_notice_prints_the_transfer_the_items_and_the_total():
    [page] = pages_of(payment_notices_pdf([notice()]))
    text = flat(page)
    assert "支払予定日令和8年9月25日" in text
    assert "2026-09-25" not in page
    assert "金融機関みかん銀行　本店" in text
    assert "預金種目普通" in text
    assert "口座番号****567" in text
    assert "口座名義ｷﾕｳﾌ ﾀﾛｳ" in text
    assert "令和8年7月診療分 高額療養費高額療養費57,600円" in text
    assert "令和8年6月 療養費（補装具）療養費12,000円" in text
    assert "合計69,600円" in text
    assert "振込金額69,600円" in text


def test_a_notice_never_prints_the_full_account_number():
    pdf = payment_notices_pdf([notice()])
    assert "1234567" not in "".join(pages_of(pdf))
    with pytest.raises(ValueError, match=r"口座番号（account_masked）は下3桁のみ"):
        payment_notices_pdf([notice(account_masked="1234567")])


def test_a_notice_names_the_payer_and_the_contact(settings):
    settings.KOKUHO_INSURER_CONTACT = "みかん市役所 保険年金課 国保係 電話 089-000-0000"
    [page] = pages_of(payment_notices_pdf([notice()]))
    assert f"振込依頼人として「{PAYER}」と表示されることがあります" in flat(page)
    assert "問い合わせ先　みかん市役所 保険年金課 国保係 電話 089-000-0000" in page
    [page] = pages_of(payment_notices_pdf([notice(payer_name="")]))
    assert "振込依頼人としてみかん市の名義" in flat(page)


def test_a_batch_has_one_page_a_payee_in_the_given_order():
    names = ["給付 太郎", "蜜柑 花子", "伊予 一郎"]
    pdf = payment_notices_pdf([notice(name=n, notice_no=f"P-{i}") for i, n in enumerate(names)])
    pages = pages_of(pdf)
    assert len(pages) == 3
    for i, (page, name) in enumerate(zip(pages, names, strict=True)):
        assert f"{name}　様" in page and f"P-{i}" in page
        assert all(other not in page for other in names if other != name)
    assert PdfReader(io.BytesIO(pdf)).metadata.title == "支払通知書"


def test_the_notices_embed_both_ipaex_faces():
    assert embedded_fonts(payment_notices_pdf([notice()])) == {"IPAexGothic", "IPAexMincho"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "𠮷田 太郎"}, r"P-2026-000123: 氏名（name）にフォントにない文字.*𠮷\(U\+20BB7\)"),
        ({"holder": "ｷﾕｳﾌ\U0001f600"}, r"口座名義（holder）にフォントにない文字"),
        (
            {"items": (NoticeItem("療養費", "令和8年6月 𠮷", 100),)},
            r"明細1の内容（decision_label）",
        ),
        ({"items": ()}, r"明細（items）がない"),
        ({"items": (NoticeItem("療養費", "x", -5),)}, r"0円以下"),
        (
            {"items": tuple(NoticeItem("療養費", f"{i}", 100) for i in range(40))},
            "40 件あり、1ページに収まりません",
        ),
        ({"address": "みかん市本町" * 30}, r"封筒の窓に収まりません"),
    ],
)
def test_a_notice_it_cannot_print_truthfully_is_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        payment_notices_pdf([notice(), notice(**changes)])


def test_a_contact_outside_the_font_is_refused_naming_the_setting(settings):
    settings.KOKUHO_INSURER_CONTACT = "𠮷野町 国保係"
    with pytest.raises(ValueError, match="KOKUHO_INSURER_CONTACT"):
        payment_notices_pdf([notice()])


def test_an_empty_batch_is_refused():
    with pytest.raises(ValueError, match="支払通知がありません"):
        payment_notices_pdf([])
