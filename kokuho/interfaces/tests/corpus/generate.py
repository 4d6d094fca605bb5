"""The corpus generator: each malformed file is a valid base file of its format with one named
mutation applied. Deterministic: the only randomness (the binary file) comes from a
`random.Random` seeded with the case id, and the base files are built from the base data
the test sets up (`Base`), so the same case gives the same bytes on every run.

Two shapes of file:
- `CsvFormat`: a header line and data lines, read by `interfaces.layout` (the four
  importers and the other readers built on it);
- `RecordFormat`: the 国保情報集約システム / 中間サーバー working layouts — CP932, CRLF, a control
  record, data records and an end record with the count, no header and no quoting.

A My-Number-like value is never written in this repository: `my_number()` makes one at
test time with the project's own check-digit function.
"""

import csv
import io
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kokuho.core.mynumber import my_number_check_digit

Rows = list[dict[str, str]]
TEN_MB = 10 * 1024 * 1024


def my_number(seed: str) -> str:
    """A 12-digit value with a valid check digit, made from the seed (never a literal)."""
    rng = random.Random(f"my-number:{seed}")
    first = "".join(str(rng.randrange(10)) for _ in range(11))
    return first + str(my_number_check_digit(first))


@dataclass(frozen=True)
class CsvFormat:
    """A header-and-lines format: its columns and which of them each mutation touches."""

    name: str
    file_name: str
    header: tuple[str, ...]
    rows: Callable[[Any], Rows]  # the valid base rows, from the base data
    date: str  # a date column
    digits: str  # a digits-only column
    amount: str | None = None  # an amount (integer ≥ 0) column
    kana: str | None = None  # a kana column (half-width accepted)
    free: str | None = None  # a free-text column (screened for My Numbers)
    free_max: int = 60
    required: str = ""  # a column required on every row
    unknown: Callable[[dict[str, str]], dict[str, str]] | None = None  # a row nobody matches
    changed: Callable[[dict[str, str]], dict[str, str]] | None = None  # same id, other content
    wareki: str = "R8.4.1"  # a valid 和暦 spelling for `date`


@dataclass(frozen=True)
class RecordFormat:
    """A control/data/end record format (CP932, CRLF, comma-separated, no quoting)."""

    name: str
    file_name: str
    control: Callable[[Any], str]
    data: Callable[[Any], list[str]]
    date_item: int | None  # index of a D (YYYYMMDD) item in a data record, if any
    digit_item: int  # index of an N item in a data record
    text_item: int | None = None  # index of a K (free text) item, if any
    text_max: int = 200
    item_row: int = 0  # the data record the item mutations change


def csv_bytes(header: list[str] | tuple[str, ...], rows: Rows, *, newline: str = "\r\n") -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(header), lineterminator=newline)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _with(rows: Rows, index: int, **values: str) -> Rows:
    rows = [dict(r) for r in rows]
    rows[index] |= values
    return rows


# --- mutations of a CSV format ------------------------------------------------------------
# Each takes (format, base rows, rng) and returns the file's bytes; rows are UTF-8 unless the
# mutation is about the encoding. Line 1 is the header, the base rows are lines 2, 3, …


def _text(fmt: CsvFormat, rows: Rows) -> str:
    return csv_bytes(fmt.header, rows)


def _lines(fmt: CsvFormat, rows: Rows) -> list[str]:
    return _text(fmt, rows).split("\r\n")[:-1]


def _cells(fmt: CsvFormat, rows: Rows) -> tuple[list[str], list[list[str]]]:
    return list(fmt.header), [[r.get(h, "") for h in fmt.header] for r in rows]


def _join(header: list[str], cells: list[list[str]], newline: str = "\r\n") -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(cells)
    return out.getvalue()


def _field(fmt: CsvFormat, rows: Rows, column: str, value: str, index: int = 1) -> bytes:
    return _text(fmt, _with(rows, index, **{column: value})).encode()


CSV_MUTATIONS: dict[str, Callable[[CsvFormat, Rows, random.Random], bytes]] = {
    # the base as it is: the positive control of every format
    "clean": lambda f, r, g: _text(f, r).encode(),
    # whole-file problems
    "empty": lambda f, r, g: b"",
    "blank_lines": lambda f, r, g: b"\r\n \r\n,,,\r\n",
    "header_only": lambda f, r, g: _text(f, []).encode(),
    "truncated": lambda f, r, g: _text(f, r).encode()[:-7],
    "truncated_header": lambda f, r, g: _text(f, r).split("\r\n")[0].encode()[:-3],
    "utf16_le": lambda f, r, g: _text(f, r).encode("utf-16-le"),
    "utf16_bom": lambda f, r, g: _text(f, r).encode("utf-16"),
    "cp932": lambda f, r, g: _text(f, r).encode("cp932"),
    "bom": lambda f, r, g: _text(f, r).encode("utf-8-sig"),
    "bom_twice": lambda f, r, g: b"\xef\xbb\xbf" + _text(f, r).encode("utf-8-sig"),
    "bom_then_cp932": lambda f, r, g: b"\xef\xbb\xbf" + _text(f, r).encode("cp932"),
    # header and first row in UTF-8, the other rows in CP932 (two files pasted together)
    "mixed_encoding": lambda f, r, g: (
        "\r\n".join(_lines(f, r)[:2]).encode()
        + b"\r\n"
        + "".join(line + "\r\n" for line in _lines(f, r)[2:]).encode("cp932")
    ),
    "euc_jp": lambda f, r, g: _text(f, r).encode("euc_jp"),
    "nul": lambda f, r, g: _field(f, r, f.required, "\x00" + r[1][f.required]),
    "escape_char": lambda f, r, g: _field(f, r, f.free or f.digits, "試験\x1b[31m"),
    "binary": lambda f, r, g: bytes(g.randrange(256) for _ in range(4096)),
    "huge_line": lambda f, r, g: (
        ",".join(f.header) + "\r\n" + "あ" * (TEN_MB // 3) + "\r\n"
    ).encode(),
    "crlf_lf_mixed": lambda f, r, g: "".join(
        line + ("\r\n" if i % 2 else "\n") for i, line in enumerate(_lines(f, r))
    ).encode(),
    "cr_only": lambda f, r, g: "".join(line + "\r" for line in _lines(f, r)).encode(),
    "trailing_spaces": lambda f, r, g: _join(
        _cells(f, r)[0], [[f"  {c} " for c in row] for row in _cells(f, r)[1]]
    ).encode(),
    # header problems
    "no_header": lambda f, r, g: "".join(line + "\r\n" for line in _lines(f, r)[1:]).encode(),
    "missing_column": lambda f, r, g: csv_bytes(
        [h for h in f.header if h != f.required],
        [{k: v for k, v in x.items() if k != f.required} for x in r],
    ).encode(),
    "duplicate_column": lambda f, r, g: _join(
        [*f.header, f.required],
        [[*row, row[f.header.index(f.required)]] for row in _cells(f, r)[1]],
    ).encode(),
    "extra_column": lambda f, r, g: _join(
        [*f.header, "memo"], [[*row, "備考"] for row in _cells(f, r)[1]]
    ).encode(),
    "reordered_columns": lambda f, r, g: _join(
        list(reversed(f.header)), [list(reversed(row)) for row in _cells(f, r)[1]]
    ).encode(),
    "header_fullwidth": lambda f, r, g: _join(
        [h.upper().translate(_FULL_WIDTH) for h in f.header], _cells(f, r)[1]
    ).encode(),
    "trailing_delimiter": lambda f, r, g: "".join(line + ",\r\n" for line in _lines(f, r)).encode(),
    # row shape and quoting
    "short_row": lambda f, r, g: _join(
        _cells(f, r)[0], [row if i != 1 else row[:-1] for i, row in enumerate(_cells(f, r)[1])]
    ).encode(),
    "long_row": lambda f, r, g: _join(
        _cells(f, r)[0], [row if i != 1 else [*row, "x"] for i, row in enumerate(_cells(f, r)[1])]
    ).encode(),
    "unclosed_quote": lambda f, r, g: (
        "\r\n".join(_lines(f, r)[:2]) + '\r\n"' + "\r\n".join(_lines(f, r)[2:]) + "\r\n"
    ).encode(),
    "quote_after_quoted": lambda f, r, g: (
        "\r\n".join(_lines(f, r)[:2]) + '\r\n"x"y,' + "\r\n".join(_lines(f, r)[2:]) + "\r\n"
    ).encode(),
    # fields
    "impossible_date": lambda f, r, g: _field(f, r, f.date, "2026-02-30"),
    "impossible_era": lambda f, r, g: _field(f, r, f.date, "平成32年1月1日"),
    "era_zero": lambda f, r, g: _field(f, r, f.date, "R0.5.1"),
    "unknown_era": lambda f, r, g: _field(f, r, f.date, "X8.4.1"),
    "wareki_date": lambda f, r, g: _field(f, r, f.date, f.wareki),
    "date_garbage": lambda f, r, g: _field(f, r, f.date, "99999999"),
    "fullwidth_digits": lambda f, r, g: _field(
        f, r, f.digits, r[1][f.digits].translate(_FULL_WIDTH)
    ),
    "halfwidth_kana_in_digits": lambda f, r, g: _field(f, r, f.digits, "ｱｲｳ"),
    "halfwidth_kana": lambda f, r, g: _field(f, r, f.kana or "", "ﾔﾏﾀﾞ ﾀﾛｳ"),
    "negative_amount": lambda f, r, g: _field(f, r, f.amount or "", "-1"),
    "huge_amount": lambda f, r, g: _field(f, r, f.amount or "", "9" * 30),
    "decimal_amount": lambda f, r, g: _field(f, r, f.amount or "", "1000.5"),
    "fullwidth_amount": lambda f, r, g: _field(
        f, r, f.amount or "", r[1][f.amount or ""].translate(_FULL_WIDTH)
    ),
    "required_blank": lambda f, r, g: _field(f, r, f.required, ""),
    "overlong_text": lambda f, r, g: _field(f, r, f.free or "", "長" * (f.free_max + 1)),
    "my_number_in_free_field": lambda f, r, g: _field(
        f, r, f.free or "", f"番号{my_number(f.name)}"
    ),
    "duplicate_row": lambda f, r, g: _text(f, [*r, r[1]]).encode(),
    "duplicate_id_changed": lambda f, r, g: _text(
        f, [*r, f.changed(r[1]) if f.changed else r[1]]
    ).encode(),
    "unknown_person": lambda f, r, g: _text(
        f, _with(r, 1, **(f.unknown(r[1]) if f.unknown else {}))
    ).encode(),
    # the same file twice: the runner imports it twice and judges the second run
    "twice": lambda f, r, g: _text(f, r).encode(),
}

_FULL_WIDTH = str.maketrans(
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_-",
    "０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ＿－",
)


# --- mutations of a record format ---------------------------------------------------------


def _records(fmt: RecordFormat, base: Any) -> list[str]:
    data = fmt.data(base)
    return [fmt.control(base), *data, f"9,{len(data)}"]


def _cp932(lines: list[str], end: str = "\r\n") -> bytes:
    return "".join(line + end for line in lines).encode("cp932")


def _item_set(line: str, index: int, value: str) -> str:
    parts = line.split(",")
    parts[index] = value
    return ",".join(parts)


def _data_item(fmt: RecordFormat, base: Any, index: int | None, value: str) -> bytes:
    assert index is not None, f"{fmt.name} has no such item"
    lines = _records(fmt, base)
    row = 1 + fmt.item_row
    lines[row] = _item_set(lines[row], index, value)
    return _cp932(lines)


RECORD_MUTATIONS: dict[str, Callable[[RecordFormat, Any, random.Random], bytes]] = {
    "clean": lambda f, b, g: _cp932(_records(f, b)),
    "empty": lambda f, b, g: b"",
    "utf8": lambda f, b, g: "".join(line + "\r\n" for line in _records(f, b)).encode(),
    "utf16_le": lambda f, b, g: "".join(line + "\r\n" for line in _records(f, b)).encode(
        "utf-16-le"
    ),
    "binary": lambda f, b, g: bytes(g.randrange(256) for _ in range(4096)),
    "truncated": lambda f, b, g: _cp932(_records(f, b))[:-1],
    "cut_mid_record": lambda f, b, g: _cp932(_records(f, b)[:2])[:-6],
    "lf_only": lambda f, b, g: _cp932(_records(f, b), "\n"),
    "crlf_lf_mixed": lambda f, b, g: _cp932(_records(f, b)[:2], "\n") + _cp932(_records(f, b)[2:]),
    "no_end_record": lambda f, b, g: _cp932(_records(f, b)[:-1]),
    "count_mismatch": lambda f, b, g: _cp932([*_records(f, b)[:-1], "9,7"]),
    "unknown_layout": lambda f, b, g: _cp932(
        [_item_set(_records(f, b)[0], 2, "Z9.9"), *_records(f, b)[1:]]
    ),
    "other_insurer": lambda f, b, g: _cp932(
        [_item_set(_records(f, b)[0], 3, "130005"), *_records(f, b)[1:]]
    ),
    "nul": lambda f, b, g: _cp932(_records(f, b)).replace(b"\r\n2,", b"\r\n2\x00,", 1),
    "huge_line": lambda f, b, g: _data_item(f, b, f.text_item or 1, "あ" * (TEN_MB // 2)),
    "overlong_item": lambda f, b, g: _data_item(f, b, f.text_item or 1, "長" * (f.text_max + 1)),
    "wrong_item_count": lambda f, b, g: _cp932(
        [*_records(f, b)[:1], _records(f, b)[1] + ",x", *_records(f, b)[2:]]
    ),
    "impossible_date": lambda f, b, g: _data_item(f, b, f.date_item, "20260230"),
    "fullwidth_digits": lambda f, b, g: _data_item(
        f,
        b,
        f.digit_item,
        _records(f, b)[1 + f.item_row].split(",")[f.digit_item].translate(_FULL_WIDTH),
    ),
    "my_number_in_text": lambda f, b, g: _data_item(
        f, b, f.text_item or 1, f"確認{my_number(f.name)}"
    ),
    # a code outside the item's table (for a format whose `digit_item` is a code item)
    "unknown_code": lambda f, b, g: _data_item(f, b, f.digit_item, "7"),
    "twice": lambda f, b, g: _cp932(_records(f, b)),
}


def case_bytes(fmt: CsvFormat | RecordFormat, mutation: str, base: Any, case_id: str) -> bytes:
    """The file of one case: the format's base file with the mutation applied."""
    rng = random.Random(case_id)
    if isinstance(fmt, CsvFormat):
        return CSV_MUTATIONS[mutation](fmt, fmt.rows(base), rng)
    return RECORD_MUTATIONS[mutation](fmt, base, rng)
