"""副本の目録 (catalogue): each 特定個人情報 this city provides, as data.

One YAML file per 特定個人情報 under `catalogue/`: its 特定個人情報名コード (`TM` + 14 digits),
the 版番号 with the day each takes effect (the データ標準レイアウト changes every July, with
interim versions between), its data sets (データセット番号) and their items (項目コード `TK` +
14 digits, attribute, length, the named selector of `sources.py` that fills it, the
未設定事由 used when it is empty, and the 版 an item first appears in). The codes are
placeholders named after the 主務省令 text until the city supplies its release; every
entry says so (`placeholder`).

`catalogue_load` validates the whole directory (the app's check runs it at start, id
kokuho.E301): a catalogue that breaks a rule is refused with the file and item named.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from kokuho.intermediary.sources import SELECTORS
from kokuho.national.layouts import code_list

CATALOGUE_DIR = Path(__file__).resolve().parent / "catalogue"
INFO_CODE = re.compile(r"TM\d{14}")
ITEM_CODE = re.compile(r"TK\d{14}")
DATASET_NO = re.compile(r"\d{3}")
ATTRIBUTES = frozenset("NXD")
VERSION_KINDS = frozenset({"yearly", "interim"})
YEARLY_MONTH = 7  # the データ標準レイアウト's yearly version takes effect in July
UNSET_TABLE = "fukuhon_unset_reason"
# Characters the packed item list of the 副本 record uses as separators (fukuhon.yaml).
SEPARATORS = frozenset(';=!,\r\n"')


class CatalogueError(ValueError):
    """A catalogue that cannot be used, named with its file and item."""


@dataclass(frozen=True)
class Item:
    code: str
    name: str
    attribute: str
    source: str
    max_length: int | None = None
    unset: str = "01"  # 未設定事由 when the selector has no value
    since: str = ""  # first 版 the item is in ("" = every 版)


@dataclass(frozen=True)
class Dataset:
    number: str
    name: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Version:
    version: str
    effective_from: dt.date
    kind: str


@dataclass(frozen=True)
class Entry:
    """One 特定個人情報 of the catalogue."""

    code: str
    name: str
    placeholder: str
    provider_row: str
    reference: str
    provided: bool
    versions: tuple[Version, ...]
    datasets: tuple[Dataset, ...]
    not_provided_reason: str = ""
    path: Path = Path()

    def version_on(self, day: dt.date) -> Version | None:
        """The 版 in force on a day (None before the first)."""
        current = None
        for version in self.versions:
            if version.effective_from <= day:
                current = version
        return current

    def items_of(self, dataset: Dataset, version: Version) -> tuple[Item, ...]:
        order = [v.version for v in self.versions]
        at = order.index(version.version)
        return tuple(i for i in dataset.items if not i.since or order.index(i.since) <= at)


def _require(where: str, raw: dict[str, Any], *keys: str) -> None:
    for key in keys:
        if key not in raw or str(raw[key]).strip() == "":
            raise CatalogueError(f"{where}: {key} がありません")


def _item(where: str, raw: Any, versions: list[str]) -> Item:
    if not isinstance(raw, dict):
        raise CatalogueError(f"{where}: 項目は対応表で書いてください")
    _require(where, raw, "code", "name", "attribute", "source")
    known = {"code", "name", "attribute", "source", "max_length", "unset", "since"}
    if extra := set(raw) - known:
        raise CatalogueError(f"{where}: 不明なキー {sorted(extra)}")
    where = f"{where}（{raw['name']}）"
    if not ITEM_CODE.fullmatch(str(raw["code"])):
        raise CatalogueError(f"{where}: 項目コードは TK + 14桁です: {raw['code']!r}")
    if raw["attribute"] not in ATTRIBUTES:
        raise CatalogueError(f"{where}: 属性は N・X・D のいずれかです: {raw['attribute']!r}")
    if raw["source"] not in SELECTORS:
        raise CatalogueError(f"{where}: 値を埋めるセレクタ {raw['source']!r} はありません")
    unset = str(raw.get("unset", "01"))
    if unset not in code_list(UNSET_TABLE, dt.date.today()):
        raise CatalogueError(f"{where}: 未設定事由 {unset!r} はコード表にありません")
    since = str(raw.get("since", ""))
    if since and since not in versions:
        raise CatalogueError(f"{where}: since の版 {since!r} は versions にありません")
    length = raw.get("max_length")
    if length is not None and (not isinstance(length, int) or length <= 0):
        raise CatalogueError(f"{where}: max_length は正の整数です")
    return Item(
        code=str(raw["code"]),
        name=str(raw["name"]),
        attribute=str(raw["attribute"]),
        source=str(raw["source"]),
        max_length=length,
        unset=unset,
        since=since,
    )


def _versions(where: str, raw: Any) -> tuple[Version, ...]:
    if not isinstance(raw, list) or not raw:
        raise CatalogueError(f"{where}: versions（版番号と施行日）がありません")
    found: list[Version] = []
    for n, v in enumerate(raw, 1):
        at = f"{where} versions {n}番目"
        if not isinstance(v, dict):
            raise CatalogueError(f"{at}: 対応表で書いてください")
        _require(at, v, "version", "effective_from", "kind")
        if not isinstance(v["effective_from"], dt.date):
            raise CatalogueError(f"{at}: effective_from は日付です")
        if v["kind"] not in VERSION_KINDS:
            raise CatalogueError(f"{at}: kind は yearly か interim です")
        if v["kind"] == "yearly" and v["effective_from"].month != YEARLY_MONTH:
            raise CatalogueError(f"{at}: 年次版（yearly）は7月に施行されます")
        found.append(Version(str(v["version"]), v["effective_from"], str(v["kind"])))
    days = [v.effective_from for v in found]
    if days != sorted(set(days)) or len(days) != len(set(days)):
        raise CatalogueError(f"{where}: 版の施行日は古い順で重複なく並べてください")
    if len({v.version for v in found}) != len(found):
        raise CatalogueError(f"{where}: 版番号が重複しています")
    return tuple(found)


def entry_load(path: Path) -> Entry:
    """Read and validate one catalogue file; `CatalogueError` names the file and the item."""
    where = path.name
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise CatalogueError(f"{where}: YAML として読めません: {error}") from None
    if not isinstance(raw, dict):
        raise CatalogueError(f"{where}: 対応表ではありません")
    _require(where, raw, "code", "name", "placeholder", "provider_row", "reference", "provided")
    if not INFO_CODE.fullmatch(str(raw["code"])):
        raise CatalogueError(f"{where}: 特定個人情報名コードは TM + 14桁です: {raw['code']!r}")
    versions = _versions(where, raw.get("versions"))
    provided = raw["provided"] is True
    datasets: list[Dataset] = []
    for n, ds in enumerate(raw.get("datasets") or [], 1):
        at = f"{where} datasets {n}番目"
        if not isinstance(ds, dict):
            raise CatalogueError(f"{at}: 対応表で書いてください")
        _require(at, ds, "number", "name", "items")
        if not DATASET_NO.fullmatch(str(ds["number"])):
            raise CatalogueError(f"{at}: データセット番号は3桁の数字です")
        items = tuple(
            _item(f"{at} items {m}番目", i, [v.version for v in versions])
            for m, i in enumerate(ds["items"], 1)
        )
        datasets.append(Dataset(str(ds["number"]), str(ds["name"]), items))
    if len({d.number for d in datasets}) != len(datasets):
        raise CatalogueError(f"{where}: データセット番号が重複しています")
    codes = [i.code for d in datasets for i in d.items]
    if len(set(codes)) != len(codes):
        raise CatalogueError(f"{where}: 項目コードが重複しています")
    if provided and not datasets:
        raise CatalogueError(f"{where}: 提供する特定個人情報にはデータセットが必要です")
    if not provided and not str(raw.get("not_provided_reason", "")).strip():
        raise CatalogueError(f"{where}: 提供しない理由 not_provided_reason がありません")
    return Entry(
        code=str(raw["code"]),
        name=str(raw["name"]),
        placeholder=str(raw["placeholder"]),
        provider_row=str(raw["provider_row"]),
        reference=str(raw["reference"]),
        provided=provided,
        versions=versions,
        datasets=tuple(datasets),
        not_provided_reason=str(raw.get("not_provided_reason", "")),
        path=path,
    )


def catalogue_load(directory: Path = CATALOGUE_DIR) -> tuple[Entry, ...]:
    """Every entry of a catalogue directory, validated whole."""
    entries = tuple(entry_load(p) for p in sorted(directory.glob("*.yaml")))
    if not entries:
        raise CatalogueError(f"{directory}: 副本の目録がありません")
    codes = [e.code for e in entries]
    if len(set(codes)) != len(codes):
        raise CatalogueError("特定個人情報名コードが複数のファイルで重複しています")
    item_codes = [i.code for e in entries for d in e.datasets for i in d.items]
    if len(set(item_codes)) != len(item_codes):
        raise CatalogueError("項目コードが複数のファイルで重複しています")
    return entries


@cache
def catalogue() -> tuple[Entry, ...]:
    """The shipped catalogue (loaded once per process)."""
    return catalogue_load()
