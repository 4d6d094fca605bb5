"""The 高額療養費 notice PDFs: what each page says, read back from the PDF with pypdf.

All data is synthetic. The 計算明細 lines are those `kokuho kogaku calc` writes for the
spec's example K5 (kogaku-005: 多数回, two persons, 57,600 yen).
"""

import dataclasses
import datetime as dt
import io
import itertools
import re

import pytest
from pypdf import PdfReader

from kokuho.benefits.notices import (
    DecisionNotice,
    InvitationNotice,
    NoticeAddressee,
    NoticePerson,
    decision_notices_pdf,
    invitation_notices_pdf,
)
from kokuho.core.mynumber import my_number_check_digit
from kokuho.core.pdf import MINCHO, text_wrap

CITY = "みかん市"
STEPS = (
    "診療月 2026-07（令和8年7月）",
    "P1: 1960-05-10生・70歳未満・区分 ウ",
    "P2: 1953-03-02生・70〜74歳・区分 一般",
    "P1 3811234567 入院 医科: 一部負担金 90,000円・医療費 300,000円 → 21,000円以上のため合算",
    "P2 3810000001 外来 医科: 一部負担金 12,000円・医療費 60,000円（レセプト 2 件を合わせる"
    "（調剤は処方元に合算）） → 70〜74歳はすべて合算",
    "多数回: 直前11か月の支給月 3 回（2025-11、2026-01、2026-05）→ 該当",
    "手順1 P2 外来（個人）: 12,000円 − 限度額 18,000円 → 支給 0円",
    "手順2 70〜74歳の世帯合算: 12,000円 − 限度額 44,400円（一般・多数回） → 支給 0円",
    "手順3 世帯全体の合算: 102,000円 − 限度額 44,400円（ウ・多数回） → 支給 57,600円",
    "按分（手順3）: P1 90,000円 → 50,824円、P2 12,000円 → 6,776円"
    "（円未満切捨て、端数は最も多い人）",
    "支給額 57,600円",
)
PERSONS = (NoticePerson("給付 太郎", 90_000, 50_824), NoticePerson("給付 花子", 12_000, 6_776))
ADDRESSEE = NoticeAddressee("799-0001", "みかん市本町1-1", "給付 太郎")
SYNTHETIC_NUMBER = "12345678901" + str(my_number_check_digit("12345678901"))


def decision(**changes) -> DecisionNotice:
    notice = DecisionNotice(
        notice_no="K-2026-07-000123",
        issued_on=dt.date(2026, 9, 15),
        addressee=ADDRESSEE,
        insured_symbol="10",
        insured_number="0012345",
        service_month=dt.date(2026, 7, 1),
        amount=57_600,
        decided_on=dt.date(2026, 9, 10),
        kind_label="申請による決定",
        payee="0001 みかん銀行 本店 普通 ****567 キユウフ タロウ",
        payment_due_on=dt.date(2026, 9, 25),
        persons=PERSONS,
        steps=STEPS,
    )
    return dataclasses.replace(notice, **changes)


def invitation(**changes) -> InvitationNotice:
    notice = InvitationNotice(
        notice_no="S-2026-07-000045",
        issued_on=dt.date(2026, 9, 15),
        addressee=ADDRESSEE,
        insured_symbol="10",
        insured_number="0012345",
        service_month=dt.date(2026, 7, 1),
        amount=57_600,
        apply_by=dt.date(2028, 7, 31),
        first_time=True,
        persons=PERSONS,
        steps=STEPS,
    )
    return dataclasses.replace(notice, **changes)


def pages_of(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def flat(text: str) -> str:
    """The text without line breaks: a wrapped line reads as one again."""
    return re.sub(r"\s*\n\s*", "", text)


def decisions(*notices: DecisionNotice) -> list[str]:
    return pages_of(decision_notices_pdf(notices or [decision()], municipality=CITY))


def invitations(*notices: InvitationNotice) -> list[str]:
    return pages_of(invitation_notices_pdf(notices or [invitation()], municipality=CITY))


# --- Decisions ------------------------------------------------------------------------------


def test_a_decision_is_one_page_with_its_heading_and_addressee():
    [page] = decisions()
    assert "高額療養費支給決定通知書" in page
    assert "〒799-0001" in page and "みかん市本町1-1" in page
    assert "給付 太郎　様" in page
    assert "K-2026-07-000123" in page
    assert "みかん市長" in page


def test_a_missing_postal_code_prints_no_empty_mark():
    [page] = decisions(decision(addressee=NoticeAddressee("", "みかん市本町1-1", "給付 太郎")))
    assert "〒" not in page and "みかん市本町1-1" in page


def test_it_prints_the_dates_in_wareki():
    [page] = decisions()
    assert "令和8年9月15日" in page  # 発行日
    assert "令和8年7月診療分" in page
    assert "令和8年9月10日" in page  # 決定日
    assert "令和8年9月25日" in page  # 振込予定日
    assert "2026-09-15" not in page


def test_it_prints_the_table_of_the_decision():
    [page] = decisions()
    text = flat(page)
    for label, value in (
        ("診療年月", "令和8年7月診療分"),
        ("記号・番号", "記号 10　番号 0012345"),
        ("支給額", "57,600円"),
        ("決定区分", "申請による決定"),
        ("決定日", "令和8年9月10日"),
        ("振込先", "0001 みかん銀行 本店 普通 ****567 キユウフ タロウ"),
        ("振込予定日", "令和8年9月25日"),
    ):
        assert f"{label}{value}" in text, label
    assert "57600" not in text


def test_an_unknown_payment_day_says_so():
    [page] = decisions(decision(payment_due_on=None))
    assert "振込予定日未定" in flat(page)


def test_it_states_the_legal_basis():
    [page] = decisions()
    assert "国民健康保険法第57条の2" in page


def test_each_person_has_a_row_with_their_amounts_and_a_total():
    [page] = decisions()
    assert "合算対象の一部負担金" in page
    assert re.search(r"給付 太郎\s*90,000円\s*50,824円", page)
    assert re.search(r"給付 花子\s*12,000円\s*6,776円", page)
    assert re.search(r"合計\s*102,000円\s*57,600円", page)


def test_it_lists_every_line_of_the_computation_in_order():
    [page] = decisions()
    assert "計算明細" in page
    text = flat(page).replace(" ", "")  # a line broken at a space loses the space
    position = text.index("計算明細")
    for line in STEPS:
        position = text.index(line.replace(" ", ""), position + 1)
    assert STEPS[3] in page  # a line that fits is one line of the PDF, as written


def test_a_decision_carries_the_appeal_instructions():
    [page] = decisions()
    text = flat(page)
    assert "【教示】" in text
    assert "国民健康保険審査会に対して" in text
    assert "翌日から起算して3か月以内" in text
    assert "国民健康保険法第91条第1項、第99条" in text
    assert "裁決があったことを知った日から6か月以内" in text
    assert "みかん市を被告として" in text
    assert "行政事件訴訟法" in text


def test_the_appeal_names_the_prefecture_board_when_given():
    pdf = decision_notices_pdf([decision()], municipality=CITY, prefecture="愛媛県")
    assert "愛媛県国民健康保険審査会" in flat(pages_of(pdf)[0])


def test_every_page_has_the_contact_line():
    pages = decisions(decision(), decision(steps=tuple(f"明細 {i}" for i in range(60))))
    assert len(pages) == 3
    for page in pages:
        assert "みかん市 国民健康保険課 給付係" in page


def test_a_provisional_computation_is_refused():
    with pytest.raises(ValueError, match="試算"):
        decision_notices_pdf([decision(), decision(provisional=True)], municipality=CITY)


def test_a_batch_of_three_decisions_has_one_page_each_in_order():
    notices = [
        decision(
            notice_no=f"K-2026-07-00012{i}",
            addressee=NoticeAddressee("799-000" + str(i), f"みかん市本町{i}-1", name),
            amount=amount,
            persons=(NoticePerson(name, amount * 2, amount),),
        )
        for i, (name, amount) in enumerate(
            (("蜜柑 一郎", 212_570), ("伊予 花子", 42_000), ("髙橋 翔", 23_200)), start=1
        )
    ]
    pages = decisions(*notices)
    assert len(pages) == 3
    for page, notice in zip(pages, notices, strict=True):
        assert notice.notice_no in page
        assert f"{notice.addressee.name}　様" in page
        assert f"{notice.amount:,}円" in page
        assert "【教示】" in page
    assert "伊予 花子" not in pages[0] and "蜜柑 一郎" not in pages[1]


# --- A long 計算明細 ------------------------------------------------------------------------


def test_forty_lines_of_computation_continue_on_a_second_page():
    steps = tuple(f"明細行{i:02d}: 一部負担金 {i * 1000:,}円 → 合算" for i in range(1, 41))
    pages = decisions(decision(steps=steps))
    assert len(pages) == 2
    first, second = pages
    assert "1/2" in first and "（次ページに続きます）" in first
    assert "【教示】" in first  # the 教示 stays on the first page
    assert "高額療養費支給決定通知書（続き）" in second and "2/2" in second
    assert "K-2026-07-000123" in second and "給付 太郎　様" in second
    assert "計算明細（続き）" in second
    both = first + second
    for line in steps:
        assert both.count(line) == 1, line
    assert "明細行40" in second and "明細行01" in first


def test_the_notice_after_a_long_one_starts_on_a_new_page():
    steps = tuple(f"明細行{i:02d}" for i in range(1, 41))
    pages = decisions(
        decision(steps=steps), decision(notice_no="K-2026-07-000124", steps=STEPS[:3])
    )
    assert len(pages) == 3
    assert "K-2026-07-000124" in pages[2] and "K-2026-07-000124" not in pages[1]
    assert "1/2" not in pages[2]


def test_long_texts_wrap_without_losing_anything():
    payee = "0001 みかん銀行 みかん台出張所 普通 ****567 " + "キユウフ タロウ" * 6
    address = "みかん市みかん台三丁目二十一番地の十五" * 3 + "\nみかんハイツ202号"
    pages = decisions(
        decision(payee=payee, addressee=NoticeAddressee("799-0001", address, "給付 太郎"))
    )
    text = flat("\n".join(pages))
    assert payee.replace(" ", "") in text.replace(" ", "")
    assert address.replace("\n", "") in text


# --- Invitations ----------------------------------------------------------------------------


def test_an_invitation_has_its_own_title_and_deadline():
    [page] = invitations()
    text = flat(page)
    assert "高額療養費支給申請のお知らせ" in text
    assert "支給見込額57,600円" in text
    assert "申請期限令和10年7月31日" in text
    assert "令和8年7月診療分" in text and "令和8年9月15日" in text
    assert "国民健康保険法第57条の2" in text and "第110条" in text
    assert re.search(r"給付 太郎\s*90,000円\s*50,824円", page)
    for line in STEPS:
        assert line.replace(" ", "") in text.replace(" ", "")


def test_an_invitation_has_no_appeal_instructions():
    [page] = invitations()
    assert "教示" not in page and "審査請求" not in page


def test_the_simplification_paragraph_is_only_in_the_first_invitation():
    first, later = invitations(invitation(), invitation(first_time=False))
    assert "申請簡素化について" in first
    assert "新たに申請していただかなくても" in flat(first)
    assert "申請簡素化" not in later


def test_a_batch_of_three_invitations_has_one_page_each():
    notices = [
        invitation(notice_no=f"S-2026-07-00004{i}", first_time=i == 1, amount=57_600 + i,
                   persons=(NoticePerson("給付 太郎", 90_000, 57_600 + i),))
        for i in range(1, 4)
    ]  # fmt: skip
    pages = invitations(*notices)
    assert len(pages) == 3
    for page, notice in zip(pages, notices, strict=True):
        assert notice.notice_no in page
        assert f"{notice.amount:,}円" in page
    assert ["申請簡素化" in page for page in pages] == [True, False, False]


# --- The file -------------------------------------------------------------------------------


def _embedded_fonts(pdf: bytes) -> set[str]:
    fonts = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            descriptor = font.get_object()
            for child in descriptor.get("/DescendantFonts", [descriptor]):
                fd = child.get_object().get("/FontDescriptor")
                if fd is not None and "/FontFile2" in fd.get_object():
                    fonts.add(str(fd.get_object()["/FontName"]))
    return fonts


@pytest.mark.parametrize("render", ["decision", "invitation"])
def test_the_fonts_are_embedded(render):
    if render == "decision":
        pdf = decision_notices_pdf([decision()], municipality=CITY)
    else:
        pdf = invitation_notices_pdf([invitation()], municipality=CITY)
    fonts = _embedded_fonts(pdf)
    assert any("IPAexGothic" in name for name in fonts), fonts
    assert any("IPAexMincho" in name for name in fonts), fonts


def test_the_document_has_a_title():
    reader = PdfReader(io.BytesIO(decision_notices_pdf([decision()], municipality=CITY)))
    assert reader.metadata.title == "高額療養費支給決定通知書"


# --- Refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"amount": 0, "persons": (NoticePerson("給付 太郎", 90_000, 0),)}, "0円以下"),
        ({"amount": 57_601}, "一致しません"),
        ({"persons": (NoticePerson("給付 太郎", -1, 57_600),)}, "負の金額"),
        ({"service_month": dt.date(2026, 7, 15)}, "月の初日"),
        ({"addressee": NoticeAddressee("799-0001", "みかん市本町1-1", "𠮷田 太郎")}, "U\\+20BB7"),
        ({"steps": (f"番号 {SYNTHETIC_NUMBER}",)}, "個人番号"),
    ],
)
def test_it_refuses_a_notice_it_cannot_print_truthfully(changes, message):
    with pytest.raises(ValueError, match=message):
        decision_notices_pdf([decision(**changes)], municipality=CITY)
    with pytest.raises(ValueError, match=message):
        invitation_notices_pdf([invitation(**changes)], municipality=CITY)


def test_a_table_taller_than_a_page_is_refused_rather_than_overprinted():
    persons = tuple(NoticePerson(f"給付 {i}", 1_000, 1_000) for i in range(60))
    with pytest.raises(ValueError, match="収まらない"):
        decision_notices_pdf([decision(persons=persons, amount=60_000)], municipality=CITY)


def test_an_empty_batch_is_refused():
    with pytest.raises(ValueError, match="通知がありません"):
        decision_notices_pdf([], municipality=CITY)


# --- Line breaking --------------------------------------------------------------------------


def test_lines_do_not_start_with_closing_punctuation_or_split_numbers():
    text = "一部負担金" * 3 + "、" + "合計 1,234,567円。" * 12 + "（注）" * 10
    for width in (60.0, 80.0, 95.0, 120.0, 200.0):
        lines = text_wrap(text, MINCHO, 10.0, width)
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")
        for before, line in itertools.pairwise(lines):
            assert line[0] not in "、。）円", (width, line)
            assert before[-1] != "（", (width, before)
        numbers = re.findall(r"[\d,]+", "\n".join(lines))
        assert set(numbers) == {"1,234,567"}, (width, numbers)  # never split over two lines
