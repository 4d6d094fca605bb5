"""Bank/branch lookup and the ゆうちょ銀行 conversion (kokuho.payments.banks). No database."""

import pytest
from zengin_code import Bank

from kokuho.payments.banks import (
    YUCHO_BANK_CODE,
    BankBranch,
    BankError,
    YuchoAccount,
    bank_branch_lookup,
    yucho_convert,
)
from kokuho.payments.charset import zengin_is_valid

# --- bank_branch_lookup ----------------------------------------------------------------------


def test_it_finds_a_known_bank_and_branch() -> None:
    assert bank_branch_lookup("0001", "001") == BankBranch(
        bank_code="0001",
        bank_name="みずほ",
        bank_kana="ﾐｽﾞﾎ",
        branch_code="001",
        branch_name="東京営業部",
        branch_kana="ﾄｳｷﾖｳ",
    )


def test_it_accepts_full_width_digits_and_spaces() -> None:
    assert bank_branch_lookup(" ０００１ ", "００１").bank_code == "0001"


def test_it_writes_the_dot_of_a_foreign_bank_name_as_a_space() -> None:
    # zengin-code spells クレディ・スイス as クレデイ．スイス; the bank field has no '.'.
    branch_code = next(iter(Bank.all["0460"].branches))
    assert bank_branch_lookup("0460", branch_code).bank_kana == "ｸﾚﾃﾞｲ ｽｲｽ"


def test_it_finds_a_yucho_branch() -> None:
    found = bank_branch_lookup(YUCHO_BANK_CODE, "018")
    assert found.bank_kana == "ﾕｳﾁﾖ"
    assert found.branch_name == "〇一八"


def test_it_refuses_an_unknown_bank() -> None:
    assert "9999" not in Bank.all
    with pytest.raises(BankError) as caught:
        bank_branch_lookup("9999", "001")
    assert caught.value.code == "unknown_bank"
    assert "9999" in caught.value.message


def test_it_refuses_an_unknown_branch() -> None:
    assert "999" not in Bank.all["0001"].branches
    with pytest.raises(BankError) as caught:
        bank_branch_lookup("0001", "999")
    assert caught.value.code == "unknown_branch"
    assert "999" in caught.value.message


@pytest.mark.parametrize(
    ("bank_code", "branch_code"),
    [("001", "001"), ("00001", "001"), ("0001", "01"), ("0001", "0001"), ("000A", "001"), ("", "")],
)
def test_it_refuses_a_badly_formed_code(bank_code: str, branch_code: str) -> None:
    with pytest.raises(BankError) as caught:
        bank_branch_lookup(bank_code, branch_code)
    assert caught.value.code == "format"


def test_every_bank_and_branch_kana_is_valid_for_the_bank_field() -> None:
    for bank in (Bank.all["0001"], Bank.all["0460"], Bank.all[YUCHO_BANK_CODE]):
        for branch_code in bank.branches:
            found = bank_branch_lookup(bank.code, branch_code)
            assert zengin_is_valid(found.bank_kana, kind="bank")
            assert zengin_is_valid(found.branch_kana, kind="bank")


# --- yucho_convert ---------------------------------------------------------------------------


def test_it_converts_an_ordinary_yucho_account() -> None:
    # 記号 1xxxx: 店番 = 2nd–3rd digits + 8, 番号 without its last 1, 普通.
    assert "018" in Bank.all[YUCHO_BANK_CODE].branches
    assert yucho_convert("10180", "12345671") == YuchoAccount(
        branch_code="018", account_type=1, account_number="1234567"
    )


def test_it_zero_fills_a_short_ordinary_number() -> None:
    assert yucho_convert("10180", "456781").account_number == "0045678"


def test_it_converts_a_furikae_account() -> None:
    # 記号 0xxxx: 店番 = 2nd–3rd digits + 9, 番号 zero-filled to 7, 当座.
    assert "129" in Bank.all[YUCHO_BANK_CODE].branches
    assert yucho_convert("01280", "123456") == YuchoAccount(
        branch_code="129", account_type=2, account_number="0123456"
    )


def test_it_accepts_full_width_digits_spaces_and_hyphens() -> None:
    assert yucho_convert("１０１８０", "1234-5671") == yucho_convert("10180", "12345671")
    assert yucho_convert("0 1280", "１２３ ４５６") == yucho_convert("01280", "123456")


def test_it_refuses_an_ordinary_number_not_ending_in_1() -> None:
    with pytest.raises(BankError) as caught:
        yucho_convert("10180", "12345678")
    assert caught.value.code == "yucho_number"
    assert "末尾" in caught.value.message


@pytest.mark.parametrize(
    ("symbol", "number"),
    [
        ("1018", "12345671"),  # 記号 too short
        ("101800", "12345671"),  # 記号 too long
        ("20180", "12345671"),  # 記号 neither 1 nor 0
        ("10180", "123456781"),  # 番号 longer than 8
        ("01280", "12345678"),  # 振替 番号 longer than 7
        ("10180", "1"),  # nothing left after dropping the 1
        ("01280", "0000"),  # all zeros
        ("10180", "1234567A"),
        ("10180", ""),
    ],
)
def test_it_refuses_a_bad_yucho_number(symbol: str, number: str) -> None:
    with pytest.raises(BankError) as caught:
        yucho_convert(symbol, number)
    assert caught.value.code == "yucho_number"


def test_it_refuses_a_yucho_symbol_leading_to_no_branch() -> None:
    # 記号 12840 gives 店番 288, which ゆうちょ銀行 does not have.
    assert "288" not in Bank.all[YUCHO_BANK_CODE].branches
    with pytest.raises(BankError) as caught:
        yucho_convert("12840", "12345671")
    assert caught.value.code == "unknown_branch"
    assert "288" in caught.value.message
