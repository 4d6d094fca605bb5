"""The 情報照会 files on the wire: the request out and the result back (descriptors in
`layouts/`, read by the national links' codec so they are checked the same way)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from kokuho.national.layouts import Descriptor, descriptor_load

LAYOUTS = Path(__file__).resolve().parent / "layouts"
REQUEST, RESULT = "info_query_request", "info_query_result"


@cache
def wire_layouts() -> dict[str, Descriptor]:
    return {name: descriptor_load(LAYOUTS / f"{name}.yaml") for name in (REQUEST, RESULT)}


def wire_layout(name: str) -> Descriptor:
    return wire_layouts()[name]
