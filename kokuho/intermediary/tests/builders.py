"""A small city for the 中間サーバー tests: fixed 宛名番号 (stable golden files), numbers
linked through the vault's bulk service."""

import datetime as dt
import re

from kokuho.core.mynumber import is_valid_my_number
from kokuho.national.tests.builders import arrive, happen
from kokuho.people.models import Person
from kokuho.retention.tests.builders import register_numbers

__all__ = ["arrive", "city", "happen", "my_number_like", "register_numbers"]

TWELVE = re.compile(r"(?<!\d)\d{12}(?!\d)")


def city() -> list[Person]:
    head = arrive("2000000001", "6000000001", name="副本 太郎", kana="フクホン タロウ")
    child = arrive(
        "2000000002", "6000000001", relation="子", name="副本 花子", kana="フクホン ハナコ",
        birth=dt.date(2021, 6, 1), sex=2, on=dt.date(2021, 6, 1),
    )  # fmt: skip
    other = arrive("2000000003", "6000000002", name="照会 次郎", kana="ショウカイ ジロウ")
    register_numbers(head, child, other)
    return [head, child, other]


def my_number_like(text: str) -> list[str]:
    """Every 12-digit run that passes the My Number check digit."""
    return [m for m in TWELVE.findall(text) if is_valid_my_number(m)]
