"""The 情報照会 allow-list (許可リスト): which rows of the 主務省令 table each 事務 may ask.

Data in `allow_list.yaml` with its legal references; a 照会 whose 事務 → row is not listed is
refused before anything is written out (privacy.md §2: 情報提供ネットワークシステム 目的外の入手).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from kokuho.core.purposes import Purpose

ALLOW_LIST = Path(__file__).resolve().parent / "allow_list.yaml"


class AllowListError(ValueError):
    """The allow-list file is unusable (named with the entry)."""


@dataclass(frozen=True)
class Row:
    code: str
    name: str
    provider: str
    information: str
    reference: str
    confidence: str


@dataclass(frozen=True)
class AllowList:
    source: str
    rows: dict[str, Row]
    purposes: dict[Purpose, frozenset[str]]

    def permits(self, purpose: Purpose | str, row: str) -> bool:
        try:
            return row in self.purposes.get(Purpose(purpose), frozenset())
        except ValueError:
            return False


def allow_list_load(path: Path = ALLOW_LIST) -> AllowList:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise AllowListError(f"{path.name}: YAML として読めません: {error}") from None
    if not isinstance(raw, dict) or not raw.get("source"):
        raise AllowListError(f"{path.name}: source（法令上の根拠）がありません")
    rows = {}
    for code, r in (raw.get("rows") or {}).items():
        missing = [k for k in ("name", "provider", "information", "reference", "confidence")
                   if not str((r or {}).get(k, "")).strip()]  # fmt: skip
        if missing:
            raise AllowListError(f"{path.name} rows {code}: {missing} がありません")
        rows[str(code)] = Row(str(code), r["name"], r["provider"], r["information"],
                              r["reference"], r["confidence"])  # fmt: skip
    purposes: dict[Purpose, frozenset[str]] = {}
    for name, p in (raw.get("purposes") or {}).items():
        try:
            purpose = Purpose(name)
        except ValueError:
            raise AllowListError(
                f"{path.name}: 事務 {name!r} は許可された事務ではありません"
            ) from None
        listed = list((p or {}).get("rows") or [])
        if unknown := [r for r in listed if r not in rows]:
            raise AllowListError(f"{path.name} purposes {name}: 項 {unknown} は rows にありません")
        purposes[purpose] = frozenset(listed)
    return AllowList(str(raw["source"]), rows, purposes)


@cache
def allow_list() -> AllowList:
    return allow_list_load()
