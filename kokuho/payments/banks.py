"""金融機関 (financial institutions): bank/branch lookup and the ゆうちょ銀行 conversion.

Bank and branch names come from the ``zengin-code`` package (the published 全銀協
金融機関コード data), so a 振込先口座 (payee account) is checked against real codes before it
reaches a transfer file. ゆうちょ銀行 accounts are known to their holders by 記号・番号
(symbol and number), which must be converted to the 店番・種目・口座番号 (branch, account
type, account number) that 全銀 transfers use.

Pure Python (no Django).
"""

import re
import unicodedata
from dataclasses import dataclass

from zengin_code import Bank

from kokuho.payments.charset import zengin_text

__all__ = [
    "YUCHO_BANK_CODE",
    "BankBranch",
    "BankError",
    "YuchoAccount",
    "bank_branch_lookup",
    "yucho_convert",
]

YUCHO_BANK_CODE = "9900"

ACCOUNT_TYPE_ORDINARY = 1  # 普通
ACCOUNT_TYPE_CURRENT = 2  # 当座

# Separators people type inside codes and numbers (after NFKC, so full-width forms are
# already ASCII): spaces and hyphen look-alikes, including ー for a hyphen typed in kana mode.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212ー]")


class BankError(ValueError):
    """A bank code, branch code or ゆうちょ 記号・番号 that cannot be used for a transfer.

    ``code`` is one of ``"format"``, ``"unknown_bank"``, ``"unknown_branch"``,
    ``"yucho_number"``; the message is Japanese.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class BankBranch:
    """A 金融機関 and 支店 (bank and branch) as the transfer file names them.

    ``bank_kana`` and ``branch_kana`` are already 全銀文字 (half-width, ``kind="bank"``).
    """

    bank_code: str
    bank_name: str
    bank_kana: str
    branch_code: str
    branch_name: str
    branch_kana: str


@dataclass(frozen=True)
class YuchoAccount:
    """A ゆうちょ銀行 account in 全銀 terms: 店番, 種目 (1 普通, 2 当座), 7-digit 口座番号."""

    branch_code: str
    account_type: int
    account_number: str


def digits_typed(value: str) -> str:
    """NFKC (full-width digits → ASCII) without spaces and hyphens."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", value))


def _bank_kana(kana: str) -> str:
    # zengin-code writes ・ of foreign bank names as '．', which the bank name field does not
    # allow; a space keeps the words apart (クレデイ．スイス → ｸﾚﾃﾞｲ ｽｲｽ).
    return zengin_text(unicodedata.normalize("NFKC", kana).replace(".", " "), kind="bank")


def bank_branch_lookup(bank_code: str, branch_code: str) -> BankBranch:
    """Look up a 金融機関コード (4 digits) and 支店コード (3 digits) in zengin-code.

    Full-width digits and surrounding spaces are accepted. Raises :class:`BankError`
    ``"format"``, ``"unknown_bank"`` or ``"unknown_branch"``.
    """
    bank_code, branch_code = digits_typed(bank_code), digits_typed(branch_code)
    if not re.fullmatch(r"[0-9]{4}", bank_code):
        raise BankError("format", f"金融機関コードは4桁の数字です: '{bank_code}'")
    if not re.fullmatch(r"[0-9]{3}", branch_code):
        raise BankError("format", f"支店コードは3桁の数字です: '{branch_code}'")
    bank = Bank.all.get(bank_code)
    if bank is None:
        raise BankError("unknown_bank", f"金融機関コード {bank_code} の金融機関はありません")
    branch = bank.branches.get(branch_code)
    if branch is None:
        raise BankError(
            "unknown_branch", f"{bank.name}（{bank_code}）に支店コード {branch_code} はありません"
        )
    return BankBranch(
        bank_code=bank_code,
        bank_name=bank.name,
        bank_kana=_bank_kana(bank.kana),
        branch_code=branch_code,
        branch_name=branch.name,
        branch_kana=_bank_kana(branch.kana),
    )


def yucho_convert(symbol: str, number: str) -> YuchoAccount:
    """Convert a ゆうちょ銀行 記号・番号 into 店番・種目・口座番号 for a 全銀 transfer.

    * 記号 ``1xxxx`` (総合口座, ordinary savings): 店番 = 記号's 2nd–3rd digits + ``8``,
      種目 普通; the 番号 (up to 8 digits, always ending in ``1``) loses its last digit and is
      zero-filled to 7 (記号 10180 番号 12345671 → 018, 普通, 1234567).
    * 記号 ``0xxxx`` (振替口座, transfer account): 店番 = 2nd–3rd digits + ``9``, 種目 当座;
      the 番号 (up to 7 digits) is zero-filled to 7 (記号 01280 番号 123456 → 129, 当座,
      0123456).

    Full-width digits, spaces and hyphens are accepted. Raises :class:`BankError`
    ``"yucho_number"`` for a 記号・番号 that cannot be converted and ``"unknown_branch"`` when
    the resulting 店番 is not a ゆうちょ branch in zengin-code.
    """
    symbol, number = digits_typed(symbol), digits_typed(number)
    if not re.fullmatch(r"[0-9]{5}", symbol):
        raise BankError("yucho_number", f"ゆうちょの記号は5桁の数字です: '{symbol}'")
    if not re.fullmatch(r"[0-9]+", number):
        raise BankError("yucho_number", f"ゆうちょの番号は数字です: '{number}'")
    if symbol[0] == "1":
        if len(number) > 8:
            raise BankError("yucho_number", f"記号1で始まる口座の番号は8桁までです: '{number}'")
        if not number.endswith("1"):
            raise BankError("yucho_number", f"記号1で始まる口座の番号は末尾が1です: '{number}'")
        branch_code = symbol[1:3] + "8"
        account_type = ACCOUNT_TYPE_ORDINARY
        account = number[:-1]
    elif symbol[0] == "0":
        if len(number) > 7:
            raise BankError("yucho_number", f"記号0で始まる口座の番号は7桁までです: '{number}'")
        branch_code = symbol[1:3] + "9"
        account_type = ACCOUNT_TYPE_CURRENT
        account = number
    else:
        raise BankError("yucho_number", f"ゆうちょの記号は1か0で始まります: '{symbol}'")
    # An all-zero number (also what '1' alone leaves) is no account at all.
    if not account.strip("0"):
        raise BankError("yucho_number", f"ゆうちょの番号が口座番号になりません: '{number}'")
    if branch_code not in Bank.all[YUCHO_BANK_CODE].branches:
        raise BankError(
            "unknown_branch",
            f"記号 {symbol} からの店番 {branch_code} はゆうちょ銀行の支店にありません",
        )
    return YuchoAccount(
        branch_code=branch_code, account_type=account_type, account_number=account.zfill(7)
    )
