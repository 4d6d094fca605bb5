"""Subset matching of runner output, as ../shared/spec/examples/check.py defines it."""

from typing import Any


def subset_differences(expected: Any, got: Any, path: str = "") -> list[str]:
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return [f"{path or '/'}: expected an object, got {got!r}"]
        problems = []
        for key, value in expected.items():
            if key not in got:
                problems.append(f"{path}/{key}: missing")
            else:
                problems += subset_differences(value, got[key], f"{path}/{key}")
        return problems
    if isinstance(expected, list):
        if not isinstance(got, list) or len(got) != len(expected):
            return [f"{path}: expected {len(expected)} items, got {got!r}"]
        return [
            line
            for i, (e, g) in enumerate(zip(expected, got, strict=True))
            for line in subset_differences(e, g, f"{path}[{i}]")
        ]
    return [] if expected == got else [f"{path}: expected {expected!r}, got {got!r}"]


def case_differences(expected: dict[str, Any], got: dict[str, Any]) -> list[str]:
    expected = dict(expected)
    warnings = expected.pop("warning_codes", [])
    problems = subset_differences(expected, got)
    seen = {(w.get("resident"), w.get("code")) for w in got.get("warnings", [])}
    problems += [f"warning {tuple(w)} missing" for w in warnings if tuple(w) not in seen]
    return problems
