"""Reading an inbound file of the 国保情報集約システム whole, before anything is kept.

The same checks as the 処理結果 (`results.py`), for every inbound layout of ours (資格継続
チェック結果, 高額該当引継 候補): CP932, a last line ending in CRLF and an end record whose count
matches (else the file was cut short), the layout and version we know, our 保険者番号. Any of
them fails → `NationalInboundRejected` with one message; the caller then changes nothing.
A repeat (same SHA-256) is refused by the caller, which knows where its files are kept.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from kokuho.core.mynumber import mask_my_numbers_in
from kokuho.national.layouts import Descriptor, LayoutError, descriptor, line_read

# Control characters no record holds (CR and LF are the line ends, checked on their own).
_CONTROL = re.compile(r"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f]")
_BARE_LINE_END = re.compile(r"\r(?!\n)|(?<!\r)\n")


class NationalInboundRejected(ValueError):
    """The inbound file is refused whole (one message; nothing was changed)."""


@dataclass(frozen=True)
class InboundFile:
    name: str
    sha256: str
    control: dict[str, Any]
    rows: list[tuple[int, dict[str, Any]]]  # (line number, values)


def control_layout(data: bytes) -> str:
    """The layout id a file's control record names ("" when it cannot be read) — what
    `kokuho national import` dispatches on."""
    first = data.split(b"\r\n", 1)[0]
    try:
        parts = first.decode("cp932").split(",")
    except UnicodeDecodeError:
        return ""
    return parts[1] if len(parts) > 1 and parts[0] == "1" else ""


class RecordTextError(ValueError):
    """Why the bytes of a record file (CP932, CRLF) are not its text: the reason only, the
    caller adds the file's name."""


def _line_of(data: bytes | str, offset: int) -> int:
    return data.count(b"\n" if isinstance(data, bytes) else "\n", 0, offset) + 1


def record_text(data: bytes) -> str:
    """The text of a CP932, CRLF record file, or `RecordTextError` naming the line: empty,
    UTF-16 or UTF-8 (which CP932 would read as other characters without an error), bytes
    that are not CP932, a control character, a line not ended by CRLF."""
    if not data:
        raise RecordTextError("空のファイルです")
    if data.count(b"\x00") * 3 >= len(data):
        raise RecordTextError("UTF-16 で保存されたファイルです（CP932 で送ってください）")
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            raise RecordTextError("UTF-8 で保存されたファイルです（CP932 で送ってください）")
    try:
        text = data.decode("cp932")
    except UnicodeDecodeError as error:
        raise RecordTextError(
            f"CP932 として読めません（{_line_of(data, error.start)}行目、"
            f"{error.start + 1}バイト目）"
        ) from None
    found = _CONTROL.search(text)
    if found is not None:
        char = found.group(0)
        label = "NUL" if char == "\x00" else f"U+{ord(char):04X}"
        column = found.start() - (text.rfind("\n", 0, found.start()) + 1) + 1
        raise RecordTextError(
            f"制御文字（{label}）が含まれています（{_line_of(text, found.start())}行目 "
            f"{column}文字目）"
        )
    if not text.endswith(("\r\n", "\n")):
        raise RecordTextError(
            f"最後の行（{_line_of(text, len(text))}行目）が CRLF で終わっていません"
            "（途中で切れています）"
        )
    bare = _BARE_LINE_END.search(text)
    if bare is not None:
        raise RecordTextError(
            f"{_line_of(text, bare.start())}行目の改行が CRLF ではありません"
            f"（{'CR' if bare.group(0) == chr(13) else 'LF'} だけです）"
        )
    return text


def my_numbers_refuse(desc: Descriptor, kind: str, values: dict[str, Any], line_no: int) -> None:
    """A My-Number-like value in a free-text item (attribute K): `LayoutError` — the file is
    refused, never kept with it (the value is not repeated in the message)."""
    for item in desc.records[kind]:
        value = values.get(item.field)
        if item.attribute == "K" and isinstance(value, str) and value:
            normalized = unicodedata.normalize("NFKC", value)
            if mask_my_numbers_in(normalized) != normalized:
                raise LayoutError(f"{line_no}行目 {item.name}: 個人番号と思われる値があります")


def inbound_read(*, data: bytes, name: str, layout: str) -> InboundFile:
    """The file's control record and data rows, checked whole against `layout`."""
    desc = descriptor(layout)
    try:
        text = record_text(data)
    except RecordTextError as error:
        raise NationalInboundRejected(f"{name}: {error}") from None
    lines = text[:-2].split("\r\n")
    if len(lines) < 2 or not lines[-1].startswith("9,"):
        raise NationalInboundRejected(f"{name}: エンドレコードがありません（途中で切れています）")
    try:
        control = line_read(desc, "control", lines[0], 1)
    except LayoutError as error:
        raise NationalInboundRejected(
            f"{name}: コントロールレコードが読めません: {error}"
        ) from None
    if control["layout"] != layout or control["version"] != desc.version:
        raise NationalInboundRejected(
            f"{name}: 未知のレイアウト {control['layout']} 版 {control['version']} です"
            f"（取り込めるのは {layout} 版 {desc.version}）"
        )
    if control["insurer_no"] != settings.KOKUHO_INSURER_NUMBER:
        raise NationalInboundRejected(
            f"{name}: 他の保険者（{control['insurer_no']}）のファイルです"
        )
    try:
        end = line_read(desc, "end", lines[-1], len(lines))
        rows = [(n, line_read(desc, "data", line, n)) for n, line in enumerate(lines[1:-1], 2)]
        for n, values in rows:
            my_numbers_refuse(desc, "data", values, n)
    except LayoutError as error:
        raise NationalInboundRejected(f"{name}: {error}") from None
    if int(end["count"] or 0) != len(rows):
        raise NationalInboundRejected(
            f"{name}: エンドレコードの件数 {end['count']} とデータ {len(rows)} 件が一致しません"
        )
    return InboundFile(name, hashlib.sha256(data).hexdigest(), control, rows)


def national_inbound_import(*, path: Path, actor: Any | None) -> list[str] | None:
    """`kokuho national import-result FILE` for the inbound layouts other than 処理結果:
    dispatch on the control record's layout id. The lines to print, or None when the file
    is not one of them (the caller then reads it as a 処理結果)."""
    from kokuho.benefits.kogaku.carry_candidates import (
        CANDIDATE_LAYOUT,
        kogaku_carry_candidates_import,
    )
    from kokuho.national.continuity import CONTINUITY_LAYOUT, continuity_result_import

    layout = control_layout(path.read_bytes())
    if layout == CONTINUITY_LAYOUT:
        outcome = continuity_result_import(path=path, actor=actor)
        head = (
            f"資格継続チェック結果 {path.name}: 作業項目 {outcome.opened:,}件"
            f"（未処理のものあり {outcome.already_open:,}件）"
        )
    elif layout == CANDIDATE_LAYOUT:
        carry = kogaku_carry_candidates_import(path=path, actor=actor)
        head = f"高額該当引継 候補 {path.name}: 候補 {carry.created:,}件"
        outcome = carry  # type: ignore[assignment]
    else:
        return None
    lines = [head]
    if outcome.problems:
        lines.append(f"  反映しなかったレコード {len(outcome.problems)}件:")
        lines += [f"    {problem}" for problem in outcome.problems]
    return lines
