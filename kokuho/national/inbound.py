"""Reading an inbound file of the 国保情報集約システム whole, before anything is kept.

The same checks as the 処理結果 (`results.py`), for every inbound layout of ours (資格継続
チェック結果, 高額該当引継 候補): CP932, a last line ending in CRLF and an end record whose count
matches (else the file was cut short), the layout and version we know, our 保険者番号. Any of
them fails → `NationalInboundRejected` with one message; the caller then changes nothing.
A repeat (same SHA-256) is refused by the caller, which knows where its files are kept.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from kokuho.national.layouts import LayoutError, descriptor, line_read


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


def inbound_read(*, data: bytes, name: str, layout: str) -> InboundFile:
    """The file's control record and data rows, checked whole against `layout`."""
    desc = descriptor(layout)
    try:
        text = data.decode("cp932")
    except UnicodeDecodeError as error:
        raise NationalInboundRejected(
            f"{name}: CP932 として読めません（{error.start}バイト目）"
        ) from None
    if not text.endswith("\r\n"):
        raise NationalInboundRejected(
            f"{name}: 最後の行が CRLF で終わっていません（途中で切れています）"
        )
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
