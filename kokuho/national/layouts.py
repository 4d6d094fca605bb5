"""Layouts as data (レイアウト定義): every national file is a YAML descriptor under `layouts/`.

The real layouts of the national systems are distributed to insurers only, so each item
says how sure it is (national.md: confidence **A** public and corroborated, **B** one public
source, **C** inferred, **D** our own design) and where it comes from. A descriptor with a
C or D item is `assumed`: every writer run says so, in its output and in the ledger, and
when the city receives the real layout it is a data change here, not a code change.

A descriptor has three record kinds — `control` (first line), `data`, `end` (last line) —
each a list of items. An item: `field` (name in code), `name` (Japanese item name),
`attribute` (N digits, X single-byte text, K text in any Shift_JIS character, D date
YYYYMMDD, M month YYYYMM), either `position` (CSV, 1-based) or `length` (fixed-length
records, which then declare `record_length`), `max_length`, `codes` (a code list of
`codes/`), `fixed` (a constant such as the record type), `key` (part of the record key),
`confidence` and `source`.

`descriptor_load` validates a file whole (the app's check runs it at start): positions
contiguous from 1, fixed lengths summing to the record length, every code list existing,
confidences A–D. `line_write`/`line_read` are the codec of one record, pure Python.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import yaml

from kokuho.rules.params import ParameterError, ParameterSet, load_parameters

LAYOUT_DIR = Path(__file__).resolve().parent / "layouts"
CODE_DIR = Path(__file__).resolve().parent / "codes"
ATTRIBUTES = frozenset("NXKDM")
CONFIDENCES = frozenset("ABCD")
RECORD_KINDS = ("control", "data", "end")
FORMATS = frozenset({"csv", "fixed"})


class LayoutError(ValueError):
    """A descriptor that cannot be used (named with its file and item), or a value that its
    item does not allow (named with the item)."""


@dataclass(frozen=True)
class Item:
    field: str
    name: str
    attribute: str
    confidence: str
    source: str
    position: int | None = None
    length: int | None = None
    max_length: int | None = None
    codes: str = ""
    fixed: str = ""
    key: bool = False

    @property
    def width(self) -> int | None:
        return self.length or self.max_length


@dataclass(frozen=True)
class Descriptor:
    layout: str
    name: str
    version: str
    format: str
    source: str
    records: dict[str, tuple[Item, ...]]
    record_length: int | None = None
    line_ending: str = "\r\n"
    encoding: str = "cp932"
    path: Path = field(default=Path())

    @property
    def assumed(self) -> bool:
        """推定レイアウト: some item is inferred (C) or our own design (D)."""
        return any(i.confidence in "CD" for items in self.records.values() for i in items)

    def key_fields(self) -> tuple[str, ...]:
        return tuple(i.field for i in self.records["data"] if i.key)

    def summary(self) -> str:
        """What a writer prints about the layout on every run."""
        state = "推定レイアウト（確度C・Dの項目を含む）" if self.assumed else "確定レイアウト"
        return f"{self.name} レイアウト {self.layout} 版 {self.version}: {state}"


@cache
def code_tables() -> ParameterSet:
    """The dated code tables of `codes/` (same file shape and loader as the legal
    parameters of kokuho.rules, so every table carries its reference and source)."""
    return load_parameters(CODE_DIR)


def code_list(name: str, on: dt.date) -> dict[str, str]:
    """Code → label of a code table on a day. A table whose value has `codes` (and a `map`
    from Kokuho's own values) gives its `codes`."""
    value = code_tables().get(name).at(on)
    return dict(value.get("codes", value))


def code_map(name: str, on: dt.date) -> dict[str, str]:
    """Kokuho's value → code of a table that has a `map`."""
    return dict(code_tables().get(name).at(on).get("map", {}))


def _item(where: str, raw: Any) -> Item:
    if not isinstance(raw, dict):
        raise LayoutError(f"{where}: 項目は対応表で書いてください")
    for key in ("field", "name", "attribute", "confidence", "source"):
        if not str(raw.get(key, "")).strip():
            raise LayoutError(f"{where}: {key} がありません")
    where = f"{where}（{raw['name']}）"
    if raw["attribute"] not in ATTRIBUTES:
        raise LayoutError(f"{where}: 属性 {raw['attribute']!r} は N・X・K・D・M のいずれかです")
    if raw["confidence"] not in CONFIDENCES:
        raise LayoutError(f"{where}: 確度 {raw['confidence']!r} は A〜D のいずれかです")
    known = {
        "field", "name", "attribute", "confidence", "source", "position", "length",
        "max_length", "codes", "fixed", "key",
    }  # fmt: skip
    if extra := set(raw) - known:
        raise LayoutError(f"{where}: 不明なキー {sorted(extra)}")
    return Item(
        field=str(raw["field"]),
        name=str(raw["name"]),
        attribute=str(raw["attribute"]),
        confidence=str(raw["confidence"]),
        source=str(raw["source"]),
        position=raw.get("position"),
        length=raw.get("length"),
        max_length=raw.get("max_length"),
        codes=str(raw.get("codes", "")),
        fixed=str(raw.get("fixed", "")),
        key=bool(raw.get("key", False)),
    )


def _check_record(where: str, kind: str, items: tuple[Item, ...], document: dict) -> None:
    fields = [i.field for i in items]
    if len(set(fields)) != len(fields):
        raise LayoutError(f"{where} {kind}: 項目名 field が重複しています")
    if document["format"] == "csv":
        positions = [i.position for i in items]
        if positions != list(range(1, len(items) + 1)):
            raise LayoutError(
                f"{where} {kind}: CSV の位置 position は 1 から連続してください（{positions}）"
            )
    else:
        if any(not isinstance(i.length, int) or i.length <= 0 for i in items):
            raise LayoutError(f"{where} {kind}: 固定長の項目にはすべて長さ length が必要です")
        total = sum(i.length or 0 for i in items)
        if total != document.get("record_length"):
            raise LayoutError(
                f"{where} {kind}: 項目の長さの合計 {total} がレコード長 "
                f"{document.get('record_length')} と一致しません"
            )
    tables = code_tables()  # a broken code file is its own error, not "no such table"
    for item in items:
        if item.codes:
            try:
                tables.get(item.codes)
            except ParameterError:
                raise LayoutError(
                    f"{where} {kind} {item.name}: コード表 {item.codes} がありません"
                ) from None


def descriptor_load(path: Path) -> Descriptor:
    """Read and validate one descriptor; `LayoutError` names the file and the item."""
    where = path.name
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise LayoutError(f"{where}: YAML として読めません: {error}") from None
    if not isinstance(document, dict):
        raise LayoutError(f"{where}: 対応表ではありません")
    for key in ("layout", "name", "version", "format", "source", "records"):
        if not str(document.get(key, "")).strip():
            raise LayoutError(f"{where}: {key} がありません")
    if document["format"] not in FORMATS:
        raise LayoutError(f"{where}: format は csv か fixed です")
    records: dict[str, tuple[Item, ...]] = {}
    for kind in RECORD_KINDS:
        raw_items = document["records"].get(kind)
        if not raw_items:
            raise LayoutError(f"{where}: レコード {kind} がありません")
        items = tuple(_item(f"{where} {kind} {n + 1}番目", r) for n, r in enumerate(raw_items))
        _check_record(where, kind, items, document)
        records[kind] = items
    if not any(i.key for i in records["data"]):
        raise LayoutError(f"{where}: data にキー項目 (key: true) がありません")
    return Descriptor(
        layout=str(document["layout"]),
        name=str(document["name"]),
        version=str(document["version"]),
        format=str(document["format"]),
        source=str(document["source"]),
        records=records,
        record_length=document.get("record_length"),
        path=path,
    )


@cache
def descriptors() -> dict[str, Descriptor]:
    """Every descriptor of `layouts/`, by layout id (loaded once per process)."""
    found = {}
    for path in sorted(LAYOUT_DIR.glob("*.yaml")):
        descriptor = descriptor_load(path)
        if descriptor.layout in found:
            raise LayoutError(f"{path.name}: レイアウト {descriptor.layout} が重複しています")
        found[descriptor.layout] = descriptor
    return found


def descriptor(layout: str) -> Descriptor:
    try:
        return descriptors()[layout]
    except KeyError:
        raise LayoutError(f"レイアウト {layout} はありません") from None


# --- the codec of one record -------------------------------------------------------------


_SEPARATORS = re.compile('[,"\r\n]')
# strftime is the slowest step of a date item, and a city's dates repeat (birth dates,
# period starts): the text of each plain date is kept, within a bound.
_DATE_TEXT: dict[tuple[dt.date, str], str] = {}
_DATE_TEXT_LIMIT = 200_000


def _date_text(value: Any, pattern: str) -> str:
    if type(value) is not dt.date:
        return value.strftime(pattern)
    text = _DATE_TEXT.get((value, pattern))
    if text is None:
        if len(_DATE_TEXT) >= _DATE_TEXT_LIMIT:
            _DATE_TEXT.clear()
        text = _DATE_TEXT[value, pattern] = value.strftime(pattern)
    return text


@lru_cache(maxsize=512)
def _codes(name: str, on: dt.date) -> frozenset[str]:
    """The codes of a table on a day, built once (the writer checks every coded item of
    every record against them: rebuilding `code_list` each time was a third of a write)."""
    return frozenset(code_list(name, on))


class _Step:
    """One item as the writer applies it on a day: what `Item` says, resolved once (its
    code set, width, padding) — a city-wide extract formats some forty million items."""

    __slots__ = (
        "attribute", "codes", "field", "fixed", "length", "name", "table", "text", "width",
    )  # fmt: skip

    def __init__(self, item: Item, on: dt.date) -> None:
        self.field, self.name, self.fixed = item.field, item.name, item.fixed
        self.attribute, self.length, self.width = item.attribute, item.length, item.width
        self.table = item.codes
        self.codes = _codes(item.codes, on) if item.codes else None
        # Digits and dates cannot hold a separator; only text items are searched for one.
        self.text = item.attribute not in "NDM"


_PLANS: dict[tuple[int, str, dt.date], tuple[Descriptor, tuple[_Step, ...]]] = {}


def _plan(desc: Descriptor, kind: str, on: dt.date) -> tuple[_Step, ...]:
    key = (id(desc), kind, on)
    found = _PLANS.get(key)
    if found is None or found[0] is not desc:
        if len(_PLANS) > 256:
            _PLANS.clear()
        found = _PLANS[key] = (desc, tuple(_Step(item, on) for item in desc.records[kind]))
    return found[1]


def _format(step: _Step, value: Any) -> str:
    if step.fixed:
        return step.fixed
    attribute = step.attribute
    if value is None or value == "":
        text = ""
    elif attribute == "D":
        text = _date_text(value, "%Y%m%d")
    elif attribute == "M":
        text = _date_text(value, "%Y%m")
    else:
        text = str(value)
    if text:
        if attribute == "N" and not text.isdigit():
            raise LayoutError(f"{step.name}: 数字ではありません: {text!r}")
        if step.codes is not None and text not in step.codes:
            raise LayoutError(f"{step.name}: コード表 {step.table} にないコードです: {text!r}")
        if step.text and _SEPARATORS.search(text):
            # The working layout has no quoting: a comma or a newline would shift every item.
            raise LayoutError(f"{step.name}: 区切り文字・改行を含む値は書けません: {text!r}")
    width = step.width
    if width is not None and len(text) > width:
        raise LayoutError(f"{step.name}: {width}桁を超えています: {text!r}")
    if step.length is not None:
        if attribute in "NDM" and text:
            return text.rjust(step.length, "0")
        return text.ljust(step.length)
    return text


def line_parts(desc: Descriptor, kind: str, values: dict[str, Any], on: dt.date) -> list[str]:
    """The items of one record as text, in order (`line_join` makes the line)."""
    get = values.get
    return [_format(step, get(step.field)) for step in _plan(desc, kind, on)]


def line_join(desc: Descriptor, parts: list[str]) -> str:
    return ",".join(parts) if desc.format == "csv" else "".join(parts)


def item_index(desc: Descriptor, kind: str, field: str) -> int | None:
    """Where the item `field` is in `line_parts` (None: the record has no such item)."""
    for index, item in enumerate(desc.records[kind]):
        if item.field == field:
            return index
    return None


def item_format(desc: Descriptor, kind: str, index: int, value: Any, on: dt.date) -> str:
    """One item as `line_parts` writes it (to put a value into parts already made)."""
    return _format(_plan(desc, kind, on)[index], value)


def line_write(desc: Descriptor, kind: str, values: dict[str, Any], on: dt.date) -> str:
    """One record as text (without the line ending); `LayoutError` for a value its item does
    not allow. `on` picks the code tables in force."""
    return line_join(desc, line_parts(desc, kind, values, on))


def _parse(item: Item, text: str, line_no: int) -> Any:
    text = text.strip() if item.length is not None else text
    if text == "":
        return None
    shown = repr(text[:40]) + ("…" if len(text) > 40 else "")
    if item.max_length is not None and len(text) > item.max_length:
        # What a record may hold, as when writing: the columns it goes to are no wider.
        raise LayoutError(
            f"{line_no}行目 {item.name}: {item.max_length}桁を超えています（{len(text)}桁）"
        )
    try:
        if item.attribute == "D":
            return dt.datetime.strptime(text, "%Y%m%d").date()
        if item.attribute == "M":
            return dt.datetime.strptime(text, "%Y%m").date()
    except ValueError:
        raise LayoutError(f"{line_no}行目 {item.name}: 日付ではありません: {shown}") from None
    # ASCII digits only: str.isdigit() also takes full-width ones, which no key matches.
    if item.attribute == "N" and not (text.isascii() and text.isdigit()):
        raise LayoutError(f"{line_no}行目 {item.name}: 数字ではありません: {shown}")
    return text


def line_split(desc: Descriptor, kind: str, line: str) -> list[str]:
    """A line `line_join` made, back into its items' text (no check: see `line_read`)."""
    if desc.format == "csv":
        return line.split(",")
    parts, start = [], 0
    for item in desc.records[kind]:
        parts.append(line[start : start + (item.length or 0)])
        start += item.length or 0
    return parts


def line_read(desc: Descriptor, kind: str, line: str, line_no: int = 0) -> dict[str, Any]:
    """One record back into its values (dates as dates, the rest as text, empty as None)."""
    items = desc.records[kind]
    if desc.format == "csv":
        parts = line.split(",")
        if len(parts) != len(items):
            raise LayoutError(
                f"{line_no}行目: 項目数 {len(parts)} がレイアウトの {len(items)} と一致しません"
            )
    else:
        if len(line) != desc.record_length:
            raise LayoutError(
                f"{line_no}行目: レコード長 {len(line)} が {desc.record_length} と違います"
            )
        parts = line_split(desc, kind, line)
    values = {}
    for item, text in zip(items, parts, strict=True):
        if item.fixed and text != item.fixed:
            raise LayoutError(f"{line_no}行目 {item.name}: {item.fixed!r} ではありません: {text!r}")
        values[item.field] = _parse(item, text, line_no)
    return values
