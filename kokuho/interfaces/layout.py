"""A small framework for the CSV layouts of interfaces.md (ファイルレイアウト).

A `Layout` is a list of `Column`s, each with a parser that turns the cell text into a value
or raises `FieldInvalid` with a Japanese reason. Whether a column is required may depend on
values already parsed (e.g. 氏名 only on A codes). `layout_read` decodes the file (UTF-8 with
or without BOM, else CP932), checks the header and yields one `ReadRow` per data line: the
validated record, or the list of `FieldError`s (line, field, value, reason). A file that
cannot be read at all raises `ImportRejected` naming the file — nothing of it is applied.

Parsers are pure functions of the text: no database access here, so validation can run
over a whole file (and in the benchmark's floor) without touching the database.
"""

import csv
import datetime as dt
import hashlib
import io
import json
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kokuho.core.kana import KanaError, normalize_kana_name
from kokuho.core.mynumber import mask_my_numbers_in
from kokuho.core.wareki import WarekiError, parse_date
from kokuho.interfaces.models import ImportErrorCode

UTF8 = "UTF-8"
UTF8_BOM = "UTF-8 (BOM)"
CP932 = "CP932"
_BOM = b"\xef\xbb\xbf"
# What Python's cp932 codec makes of single bytes no Shift_JIS file contains (0x80, 0xA0,
# 0xFD–0xFF): binary data or UTF-16 would otherwise "decode" as CP932 without an error.
_NOT_CP932 = frozenset("\x80\uf8f0\uf8f1\uf8f2\uf8f3")
# Control characters no CSV text holds (tab, CR and LF are the file's own).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class ImportRejected(Exception):
    """The file cannot be read at all (取込拒否): wrong encoding, no header, missing columns."""

    def __init__(self, file_name: str, reason: str) -> None:
        super().__init__(f"{file_name}: {reason}")
        self.file_name = file_name
        self.reason = reason


class FieldInvalid(ValueError):
    """Raised by a column parser: `reason` is shown to staff as is."""

    def __init__(self, reason: str, code: ImportErrorCode = ImportErrorCode.INVALID_VALUE) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


@dataclass(frozen=True)
class FieldError:
    """One error of one row: where (line, field), what (value) and why (reason, code)."""

    line: int
    field: str
    value: str
    reason: str
    code: ImportErrorCode

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "field": self.field,
            "value": self.value,
            "reason": self.reason,
            "code": self.code.value,
        }


Parser = Callable[[str], Any]
Requirement = bool | Callable[[Mapping[str, Any]], bool]
# A check over the parsed record: yields (field, reason, code) for each contradiction.
RecordCheck = Callable[[Mapping[str, Any]], Iterator[tuple[str, str, ImportErrorCode]]]


@dataclass(frozen=True)
class Column:
    """One CSV column: `name` as in the header, `label` in Japanese for messages.

    `required` may be a predicate over the values parsed so far (columns are parsed in
    layout order), so a requirement can depend on an earlier code column. An empty,
    optional cell gives `default` without calling the parser.
    """

    name: str
    label: str
    parse: Parser
    required: Requirement = False
    default: Any = None
    # Screened for a My Number typed into it (個人番号と思われる値): by default the free-text
    # columns (`text`, `kana_name`); an identifier whose own format may be any 12 digits (a
    # record id numbered YYYYMM + 6) says `screen=False`, another may say True.
    screen: bool | None = None

    @property
    def screened(self) -> bool:
        return getattr(self.parse, "free_text", False) if self.screen is None else self.screen

    def is_required(self, parsed: Mapping[str, Any]) -> bool:
        return self.required(parsed) if callable(self.required) else self.required

    @property
    def may_be_absent(self) -> bool:
        """Only a column that is never required may be missing from the header."""
        return self.required is False


@dataclass(frozen=True)
class Layout:
    """A file layout: its Japanese title, columns, the record-id column and record checks."""

    title: str
    columns: tuple[Column, ...]
    id_column: str = "record_id"
    checks: tuple[RecordCheck, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def id_label(self) -> str:
        return next(c.label for c in self.columns if c.name == self.id_column)

    def validate(self, raw: Mapping[str, str], *, line: int) -> "ReadRow":
        """Parse every column of a raw row; the record, or every error found. A row with a
        My Number in a screened column is set aside first, that value masked in what is
        kept (and so in the row's hash): it is never stored as typed."""
        screened = my_numbers_screened(self.columns, raw, line=line)
        if screened is not None:
            return screened
        parsed: dict[str, Any] = {}
        failed: set[str] = set()
        errors: list[FieldError] = []
        for column in self.columns:
            text = raw.get(column.name, "")
            if text == "":
                if column.is_required(parsed):
                    errors.append(
                        FieldError(
                            line,
                            column.name,
                            "",
                            f"{column.label}（{column.name}）が入力されていません",
                            ImportErrorCode.REQUIRED,
                        )
                    )
                    failed.add(column.name)
                else:
                    parsed[column.name] = column.default
                continue
            try:
                parsed[column.name] = column.parse(text)
            except FieldInvalid as error:
                errors.append(
                    FieldError(
                        line, column.name, text, f"{column.label}: {error.reason}", error.code
                    )
                )
                failed.add(column.name)
        if not errors:
            # Record checks read several fields; with a field already wrong they would only
            # repeat the same mistake in other words.
            for check in self.checks:
                for name, reason, code in check(parsed):
                    errors.append(FieldError(line, name, raw.get(name, ""), reason, code))
        if errors:
            return ReadRow(line, dict(raw), None, errors)
        return ReadRow(line, dict(raw), parsed, [])


def my_numbers_screened(
    columns: Sequence[Column], raw: Mapping[str, str], *, line: int
) -> "ReadRow | None":
    """The row set aside with its My-Number-like values masked, or None when it has none."""
    masked = dict(raw)
    errors = []
    for column in columns:
        text = raw.get(column.name, "")
        if not (text and column.screened):
            continue
        normalized = unicodedata.normalize("NFKC", text)  # full-width digits typed by hand
        hidden = mask_my_numbers_in(normalized)
        if hidden != normalized:
            masked[column.name] = hidden
            errors.append(
                FieldError(
                    line,
                    column.name,
                    hidden,
                    f"{column.label}: 個人番号と思われる12桁の数字が含まれています。"
                    "この項目には個人番号を入力できません（伏せて保留しました）",
                    ImportErrorCode.MY_NUMBER_LIKE,
                )
            )
    return ReadRow(line, masked, None, errors) if errors else None


@dataclass(frozen=True)
class ReadRow:
    """One data line: `record` when valid, else `errors` (never both)."""

    line: int
    raw: dict[str, str]
    record: dict[str, Any] | None
    errors: list[FieldError] = field(default_factory=list)
    # `row_hash` of `raw`, when the reader computed it already (`rows_validated`'s workers).
    digest: str = ""


@dataclass(frozen=True)
class SourceFile:
    """A decoded file: its name, content hash, detected encoding, header and data lines."""

    name: str
    sha256: str
    encoding: str
    header: tuple[str, ...]
    lines: list[tuple[int, list[str]]]  # (line number, cells), blank lines left out


def row_hash(raw: Mapping[str, str], names: Sequence[str]) -> str:
    """The content of a row for the ledger: the layout's cells as text, in layout order.

    Cells are compared as read (trimmed), so the same record re-sent is recognised whatever
    the file's encoding or BOM, and any change of text under the same id is a conflict.
    """
    body = json.dumps([raw.get(n, "") for n in names], ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _decode(data: bytes, file_name: str) -> tuple[str, str]:
    if data and data.count(b"\x00") * 3 >= len(data):
        # Every other byte NUL: Excel's "Unicode text" (UTF-16), with or without its BOM.
        raise ImportRejected(
            file_name,
            "文字コードを判別できません（UTF-16 で保存されたファイルの可能性があります:"
            " UTF-8 か Shift_JIS で保存し直してください）",
        )
    if data.startswith(_BOM):
        try:
            return data[len(_BOM) :].decode("utf-8"), UTF8_BOM
        except UnicodeDecodeError as error:
            where = error.start + len(_BOM)
            raise ImportRejected(
                file_name,
                f"BOM 付き UTF-8 として読めません（{_line_of(data, where)} 行目、"
                f"{where + 1} バイト目）",
            ) from None
    try:
        return data.decode("utf-8"), UTF8
    except UnicodeDecodeError as error:
        failed = error
    if failed.end == len(data) and failed.reason == "unexpected end of data":
        # The last character is cut in the middle of its bytes: the file was cut short.
        raise ImportRejected(
            file_name,
            f"ファイルの末尾が途中で切れています（{_line_of(data, failed.start)} 行目の最後の"
            "文字が欠けています）。途中で切れたファイルの可能性があるため、取り込みません。"
            "送信元に確認してください",
        )
    non_ascii = next((i for i, byte in enumerate(data[: failed.start]) if byte >= 0x80), None)
    if non_ascii is not None and data.rfind(b"\n", 0, failed.start) > non_ascii:
        # Whole lines with Japanese before the failure read as UTF-8: one file in two
        # encodings (e.g. CP932 lines pasted under UTF-8 ones). Decoding all of it as CP932
        # would turn the UTF-8 lines into other characters without an error.
        raise ImportRejected(
            file_name,
            f"文字コードが混在しています（{_line_of(data, non_ascii)} 行目は UTF-8、"
            f"{_line_of(data, failed.start)} 行目は UTF-8 として読めません）。"
            "1 つの文字コードで保存し直してください",
        )
    try:
        text = data.decode("cp932")
    except UnicodeDecodeError as error:
        if error.end == len(data) and "incomplete" in error.reason:
            raise ImportRejected(
                file_name,
                f"ファイルの末尾が途中で切れています（{_line_of(data, error.start)} 行目の最後の"
                "文字が欠けています）。途中で切れたファイルの可能性があるため、取り込みません。"
                "送信元に確認してください",
            ) from None
        raise ImportRejected(
            file_name,
            f"文字コードを判別できません（UTF-8 でも CP932 でもありません。"
            f"{_line_of(data, error.start)} 行目、{error.start + 1} バイト目）",
        ) from None
    for index, ch in enumerate(text):
        if ch in _NOT_CP932:
            line = text.count("\n", 0, index) + 1
            raise ImportRejected(
                file_name,
                f"文字コードを判別できません（UTF-8 でも CP932 でもありません。{line} 行目）",
            )
    return text, CP932


def _position(text: str, index: int) -> str:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return f"{line} 行目 {column} 文字目"


def _refuse_control_characters(text: str, name: str) -> None:
    """A NUL or another control character: named, with where it is; the file is refused."""
    found = _CONTROL.search(text)
    if found is None:
        return
    char = found.group(0)
    label = "NUL" if char == "\x00" else f"U+{ord(char):04X}"
    raise ImportRejected(
        name, f"制御文字（{label}）が含まれています（{_position(text, found.start())}）"
    )


def _refuse_cut_short(text: str, name: str) -> None:
    """A file whose last line has no line end was cut short (a transfer stopped, a disk
    filled): what it holds is not the file that was sent, so none of it is applied."""
    if text and not text.endswith(("\n", "\r")):
        last = text.count("\n") + 1
        raise ImportRejected(
            name,
            f"ファイルの末尾が改行で終わっていません（{last} 行目で途切れています）。"
            "途中で切れたファイルの可能性があるため、取り込みません。送信元に確認してください",
        )


def _csv_error(error: csv.Error, line: int) -> str:
    """Python's csv messages, in Japanese."""
    message = str(error)
    if "field larger than field limit" in message:
        limit = csv.field_size_limit()
        return f"CSV として読めません（{line} 行目: 1 つの項目が {limit:,} 文字を超えています）"
    if "unexpected end of data" in message or "EOF" in message:
        # An open quote runs to the end of the file: everything after it is one field.
        return f'CSV として読めません（{line} 行目: 引用符（"）が閉じられていません）'
    if "new-line character seen in unquoted field" in message:
        return f"CSV として読めません（{line} 行目: 引用符の外に改行があります）"
    if "expected after" in message:
        return (
            f'CSV として読めません（{line} 行目: 引用符（"）で囲んだ項目の後に区切りがありません）'
        )
    return f"CSV として読めません（{line} 行目: 書式が正しくありません）"


def _header(cells: list[str]) -> tuple[str, ...]:
    # U+FEFF is invisible: a second BOM (a file saved twice with one) would hide a name.
    return tuple(
        unicodedata.normalize("NFKC", c).replace("\ufeff", "").strip().lower() for c in cells
    )


def source_read(path: Path, layout: Layout) -> SourceFile:
    """Read and decode the whole file and check its header; `ImportRejected` if unreadable."""
    name = path.name
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ImportRejected(name, f"ファイルを読めません（{error.strerror or error}）") from None
    digest = hashlib.sha256(data).hexdigest()
    text, encoding = _decode(data, name)
    _refuse_control_characters(text, name)
    _refuse_cut_short(text, name)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    lines: list[tuple[int, list[str]]] = []
    header: tuple[str, ...] | None = None
    header_line = 0
    try:
        previous_end = 0
        for cells in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if not cells or all(not c.strip() for c in cells):
                # Blank lines, and the empty ",,,," rows spreadsheets leave, are not records.
                continue
            if header is None:
                header = _header(cells)
                header_line = start
            else:
                lines.append((start, [c.strip() for c in cells]))
    except csv.Error as error:
        raise ImportRejected(name, _csv_error(error, reader.line_num)) from None
    if header is None:
        raise ImportRejected(name, "見出し行がありません（空のファイルです）")
    known = set(layout.names)
    if not known.intersection(header):
        raise ImportRejected(
            name,
            f"見出し行がありません（{header_line} 行目に{layout.title}の列名がありません。"
            f"1 行目は {', '.join(layout.names[:3])} … の見出しにしてください）",
        )
    duplicated = sorted({h for h in header if h and header.count(h) > 1})
    if duplicated:
        raise ImportRejected(name, f"見出しの列名が重複しています: {', '.join(duplicated)}")
    missing = [c.name for c in layout.columns if c.name not in header and not c.may_be_absent]
    if missing:
        raise ImportRejected(name, f"必須の列がありません: {', '.join(missing)}")
    return SourceFile(name, digest, encoding, header, lines)


def raw_row(source: SourceFile, cells: list[str]) -> dict[str, str]:
    """The row as a mapping header name → cell text; unknown columns are kept as read."""
    return {h: c for h, c in zip(source.header, cells, strict=False) if h}


def layout_rows(source: SourceFile, layout: Layout) -> Iterator[ReadRow]:
    """Validate every data line of a read file: one `ReadRow` per line, in file order."""
    width = len(source.header)
    for line, cells in source.lines:
        raw = raw_row(source, cells)
        if len(cells) != width:
            # A short or long row has lost its column alignment: no cell can be trusted.
            error = FieldError(
                line,
                "",
                "",
                f"列の数が見出しと合いません（見出し {width} 列、この行 {len(cells)} 列）",
                ImportErrorCode.ROW_SHAPE,
            )
            # No column can be trusted either to be free text or not: every cell is masked.
            yield ReadRow(line, {k: mask_my_numbers_in(v) for k, v in raw.items()}, None, [error])
            continue
        yield layout.validate(raw, line=line)


def layout_read(path: Path, layout: Layout) -> tuple[SourceFile, Iterator[ReadRow]]:
    """Open a file for a layout: the decoded file and the iterator of its validated rows."""
    source = source_read(path, layout)
    return source, layout_rows(source, layout)


# --- Parsers -------------------------------------------------------------------------------
# Each returns a function str → value that raises FieldInvalid with the reason in Japanese.


def nfkc(text: str) -> str:
    # Files typed by hand carry full-width digits and letters (１２３, Ａ０１).
    return unicodedata.normalize("NFKC", text).strip()


def text(max_length: int) -> Parser:
    def parse(value: str) -> str:
        if len(value) > max_length:
            raise FieldInvalid(
                f"{max_length} 文字以内で入力してください（{len(value)} 文字）",
                ImportErrorCode.TOO_LONG,
            )
        return value

    parse.free_text = True  # type: ignore[attr-defined]
    return parse


def identifier(max_length: int) -> Parser:
    """A number that is not only digits by rule (世帯番号): full-width typed by hand is
    unified, the length is checked."""

    def parse(value: str) -> str:
        return text(max_length)(nfkc(value))

    return parse


def digits(max_length: int) -> Parser:
    def parse(value: str) -> str:
        value = nfkc(value)
        if not (value.isascii() and value.isdigit()):
            raise FieldInvalid(f"数字で入力してください: '{value}'", ImportErrorCode.INVALID_VALUE)
        if len(value) > max_length:
            raise FieldInvalid(
                f"{max_length} 桁以内で入力してください（{len(value)} 桁）",
                ImportErrorCode.TOO_LONG,
            )
        return value

    return parse


def choice(values: Mapping[str, Any], *, normalize: Callable[[str], str] = nfkc) -> Parser:
    """A value from a code table; the message lists the accepted codes."""

    def parse(value: str) -> Any:
        key = normalize(value)
        if key not in values:
            raise FieldInvalid(
                f"'{value}' は使えない値です（{', '.join(values)} のいずれか）",
                ImportErrorCode.INVALID_CODE,
            )
        return values[key]

    return parse


flag = choice({"0": False, "1": True})


def date_value(value: str) -> dt.date:
    """YYYY-MM-DD, YYYYMMDD, and wareki (R8.4.1, 令和8年4月1日) as typed by hand."""
    try:
        return parse_date(value)
    except WarekiError as error:
        raise FieldInvalid(str(error), ImportErrorCode.INVALID_DATE) from None


def integer_upto(max_digits: int) -> Parser:
    """An integer ≥ 0 of at most `max_digits` digits (leading zeros do not count): a value
    the database column cannot hold is the row's mistake, not a failure of the import."""

    def parse(value: str) -> int:
        normalized = nfkc(value)
        if not (normalized.isascii() and normalized.isdigit()):
            raise FieldInvalid(
                f"0 以上の整数で入力してください: '{value}'", ImportErrorCode.INVALID_NUMBER
            )
        if len(normalized.lstrip("0")) > max_digits:
            raise FieldInvalid(
                f"{max_digits} 桁以内で入力してください（{len(normalized)} 桁）",
                ImportErrorCode.TOO_LONG,
            )
        return int(normalized)

    return parse


# Amounts in yen and counts: 12 digits (under 1 兆) fit every BIGINT column they go to.
non_negative_int = integer_upto(12)


def year(value: str) -> int:
    normalized = nfkc(value)
    if not (normalized.isascii() and normalized.isdigit() and len(normalized) == 4):
        raise FieldInvalid(
            f"西暦 4 桁で入力してください: '{value}'", ImportErrorCode.INVALID_NUMBER
        )
    return int(normalized)


def kana_name(max_length: int) -> Parser:
    """氏名カナ: half-width and hiragana accepted, stored as full-width katakana."""

    def parse(value: str) -> str:
        try:
            kana = normalize_kana_name(value)
        except KanaError as error:
            raise FieldInvalid(str(error), ImportErrorCode.INVALID_KANA) from None
        if len(kana) > max_length:
            raise FieldInvalid(
                f"{max_length} 文字以内で入力してください（{len(kana)} 文字）",
                ImportErrorCode.TOO_LONG,
            )
        return kana

    parse.free_text = True  # type: ignore[attr-defined]
    return parse
