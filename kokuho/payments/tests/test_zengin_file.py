"""The 全銀 総合振込 writer: the spec's example byte for byte, a golden file per bank
profile, every output read back by the independent reader, and fields refused, never cut."""

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kokuho.payments.config import PROFILE_DIR, bank_profile_load
from kokuho.payments.tests import zengin_reader
from kokuho.payments.zengin_file import (
    Header,
    Transfer,
    ZenginFieldError,
    zengin_file_bytes,
)

HERE = Path(__file__).parent
SPEC = HERE.parents[2].parent / "shared" / "spec" / "examples" / "zengin-sogo-21.txt"

HEADER = Header(
    requester_code="0123456789",
    requester_name="ﾐｶﾝｼ ｺｸﾐﾝｹﾝｺｳﾎｹﾝ",
    pay_date=dt.date(2026, 4, 15),
    bank_code="1234",
    bank_name="ﾐｶﾝｷﾞﾝｺｳ",
    branch_code="101",
    branch_name="ｼﾔｸｼﾖ",
    account_type=1,
    account_number="7654321",
)
YUCHO = Transfer(
    bank_code="9900",
    bank_name="ﾕｳﾁﾖ",
    branch_code="128",
    branch_name="",
    account_type=1,
    account_number="1234567",
    payee_name="ﾔﾏﾀﾞ ﾀﾛｳ",
    amount=57600,
    new_code=1,
    customer_code="0000000001",
)
LOCAL = Transfer(
    bank_code="1234",
    bank_name="ﾐｶﾝｷﾞﾝｺｳ",
    branch_code="205",
    branch_name="ｴｷﾏｴ",
    account_type=1,
    account_number="2345678",
    payee_name="ｷﾀｶﾞﾜ ﾊﾅｺ",
    amount=30000,
    new_code=0,
    customer_code="0000000002",
)
PROFILES = sorted(p.stem for p in PROFILE_DIR.glob("*.yaml"))


def test_it_writes_the_specs_example_byte_for_byte():
    expected = (HERE / "examples" / "zengin-sogo-21.txt").read_bytes()
    assert zengin_file_bytes(HEADER, [YUCHO, LOCAL], bank_profile_load("standard")) == expected


def test_the_copy_of_the_specs_example_matches_the_original():
    if not SPEC.exists():
        pytest.skip("../shared is not beside this clone")
    assert (HERE / "examples" / "zengin-sogo-21.txt").read_bytes() == SPEC.read_bytes()


@pytest.mark.parametrize("name", PROFILES)
def test_each_profile_writes_its_golden_file(name):
    profile = bank_profile_load(name)
    got = zengin_file_bytes(HEADER, [YUCHO, LOCAL], profile)
    assert got == (HERE / "golden" / f"zengin-{name}.txt").read_bytes()
    parsed = zengin_reader.read(got, line_breaks=profile.line_break == "crlf", eof=profile.eof)
    assert (parsed.trailer_count, parsed.trailer_total) == (2, 87600)


def test_the_compact_profile_has_no_line_breaks_an_eof_and_blank_names():
    got = zengin_file_bytes(HEADER, [YUCHO, LOCAL], bank_profile_load("compact"))
    assert len(got) == 5 * 120 + 1 and got.endswith(b"\x1a") and b"\r\n" not in got
    parsed = zengin_reader.read(got, line_breaks=False, eof=True)
    first = parsed.data[0]
    assert (first.bank_name, first.branch_name, first.clearing_house) == ("", "", "    ")
    assert (first.identifier, first.transfer_kind, first.customer_code) == ("Y", " ", "0000000001")


def test_a_payee_name_too_long_is_refused_not_cut():
    with pytest.raises(ZenginFieldError, match="30 文字を超えます"):
        zengin_file_bytes(
            HEADER, [replace(LOCAL, payee_name="ｱ" * 31)], bank_profile_load("standard")
        )


@pytest.mark.parametrize(
    "change, message",
    [
        ({"payee_name": "山田"}, "全銀の文字ではない"),
        ({"payee_name": "ﾔﾏﾀﾞ,ﾀﾛｳ"}, "全銀の文字ではない"),
        ({"bank_name": "ﾐｶﾝ(ｷﾞﾝｺｳ)"}, "全銀の文字ではない"),
        ({"account_number": "12345678"}, "7 桁を超えます"),
        ({"amount": 10_000_000_000}, "10 桁を超えます"),
        ({"bank_code": "12a4"}, "数字ではありません"),
        ({"account_type": 3}, "預金種目"),
        ({"new_code": 5}, "新規コード"),
    ],
)
def test_a_field_the_layout_cannot_carry_is_refused_with_its_place(change, message):
    with pytest.raises(ZenginFieldError, match=message) as error:
        zengin_file_bytes(HEADER, [LOCAL, replace(LOCAL, **change)], bank_profile_load("standard"))
    assert "データ 2 件目" in str(error.value)


def test_an_empty_file_still_has_its_trailer_and_end():
    parsed = zengin_reader.read(zengin_file_bytes(HEADER, [], bank_profile_load("standard")))
    assert (parsed.data, parsed.trailer_count, parsed.trailer_total) == ([], 0, 0)


# Names are built from whole characters: a voiced kana is its base and its mark together.
NAME_TOKENS = ["ｱ", "ｲ", "ｶ", "ｶﾞ", "ﾊﾟ", "ﾎﾞ", "ﾝ", "ﾔ", "A", "Z", "0", "9", "(", ")", "-", ".", " "]
BANK_TOKENS = ["ｱ", "ｷ", "ｸﾞ", "ﾊﾟ", "-"]
names = (
    st.lists(st.sampled_from(NAME_TOKENS), min_size=1, max_size=15)
    .map("".join)
    .filter(lambda s: s.strip() and not s.startswith(" "))
)
bank_names = st.lists(st.sampled_from(BANK_TOKENS), max_size=7).map("".join)
transfers = st.builds(
    Transfer,
    bank_code=st.from_regex(r"[0-9]{4}", fullmatch=True),
    bank_name=bank_names,
    branch_code=st.from_regex(r"[0-9]{3}", fullmatch=True),
    branch_name=bank_names,
    account_type=st.sampled_from([1, 2, 4, 9]),
    account_number=st.from_regex(r"[0-9]{7}", fullmatch=True),
    payee_name=names,
    amount=st.integers(min_value=1, max_value=9_999_999_999),
    new_code=st.sampled_from([0, 1, 2]),
    customer_code=st.from_regex(r"[0-9]{10}", fullmatch=True),
)


@settings(max_examples=60, deadline=None)
@given(items=st.lists(transfers, max_size=12), name=st.sampled_from(PROFILES))
def test_whatever_it_writes_the_independent_reader_reads_back(items, name):
    profile = bank_profile_load(name)
    raw = zengin_file_bytes(HEADER, items, profile)
    parsed = zengin_reader.read(raw, line_breaks=profile.line_break == "crlf", eof=profile.eof)
    assert parsed.trailer_count == len(items)
    assert parsed.trailer_total == sum(t.amount for t in items)
    assert [r.amount for r in parsed.data] == [t.amount for t in items]
    assert [r.name for r in parsed.data] == [t.payee_name.rstrip(" ") for t in items]
