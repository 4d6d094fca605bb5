"""The PDF of issued documents (証・通知): what each page says, read back with pypdf.

All data is synthetic. No database: the renderer takes plain dataclasses. The last test
renders one page of each type to PNG (/tmp/cert_png/) for a person to look at.
"""

import dataclasses
import datetime as dt
import io
import itertools
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from pypdf import PdfReader

from kokuho.certificates import pdf as renderer
from kokuho.certificates.models import DocumentType
from kokuho.certificates.pdf import (
    CARD_TYPES,
    DOCUMENT_TITLES,
    DocumentAddressee,
    DocumentPrint,
    InsurerInfo,
    documents_pdf,
)
from kokuho.core.mynumber import my_number_check_digit

INSURER = InsurerInfo("みかん市", "389999", "みかん市役所 保険年金課 国保係 電話 089-000-0000")
ADDRESSEE = DocumentAddressee(
    "799-0001", "みかん市本町一丁目2番3号\nみかんハイツ101号", "蜜柑 太郎"
)
SYNTHETIC_NUMBER = "12345678901" + str(my_number_check_digit("12345678901"))
HEMOPHILIA = "血漿分画製剤を投与している先天性血液凝固第Ⅷ因子障害又は第Ⅸ因子障害（血友病）"


def document(doc_type: str = "kakuninsho", **changes) -> DocumentPrint:
    """A document of each type as the services would build it (under 70 unless changed)."""
    extra = {
        "kakuninsho": {"copay_rate": "3割"},
        "oshirase": {"copay_rate": "3割", "valid_until": None},
        "gendogaku": {"category": "ウ", "valid_from": dt.date(2026, 9, 1)},
        "gengaku": {"category": "オ", "valid_from": dt.date(2026, 9, 1)},
        "tokutei": {
            "disease": "人工透析を要する慢性腎不全",
            "limit_amount": 10_000,
            "valid_from": dt.date(2026, 9, 1),
            "valid_until": None,
        },
    }.get(doc_type, {})
    fields = {
        "doc_type": doc_type,
        "serial": "KK2026-0000123",
        "issued_on": dt.date(2026, 7, 20),
        "valid_from": dt.date(2026, 8, 1),
        "valid_until": dt.date(2027, 7, 31),
        "symbol": "10",
        "number": "0012345",
        "branch": "02",
        "name": "蜜柑 花子",
        "birth_date": dt.date(1968, 5, 10),
        "sex": "女",
        "acquired_on": dt.date(2019, 5, 1),
        "head_name": "蜜柑 太郎",
        "address": "みかん市本町一丁目2番3号\nみかんハイツ101号",
        "addressee": ADDRESSEE,
    }
    doc = DocumentPrint(**(fields | extra))
    return dataclasses.replace(doc, **changes)


def elderly(doc_type: str = "kakuninsho", **changes) -> DocumentPrint:
    """70–74 (高齢受給者): the 割合 and its 発効期日; the お知らせ has an end."""
    return document(
        doc_type, birth_date=dt.date(1954, 3, 2), copay_rate="2割",
        copay_from=dt.date(2026, 8, 1), valid_until=dt.date(2027, 7, 31), **changes,
    )  # fmt: skip


def pages_of(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def flat(text: str) -> str:
    """The text without line breaks or spaces: a wrapped value reads as one again."""
    return re.sub(r"\s+", "", text)


def render(*docs: DocumentPrint, insurer: InsurerInfo = INSURER) -> list[str]:
    return pages_of(documents_pdf(list(docs) or [document()], insurer=insurer))


# --- Every type, every printed item ---------------------------------------------------------

COMMON = (
    "交付番号　KK2026-0000123",  # top right
    "令和8年7月20日",  # 交付年月日
    "みかん市長",
    "389999",
    "みかん市",
)


def test_the_enum_and_the_renderer_know_the_same_types():
    assert set(DOCUMENT_TITLES) == set(DocumentType.values)
    assert set(CARD_TYPES) == set(DocumentType.values) - {"oshirase"}


@pytest.mark.parametrize(
    ("doc_type", "items"),
    [
        (
            "kakuninsho",
            ["国民健康保険資格確認書", "記号 10 番号 0012345 （枝番） 02", "氏名 蜜柑 花子",
             "生年月日 昭和43年5月10日", "性別 女", "世帯主氏名 蜜柑 太郎",
             "住所 みかん市本町一丁目2番3号　みかんハイツ101号", "資格取得年月日 令和元年5月1日",
             "交付年月日 令和8年7月20日", "有効期限 令和9年7月31日", "一部負担金の割合 3割",
             "保険者番号 389999", "保険者名 みかん市",
             "この資格確認書は令和8年8月1日から令和9年7月31日まで使えます。"],
        ),
        (
            "oshirase",
            ["資格情報のお知らせ", "記号・番号（枝番） 記号 10　番号 0012345　（枝番）02",
             "氏名 蜜柑 花子", "生年月日 昭和43年5月10日", "資格取得年月日 令和元年5月1日",
             "一部負担金の割合 3割", "保険者番号 389999", "保険者名 みかん市",
             "交付年月日 令和8年7月20日", "医療機関等ではマイナ保険証をご利用ください。"],
        ),
        (
            "gendogaku",
            ["国民健康保険限度額適用認定証", "記号 10 番号 0012345 （枝番） 02",
             "被保険者氏名 蜜柑 花子", "生年月日 昭和43年5月10日", "世帯主氏名 蜜柑 太郎",
             "世帯主住所 みかん市本町一丁目2番3号　みかんハイツ101号", "適用区分 ウ",
             "発効期日 令和8年9月1日", "有効期限 令和9年7月31日", "保険者番号 389999",
             "この認定証は令和8年9月1日から令和9年7月31日まで使えます。"],
        ),
        (
            "gengaku",
            ["国民健康保険限度額適用・標準負担額減額認定証", "記号 10 番号 0012345 （枝番） 02",
             "被保険者氏名 蜜柑 花子", "世帯主氏名 蜜柑 太郎", "適用区分 オ",
             "発効期日 令和8年9月1日", "有効期限 令和9年7月31日"],
        ),
        (
            "tokutei",
            ["国民健康保険特定疾病療養受療証", "記号 10 番号 0012345 （枝番） 02",
             "被保険者氏名 蜜柑 花子", "生年月日 昭和43年5月10日",
             "認定疾病名 人工透析を要する慢性腎不全", "自己負担限度額 10,000円",
             "発効期日 令和8年9月1日", "有効期限 —", "この受療証は令和8年9月1日から使えます。"],
        ),
    ],
)  # fmt: skip
def test_each_type_prints_its_items(doc_type, items):
    [page] = render(document(doc_type))
    if doc_type in CARD_TYPES:
        items = [*items, "交付番号 KK2026-0000123"]  # on the card too
    for item in (*COMMON, *items):
        assert item in page, item
    assert "2026" not in page.replace("KK2026", "")  # dates are 和暦 only


def test_the_period_sentence_is_not_on_the_oshirase_and_it_has_no_end_under_70():
    [page] = render(document("oshirase"))
    assert "使えます" not in page
    assert "有効期限" not in page


def test_a_kakuninsho_for_70_to_74_prints_the_rate_and_its_effective_date():
    [page] = render(elderly())
    assert "一部負担金の割合 2割 発効期日 令和8年8月1日" in page
    assert "生年月日 昭和29年3月2日" in page


def test_an_oshirase_for_70_to_74_prints_the_rate_its_date_and_the_end():
    [page] = render(elderly("oshirase"))
    assert "一部負担金の割合 2割" in page
    assert "割合の発効期日 令和8年8月1日" in page
    assert "有効期限 令和9年7月31日" in page


def test_the_category_is_on_a_kakuninsho_only_when_asked_for():
    [without] = render(document())
    [asked] = render(document(category="ウ"))
    [elderly_asked] = render(elderly(category="一般"))
    assert "限度額適用区分" not in without.split("■")[0]
    assert "有効期限 令和9年7月31日 限度額適用区分 ウ" in asked
    assert "有効期限 令和9年7月31日 限度額適用区分 一般" in elderly_asked


def test_the_long_stay_date_is_on_the_reduction_certificate_when_given():
    [plain] = render(document("gengaku"))
    [long_stay] = render(document("gengaku", long_stay_from=dt.date(2026, 11, 15)))
    assert "長期入院該当年月日" not in plain
    assert "長期入院該当年月日 令和8年11月15日" in long_stay


@pytest.mark.parametrize("category", ["現役並みⅠ", "現役並みⅡ", "ア"])
def test_every_limit_category_prints(category):
    [page] = render(document("gendogaku", category=category))
    assert f"適用区分 {category}" in page


def test_a_specified_disease_prints_a_long_name_on_two_lines_and_the_amount_with_commas():
    [page] = render(document("tokutei", disease=HEMOPHILIA, limit_amount=20_000,
                             valid_until=dt.date(2027, 7, 31)))  # fmt: skip
    assert flat(HEMOPHILIA) in flat(page)
    assert "自己負担限度額 20,000円" in page
    assert "有効期限 令和9年7月31日" in page
    assert "20000" not in page


def test_the_contact_line_is_printed_only_when_given():
    [page] = render()
    assert "問い合わせ先　みかん市役所 保険年金課 国保係 電話 089-000-0000" in page
    [page] = render(insurer=InsurerInfo("みかん市", "389999"))
    assert "問い合わせ先" not in page


def test_the_notes_tell_what_to_do_with_it():
    kakuninsho, certificate, reduction = render(document(), document("gendogaku"),
                                                document("gengaku"))  # fmt: skip
    assert "食事代（標準負担額）が減額されます" in flat(reduction)
    assert "過去12か月の入院日数が90日を超えたとき" in flat(reduction)
    assert "古い資格確認書をみかん市に返してください" in flat(kakuninsho)
    assert "窓口に提示してください" in flat(kakuninsho)
    assert "この認定証を提示しなくても限度額が適用されます" in flat(certificate)


# --- The addressee --------------------------------------------------------------------------


def test_a_mailed_document_has_the_address_block_and_says_it_is_sent():
    [page] = render(document())
    assert page.startswith("〒799-0001\nみかん市本町一丁目2番3号\nみかんハイツ101号\n蜜柑 太郎　様")
    assert "送付について" in page and "お送りします" in page


def test_a_document_handed_over_at_the_counter_has_no_address_block():
    for doc_type in DOCUMENT_TITLES:
        [page] = render(document(doc_type, addressee=None))
        assert "〒" not in page and "様" not in page, doc_type
        assert "交付番号　KK2026-0000123" in page
    [page] = render(document(addressee=None))
    assert "交付について" in page and "交付します" in page


def test_a_missing_postal_code_prints_no_empty_mark():
    [page] = render(document(addressee=DocumentAddressee("", "みかん市本町1-1", "蜜柑 太郎")))
    assert "〒" not in page and "みかん市本町1-1" in page


# --- Batches --------------------------------------------------------------------------------


def test_a_batch_has_one_page_a_document_in_the_given_order():
    docs = [
        document(doc_type, serial=f"KK2026-{i:07d}", name=name)
        for i, (doc_type, name) in enumerate(
            zip(itertools.cycle(DOCUMENT_TITLES), ("伊予 一郎", "松山 花子", "髙橋 翔",
                                                  "渡邊 美咲", "宇和島 健太", "今治 陽子")),
            start=1,
        )
    ]  # fmt: skip
    pages = render(*docs)
    assert len(pages) == len(docs)
    for page, doc in zip(pages, docs, strict=True):
        assert f"交付番号　{doc.serial}" in page
        assert doc.name in page
        assert DOCUMENT_TITLES[doc.doc_type] in page
    assert "松山 花子" not in pages[0]


def test_the_document_title_names_the_type_or_the_batch():
    single = PdfReader(io.BytesIO(documents_pdf([document()], insurer=INSURER)))
    assert single.metadata.title == "国民健康保険資格確認書"
    assert single.metadata.author == "みかん市"
    mixed = documents_pdf([document(), document("oshirase")], insurer=INSURER)
    assert PdfReader(io.BytesIO(mixed)).metadata.title == "国民健康保険 証・通知"


def test_the_fonts_are_embedded_subsets_of_ipaex():
    pdf = documents_pdf([document(t) for t in DOCUMENT_TITLES], insurer=INSURER)
    names = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            for child in font.get("/DescendantFonts", [font]):
                descriptor = child.get_object()["/FontDescriptor"].get_object()
                assert "/FontFile2" in descriptor, font["/BaseFont"]  # embedded, every one
                names.add(str(descriptor["/FontName"]))
    assert names, "no font at all"
    for name in names:
        assert re.fullmatch(r"/[A-Z]{6}\+IPAex(Gothic|Mincho)", name), name  # a subset
    assert {n.split("+")[1] for n in names} == {"IPAexGothic", "IPAexMincho"}


# --- Fitting the card -----------------------------------------------------------------------


def _runs_inside_the_card(doc: DocumentPrint) -> list[tuple]:
    page = renderer._page(doc, INSURER)
    x, y, w, h = page.cut
    inside = [r for r in page.runs if isinstance(r, tuple) and y < r[3] < y + h]
    for font, size, left, _baseline, text in inside:
        right = left + renderer._width(text, font, size)
        assert left >= x + renderer.CARD_PAD - 0.01, text
        assert right <= x + w - renderer.CARD_PAD + 0.01, (text, right - (x + w))
    return inside


@pytest.mark.parametrize("doc_type", CARD_TYPES)
def test_nothing_on_a_card_overflows_it(doc_type):
    for doc in (document(doc_type), elderly(doc_type) if doc_type == "kakuninsho" else None):
        if doc is not None:
            _runs_inside_the_card(doc)


def test_a_long_name_is_set_smaller_and_a_long_address_on_two_lines():
    name = "ＭＡＲＩＡ ＧＯＮＺＡＬＥＳ ＤＥ ＬＡ ＣＲＵＺ ＳＡＮＴＯＳ"
    address = "みかん市みかん台三丁目二十一番地の十五\nみかん台グリーンハイツ南棟1205号室"
    doc = document("gengaku", name=name, address=address, long_stay_from=dt.date(2026, 11, 1))
    runs = _runs_inside_the_card(doc)
    [name_run] = [r for r in runs if r[4] == name]
    assert name_run[1] < renderer.CARD_NAME[1]  # smaller than 9.5 pt, not below the minimum
    assert name_run[1] >= renderer.CARD_NAME[2]
    one_line = address.replace("\n", "　")
    address_lines = [r[4] for r in runs if len(r[4]) > 4 and r[4] in one_line]
    assert len(address_lines) == 2 and "".join(address_lines) == one_line
    [page] = render(doc)
    assert flat(address) in flat(page) and name in page


def test_a_value_that_cannot_fit_the_card_is_refused_naming_it():
    with pytest.raises(ValueError, match=r"KK2026-0000123.*住所（address）がカードに収まりません"):
        documents_pdf([document(address="みかん市本町" * 30)], insurer=INSURER)
    with pytest.raises(ValueError, match="氏名（name）がカードに収まりません"):
        documents_pdf([document(name="蜜柑" * 30)], insurer=INSURER)


def test_an_address_too_long_for_the_window_is_refused():
    addressee = DocumentAddressee("799-0001", "みかん市本町" * 25, "蜜柑 太郎")
    with pytest.raises(
        ValueError, match=r"宛先の住所（addressee\.address）が封筒の窓に収まりません"
    ):
        documents_pdf([document(addressee=addressee)], insurer=INSURER)


def test_a_long_foreign_name_in_the_window_breaks_between_words():
    name = "ＭＡＲＩＡ ＧＯＮＺＡＬＥＳ ＤＥ ＬＡ ＣＲＵＺ ＳＡＮＴＯＳ"
    addressee = DocumentAddressee("799-0001", "みかん市本町1-1", name)
    page = renderer._page(document(addressee=addressee), INSURER)
    [to] = [r for r in page.runs if isinstance(r, tuple) and r[4].endswith("様")]
    lines = [r[4] for r in page.runs if isinstance(r, tuple) and r[2] == to[2]]
    assert len(lines) == 2
    assert " ".join(lines).removesuffix("　様").split() == name.split()


def test_lines_do_not_start_with_closing_punctuation_or_split_numbers():
    text = "一部負担金" * 3 + "、" + "合計 1,234,567円。" * 12 + "（注）" * 10
    for width in (60.0, 80.0, 95.0, 120.0, 200.0):
        lines = renderer._wrap(text, renderer.MINCHO, 10.0, width)
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")
        for before, line in itertools.pairwise(lines):
            assert line[0] not in "、。）円", (width, line)
            assert before[-1] != "（", (width, before)
        assert set(re.findall(r"[\d,]+", "\n".join(lines))) == {"1,234,567"}, width


# --- Refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (document(name=f"蜜柑 {SYNTHETIC_NUMBER}"), r"氏名（name）に個人番号と同じ形"),
        (document(number=SYNTHETIC_NUMBER), r"番号（number）に個人番号と同じ形"),
        (document(address=f"本町 {SYNTHETIC_NUMBER[:4]}-{SYNTHETIC_NUMBER[4:8]}-"
                          f"{SYNTHETIC_NUMBER[8:]}"), r"住所（address）に個人番号"),
        (document(addressee=DocumentAddressee("799-0001", f"本町{SYNTHETIC_NUMBER}", "蜜柑")),
         r"宛先の住所（addressee.address）に個人番号"),
        (document("tokutei", disease=f"慢性腎不全 {SYNTHETIC_NUMBER}"),
         "認定疾病名（disease）に個人番号"),
        (document(name="𠮷田 花子"), r"氏名（name）にフォントにない文字.*U\+20BB7"),
        (document(head_name="𠮷田 太郎"), r"世帯主氏名（head_name）にフォントにない文字"),
        (document(doc_type="hokensho"), "種類（doc_type）「hokensho」"),
        (document(valid_until=None), r"有効期限（valid_until）がありません"),
        (document(acquired_on=None), r"資格取得年月日（acquired_on）がありません"),
        (document(copay_rate=None), r"一部負担金の割合（copay_rate）がありません"),
        (document("oshirase", copay_rate=""), r"一部負担金の割合（copay_rate）がありません"),
        (document("oshirase", copay_from=dt.date(2026, 8, 1)), r"有効期限（valid_until）が必要"),
        (document("gendogaku", category=None), r"適用区分（category）がありません"),
        (document("gengaku", valid_until=None), r"有効期限（valid_until）がありません"),
        (document("gendogaku", category="オ"), r"「オ」は国民健康保険限度額適用認定証に印字"),
        (document("gengaku", category="ウ"), r"「ウ」は国民健康保険限度額適用・標準負担額減額"),
        (document(category="一般Ⅲ"), r"「一般Ⅲ」は国民健康保険資格確認書に印字できません"),
        (document("oshirase", category="一般Ⅲ"), r"「一般Ⅲ」は区分ではありません"),
        (document("tokutei", disease=None), r"認定疾病名（disease）がありません"),
        (document("tokutei", limit_amount=None), r"自己負担限度額（limit_amount）がありません"),
        (document("tokutei", limit_amount=0), r"自己負担限度額（limit_amount）は1円以上"),
        (document(disease="人工透析を要する慢性腎不全"), r"認定疾病名（disease）はこの種類"),
        (document("gendogaku", long_stay_from=dt.date(2026, 9, 1)), r"長期入院該当年月日"),
        (document(branch="2"), r"枝番（branch）は数字2桁"),
        (document(sex="M"), r"性別（sex）"),
        (document(name=" "), r"氏名（name）がありません"),
        (document(valid_until=dt.date(2026, 7, 31)), r"有効期限（valid_until）が発効期日より前"),
        (document(addressee=DocumentAddressee("7990001", "本町", "蜜柑")), r"郵便番号"),
    ],
)  # fmt: skip
def test_it_refuses_a_document_it_cannot_print_truthfully(doc, message):
    with pytest.raises(ValueError, match=message) as raised:
        documents_pdf([document(), doc], insurer=INSURER)
    assert "KK2026-0000123" in str(raised.value)  # the serial names the document
    assert SYNTHETIC_NUMBER not in str(raised.value)  # and the message never repeats it


def test_an_empty_item_of_another_certificate_is_no_item():
    [page] = render(document(disease=""))
    assert "認定疾病名" not in page


def test_a_serial_shaped_like_a_my_number_is_refused_without_repeating_it():
    with pytest.raises(ValueError, match="交付番号（serial）に個人番号") as raised:
        documents_pdf([document(serial=SYNTHETIC_NUMBER)], insurer=INSURER)
    assert SYNTHETIC_NUMBER not in str(raised.value)


def test_a_twelve_digit_run_without_the_check_digit_is_printed():
    not_a_number = SYNTHETIC_NUMBER[:11] + str((int(SYNTHETIC_NUMBER[11]) + 1) % 10)
    [page] = render(document(address=f"みかん市本町 {not_a_number}"))
    assert not_a_number in page


@pytest.mark.parametrize(
    ("insurer", "message"),
    [
        (InsurerInfo("みかん市", "38999"), "保険者番号（insurer_number）は検証番号の合う数字6桁"),
        (InsurerInfo("みかん市", "389990"), "保険者番号（insurer_number）は検証番号の合う数字6桁"),
        (InsurerInfo("", "389999"), "保険者名（municipality）がありません"),
        (InsurerInfo("みかん市", "389999", f"電話 {SYNTHETIC_NUMBER}"), "問い合わせ先"),
    ],
)
def test_it_refuses_insurer_details_it_cannot_print(insurer, message):
    with pytest.raises(ValueError, match=message):
        documents_pdf([document()], insurer=insurer)


def test_nothing_is_drawn_when_any_document_of_the_batch_is_refused(monkeypatch):
    def no_canvas(*args, **kwargs):
        raise AssertionError("a canvas was created")

    monkeypatch.setattr(renderer, "Canvas", no_canvas)
    with pytest.raises(ValueError, match="KK2026-0000999"):
        documents_pdf([document(), document(serial="KK2026-0000999", valid_until=None)],
                      insurer=INSURER)  # fmt: skip


def test_an_empty_batch_is_refused():
    with pytest.raises(ValueError, match="印刷する証・通知がありません"):
        documents_pdf([], insurer=INSURER)


# --- For the eye ----------------------------------------------------------------------------

PNG_DIR = Path(os.environ.get("KOKUHO_PNG_DIR") or Path(tempfile.gettempdir()) / "cert_png")


def test_each_type_renders_to_png_for_review():
    """One page of each type (70–74 where it matters, one counter copy) as PNG, to look at."""
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        pytest.fail("pdftoppm is missing: run `make setup` (installs Debian poppler-utils)")
    docs = [
        elderly(category="現役並みⅠ"),
        elderly("oshirase"),
        document("gendogaku"),
        document("gengaku", long_stay_from=dt.date(2026, 11, 15)),
        document("tokutei", disease=HEMOPHILIA),
        document(
            addressee=None, name="ＭＡＲＩＡ ＧＯＮＺＡＬＥＳ ＤＥ ＬＡ ＣＲＵＺ ＳＡＮＴＯＳ"
        ),
    ]
    PNG_DIR.mkdir(exist_ok=True)
    source = PNG_DIR / "documents.pdf"
    source.write_bytes(documents_pdf(docs, insurer=INSURER))
    for old in PNG_DIR.glob("page-*.png"):
        old.unlink()
    subprocess.run([pdftoppm, "-r", "110", "-png", str(source), str(PNG_DIR / "page")],
                   check=True, timeout=120)  # fmt: skip
    pngs = sorted(PNG_DIR.glob("page-*.png"))
    assert len(pngs) == len(docs)
    for png in pngs:
        assert png.stat().st_size > 20_000  # a page with content, not a blank one
