"""Dated legal parameters (after OpenFisca's parameter files).

One YAML file per parameter under `parameters/`, its path giving its name
(`parameters/category/under70.yaml` → `category.under70`). Each file:

```yaml
description: 70歳未満 所得区分の境界（旧ただし書き所得の世帯合計）
unit: JPY
values:
  2015-01-01:
    value: {a: 9010000, i: 6000000, u: 2100000}
    status: confirmed
    reference: 国民健康保険法施行令 第29条の3
```

A value may be a number, a string or a mapping of them. Every dated value carries its legal
reference; the loader refuses a file without one. Code reads `parameters().at(day)` and
never writes an amount as a literal: a change of law is a data change.
"""

import datetime as dt
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import yaml

PARAMETER_DIR = Path(__file__).parent / "parameters"
STATUSES = frozenset({"confirmed", "provisional"})


class ParameterError(ValueError):
    """A parameter file is malformed, or a value was asked for a date it does not cover."""


@dataclass(frozen=True)
class DatedValue:
    start: dt.date
    value: Any
    status: str
    reference: str
    source: str = ""  # where the value was read (document, date) — required when provisional

    @property
    def confirmed(self) -> bool:
        return self.status == "confirmed"


class ParameterUnconfirmed(ParameterError):
    """A computation needs a value that is not yet confirmed from the official text
    (benefits.md §3): it is refused, never done with the previous value."""


@dataclass(frozen=True)
class Parameter:
    name: str
    description: str
    unit: str
    values: tuple[DatedValue, ...]  # ascending by start

    def at(self, day: dt.date) -> Any:
        return self.entry_at(day).value

    def confirmed_at(self, day: dt.date) -> Any:
        """The value in force on `day`, refusing a provisional one."""
        entry = self.entry_at(day)
        if not entry.confirmed:
            raise ParameterUnconfirmed(
                f"{day:%Y-%m} の {self.description} が未確定です"
                f"（{entry.start:%Y-%m-%d} 以降の値は provisional: {self.name}）"
            )
        return entry.value

    def entry_at(self, day: dt.date) -> DatedValue:
        found = None
        for entry in self.values:
            if entry.start <= day:
                found = entry
            else:
                break
        if found is None:
            raise ParameterError(f"{self.name}: {day.isoformat()} に有効な値がありません")
        return found


class ParameterView:
    """`parameters().at(day).category.under70["a"]` — attribute access by path segment."""

    def __init__(self, tree: "ParameterSet", prefix: str, day: dt.date) -> None:
        self._tree, self._prefix, self._day = tree, prefix, day

    def __getattr__(self, segment: str) -> Any:
        name = f"{self._prefix}.{segment}" if self._prefix else segment
        if name in self._tree.by_name:
            return self._tree.by_name[name].at(self._day)
        if name in self._tree.groups:
            return ParameterView(self._tree, name, self._day)
        raise ParameterError(f"パラメータ {name} はありません")


@dataclass(frozen=True)
class ParameterSet:
    by_name: dict[str, Parameter]

    def at(self, day: dt.date) -> ParameterView:
        return ParameterView(self, "", day)

    @cached_property
    def groups(self) -> frozenset[str]:
        """Every path prefix that names a group ("eligibility", "category.under70" …)."""
        prefixes = set()
        for name in self.by_name:
            parts = name.split(".")
            prefixes |= {".".join(parts[:i]) for i in range(1, len(parts))}
        return frozenset(prefixes)

    def get(self, name: str) -> Parameter:
        try:
            return self.by_name[name]
        except KeyError:
            raise ParameterError(f"パラメータ {name} はありません") from None


def _check_value(name: str, value: Any) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _check_value(f"{name}.{key}", inner)
    elif not isinstance(value, int | float | str) or isinstance(value, bool):
        raise ParameterError(f"{name}: 値は数値・文字列またはその対応表です: {value!r}")


def load_parameter(path: Path, root: Path = PARAMETER_DIR) -> Parameter:
    name = ".".join(path.relative_to(root).with_suffix("").parts)
    where = f"{path.relative_to(root)}"
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ParameterError(f"{where}: YAML として読めません: {error}") from None
    if not isinstance(document, dict):
        raise ParameterError(f"{where}: 対応表ではありません")
    for key in ("description", "unit", "values"):
        if key not in document:
            raise ParameterError(f"{where}: {key} がありません")
    values = []
    for start, entry in sorted(document["values"].items()):
        if not isinstance(start, dt.date):
            raise ParameterError(f"{where}: 日付 {start!r} が YYYY-MM-DD ではありません")
        if not isinstance(entry, dict) or "value" not in entry:
            raise ParameterError(f"{where}: {start} に value がありません")
        if not str(entry.get("reference", "")).strip():
            raise ParameterError(f"{where}: {start} に法令根拠 (reference) がありません")
        status = entry.get("status", "confirmed")
        if status not in STATUSES:
            raise ParameterError(f"{where}: {start} の status {status!r} は不正です")
        _check_value(f"{where} {start}", entry["value"])
        source = str(entry.get("source", "")).strip()
        if status == "provisional" and not source:
            raise ParameterError(f"{where}: {start} は provisional ですが source がありません")
        values.append(DatedValue(start, entry["value"], status, str(entry["reference"]), source))
    if not values:
        raise ParameterError(f"{where}: values が空です")
    return Parameter(name, str(document["description"]), str(document["unit"]), tuple(values))


def load_parameters(root: Path = PARAMETER_DIR) -> ParameterSet:
    found = {}
    for path in sorted(root.rglob("*.yaml")):
        parameter = load_parameter(path, root)
        found[parameter.name] = parameter
    return ParameterSet(found)


@cache
def parameters() -> ParameterSet:
    """The installation's parameters, loaded once per process."""
    return load_parameters()
