"""An independent reader of 全銀 総合振込 files, written from payments.md §6 alone.

It shares no code with the writer (`kokuho.payments.zengin_file`): positions are the
spec's 1-based byte columns, character classes the spec's lists. A test that writes a file
and reads it back here checks the writer against the spec, not against itself."""

from dataclasses import dataclass, field

DIGITS = set("0123456789")
KANA = {chr(c) for c in range(0xFF71, 0xFF9E)}  # ｱ..ﾝ: no ｦ (U+FF66), no small kana
MARKS = {"\uff9e", "\uff9f"}  # ﾞ ﾟ
UPPER = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
NAME_CHARS = KANA | MARKS | UPPER | DIGITS | set(" ()-.")
BANK_CHARS = KANA | MARKS | UPPER | DIGITS | set(" -")


class ZenginFormatError(AssertionError):
    pass


def col(record: str, first: int, last: int) -> str:
    """Columns first..last, 1-based and inclusive, as the spec numbers them."""
    return record[first - 1 : last]


def _digits(record: str, first: int, last: int, what: str, line: int) -> int:
    text = col(record, first, last)
    if not set(text) <= DIGITS:
        raise ZenginFormatError(f"line {line} {what}: not digits: {text!r}")
    return int(text)


def _chars(record: str, first: int, last: int, allowed: set[str], what: str, line: int) -> str:
    text = col(record, first, last)
    if not set(text) <= allowed:
        raise ZenginFormatError(f"line {line} {what}: bad characters in {text!r}")
    if text.startswith(" ") and text.strip():
        raise ZenginFormatError(f"line {line} {what}: not left-justified: {text!r}")
    return text.rstrip(" ")


@dataclass
class DataRecord:
    bank: str
    bank_name: str
    branch: str
    branch_name: str
    clearing_house: str
    account_type: int
    account_number: str
    name: str
    amount: int
    new_code: int
    customer_code: str
    transfer_kind: str
    identifier: str


@dataclass
class ZenginFile:
    requester_code: str
    requester_name: str
    date_mmdd: str
    bank: str
    branch: str
    account_type: int
    account_number: str
    data: list[DataRecord] = field(default_factory=list)
    trailer_count: int = 0
    trailer_total: int = 0


def split_records(raw: bytes, *, line_breaks: bool, eof: bool) -> list[bytes]:
    if eof:
        if not raw.endswith(b"\x1a"):
            raise ZenginFormatError("no EOF byte")
        raw = raw[:-1]
    elif raw.endswith(b"\x1a"):
        raise ZenginFormatError("unexpected EOF byte")
    if line_breaks:
        if not raw.endswith(b"\r\n"):
            raise ZenginFormatError("the last record is not followed by CRLF")
        records = raw[:-2].split(b"\r\n")
    else:
        if b"\r" in raw or b"\n" in raw or len(raw) % 120:
            raise ZenginFormatError("not a run of 120-byte records")
        records = [raw[i : i + 120] for i in range(0, len(raw), 120)]
    for number, record in enumerate(records, start=1):
        if len(record) != 120:
            raise ZenginFormatError(f"line {number}: {len(record)} bytes, not 120")
    return records


def read(raw: bytes, *, line_breaks: bool = True, eof: bool = False) -> ZenginFile:
    records = split_records(raw, line_breaks=line_breaks, eof=eof)
    texts = []
    for number, record in enumerate(records, start=1):
        text = record.decode("cp932")
        if len(text) != 120:  # a double-byte character
            raise ZenginFormatError(f"line {number}: not single-byte")
        texts.append(text)
    kinds = "".join(t[0] for t in texts)
    if not (kinds.startswith("1") and kinds.endswith("89") and set(kinds[1:-2]) <= {"2"}):
        raise ZenginFormatError(f"records out of order: {kinds}")
    head = texts[0]
    if col(head, 2, 3) != "21" or col(head, 4, 4) != "0":
        raise ZenginFormatError("header: not 総合振込 in JIS")
    result = ZenginFile(
        requester_code=str(_digits(head, 5, 14, "依頼人コード", 1)).zfill(10),
        requester_name=_chars(head, 15, 54, NAME_CHARS, "依頼人名", 1),
        date_mmdd=col(head, 55, 58),
        bank=col(head, 59, 62),
        branch=col(head, 78, 80),
        account_type=_digits(head, 96, 96, "預金種目", 1),
        account_number=col(head, 97, 103),
    )
    _chars(head, 63, 77, BANK_CHARS, "仕向銀行名", 1)
    _chars(head, 81, 95, BANK_CHARS, "仕向支店名", 1)
    if col(head, 104, 120).strip():
        raise ZenginFormatError("header dummy not blank")
    month, day = int(result.date_mmdd[:2]), int(result.date_mmdd[2:])
    if not (1 <= month <= 12 and 1 <= day <= 31):
        raise ZenginFormatError(f"header date {result.date_mmdd}")
    for number, text in enumerate(texts[1:-2], start=2):
        identifier = col(text, 113, 113)
        if identifier == "Y":
            customer = _chars(text, 92, 111, NAME_CHARS, "EDI情報", number)
        else:
            _digits(text, 92, 111, "顧客コード", number)
            customer = col(text, 92, 101)
        record = DataRecord(
            bank=str(_digits(text, 2, 5, "被仕向銀行番号", number)).zfill(4),
            bank_name=_chars(text, 6, 20, BANK_CHARS, "被仕向銀行名", number),
            branch=col(text, 21, 23),
            branch_name=_chars(text, 24, 38, BANK_CHARS, "被仕向支店名", number),
            clearing_house=col(text, 39, 42),
            account_type=_digits(text, 43, 43, "預金種目", number),
            account_number=col(text, 44, 50),
            name=_chars(text, 51, 80, NAME_CHARS, "受取人名", number),
            amount=_digits(text, 81, 90, "振込金額", number),
            new_code=_digits(text, 91, 91, "新規コード", number),
            customer_code=customer,
            transfer_kind=col(text, 112, 112),
            identifier=identifier,
        )
        _digits(text, 21, 23, "被仕向支店番号", number)
        _digits(text, 44, 50, "口座番号", number)
        if record.account_type not in (1, 2, 4, 9) or record.new_code not in (0, 1, 2):
            raise ZenginFormatError(f"line {number}: 預金種目 or 新規コード out of range")
        if record.clearing_house not in ("0000", "    "):
            raise ZenginFormatError(f"line {number}: 手形交換所番号 {record.clearing_house!r}")
        if record.transfer_kind not in ("7", "8", " ") or identifier not in ("Y", " "):
            raise ZenginFormatError(f"line {number}: 振込指定区分 or 識別表示")
        if not record.name:
            raise ZenginFormatError(f"line {number}: no 受取人名")
        if col(text, 114, 120).strip():
            raise ZenginFormatError(f"line {number}: dummy not blank")
        result.data.append(record)
    trailer = texts[-2]
    result.trailer_count = _digits(trailer, 2, 7, "合計件数", len(texts) - 1)
    result.trailer_total = _digits(trailer, 8, 19, "合計金額", len(texts) - 1)
    if col(trailer, 20, 120).strip() or col(texts[-1], 2, 120).strip():
        raise ZenginFormatError("trailer or end dummy not blank")
    if result.trailer_count != len(result.data):
        raise ZenginFormatError("trailer count differs from the data records")
    if result.trailer_total != sum(r.amount for r in result.data):
        raise ZenginFormatError("trailer total differs from the data records")
    return result
