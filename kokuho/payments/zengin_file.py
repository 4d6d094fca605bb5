"""全銀協 総合振込 (種別コード 21): the records and the file (payments.md §6).

Every record is 120 bytes of single-byte JIS X 0201 written with cp932: N fields digits,
right-justified and zero-filled; C fields left-justified and space-filled. One header,
the data records, a trailer and the end record; what varies by bank (line breaks, EOF,
手形交換所番号, 振込指定区分, bank names, 顧客コード or EDI) comes from a `BankProfile`.

A field that does not fit or holds a character the file cannot carry raises
`ZenginFieldError`: nothing is ever cut or replaced here. Names are converted to 全銀
characters when an account is kept (`kokuho.payments.charset`), not when a file is written.
"""

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from kokuho.payments.config import BankProfile

RECORD_LENGTH = 120
KIND_SOGO = "21"  # 種別コード: 総合振込
CODE_JIS = "0"  # コード区分: JIS (EBCDIC is refused)
EOF_BYTE = b"\x1a"


# The characters a field may hold (payments.md §6.3). Names were converted and checked in
# full when their account was kept (`charset`); here the file only guards its bytes, so a
# character class is enough — and cheap for 200,000 records.
_ALLOWED = {
    "payee": re.compile(r"[\uff71-\uff9f0-9A-Z ().\-]*"),
    "bank": re.compile(r"[\uff71-\uff9f0-9A-Z \-]*"),
}


class ZenginFieldError(ValueError):
    """A value that the 全銀 layout cannot carry; names the record and the field."""


@dataclass(frozen=True)
class Header:
    """ヘッダー・レコード: the 振込依頼人 and the 振込指定日."""

    requester_code: str  # 振込依頼人コード N10
    requester_name: str  # 振込依頼人名 C40
    pay_date: dt.date  # 振込指定日 (MMDD)
    bank_code: str  # 仕向銀行番号 N4
    bank_name: str  # 仕向銀行名 C15
    branch_code: str  # 仕向支店番号 N3
    branch_name: str  # 仕向支店名 C15
    account_type: int  # 預金種目 N1 (1 普通, 2 当座, 9 その他)
    account_number: str  # 口座番号 N7


@dataclass(frozen=True)
class Transfer:
    """データ・レコード: one payee's transfer."""

    bank_code: str
    bank_name: str
    branch_code: str
    branch_name: str
    account_type: int  # 1 普通, 2 当座, 4 貯蓄, 9 その他
    account_number: str
    payee_name: str  # 受取人名 C30
    amount: int  # 振込金額 N10
    new_code: int  # 新規コード: 1 first transfer, 2 account changed, 0 otherwise
    customer_code: str  # 顧客コード1 (N10), or the EDI情報 (C20) under an EDI profile


def _n(value: int | str, width: int, where: str) -> str:
    text = str(value)
    if not text.isascii() or not text.isdigit():
        raise ZenginFieldError(f"{where}: 数字ではありません: {text!r}")
    if len(text) > width:
        raise ZenginFieldError(f"{where}: {width} 桁を超えます: {text}")
    return text.rjust(width, "0")


def _c(value: str, width: int, where: str, *, kind: str = "payee") -> str:
    if not _ALLOWED[kind].fullmatch(value) or value.startswith(" "):
        raise ZenginFieldError(f"{where}: 全銀の文字ではない文字があります: {value!r}")
    if len(value) > width:
        raise ZenginFieldError(f"{where}: {width} 文字を超えます: {value!r}")
    return value.ljust(width, " ")


def header_record(header: Header) -> str:
    if header.account_type not in (1, 2, 9):
        raise ZenginFieldError(f"ヘッダー 預金種目: {header.account_type} は使えません")
    record = (
        "1"
        + KIND_SOGO
        + CODE_JIS
        + _n(header.requester_code, 10, "ヘッダー 振込依頼人コード")
        + _c(header.requester_name, 40, "ヘッダー 振込依頼人名")
        + f"{header.pay_date:%m%d}"
        + _n(header.bank_code, 4, "ヘッダー 仕向銀行番号")
        + _c(header.bank_name, 15, "ヘッダー 仕向銀行名", kind="bank")
        + _n(header.branch_code, 3, "ヘッダー 仕向支店番号")
        + _c(header.branch_name, 15, "ヘッダー 仕向支店名", kind="bank")
        + _n(header.account_type, 1, "ヘッダー 預金種目")
        + _n(header.account_number, 7, "ヘッダー 口座番号")
        + " " * 17
    )
    return record


def data_record(transfer: Transfer, profile: BankProfile, where: str = "データ") -> str:
    if transfer.account_type not in (1, 2, 4, 9):
        raise ZenginFieldError(f"{where} 預金種目: {transfer.account_type} は使えません")
    if transfer.new_code not in (0, 1, 2):
        raise ZenginFieldError(f"{where} 新規コード: {transfer.new_code} は使えません")
    names = profile.bank_names == "required"
    if profile.customer_code == "edi":
        customer = _c(transfer.customer_code, 20, f"{where} EDI情報")
        identifier = "Y"
    else:
        customer = _n(transfer.customer_code, 10, f"{where} 顧客コード1") + "0" * 10
        identifier = " "
    return (
        "2"
        + _n(transfer.bank_code, 4, f"{where} 被仕向銀行番号")
        + _c(transfer.bank_name if names else "", 15, f"{where} 被仕向銀行名", kind="bank")
        + _n(transfer.branch_code, 3, f"{where} 被仕向支店番号")
        + _c(transfer.branch_name if names else "", 15, f"{where} 被仕向支店名", kind="bank")
        + ("0000" if profile.clearing_house == "0000" else "    ")
        + _n(transfer.account_type, 1, f"{where} 預金種目")
        + _n(transfer.account_number, 7, f"{where} 口座番号")
        + _c(transfer.payee_name, 30, f"{where} 受取人名")
        + _n(transfer.amount, 10, f"{where} 振込金額")
        + str(transfer.new_code)
        + customer
        + (profile.transfer_kind if profile.transfer_kind != "blank" else " ")
        + identifier
        + " " * 7
    )


def trailer_record(count: int, total: int) -> str:
    return "8" + _n(count, 6, "トレーラ 合計件数") + _n(total, 12, "トレーラ 合計金額") + " " * 101


def end_record() -> str:
    return "9" + " " * 119


def zengin_file_bytes(header: Header, transfers: Iterable[Transfer], profile: BankProfile) -> bytes:
    """The whole file: header, data records in the given order, trailer, end."""
    records = [header_record(header)]
    total = 0
    for number, transfer in enumerate(transfers, start=1):
        records.append(data_record(transfer, profile, where=f"データ {number} 件目"))
        total += transfer.amount
    records.append(trailer_record(len(records) - 1, total))
    records.append(end_record())
    encoded = []
    for number, record in enumerate(records, start=1):
        raw = record.encode("cp932")
        if len(raw) != RECORD_LENGTH:  # a double-byte character slipped past the checks
            raise ZenginFieldError(f"{number} 行目が {len(raw)} バイトです（120 バイトのはず）")
        encoded.append(raw)
    separator = b"\r\n" if profile.line_break == "crlf" else b""
    body = separator.join(encoded) + separator
    return body + (EOF_BYTE if profile.eof else b"")
