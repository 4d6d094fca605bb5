"""個人番号 (My Number) check digit and masking.

This module knows the *shape* of a My Number so that it can be recognised and masked
anywhere (logs, exceptions, output). Storing one is the identity vault's business only.
"""

import re
from typing import Any

_WEIGHTS = tuple(n + 1 if n <= 6 else n - 5 for n in range(1, 12))
_TWELVE_DIGITS = re.compile(r"(?<!\d)(\d{4})[ -]?(\d{4})[ -]?(\d{4})(?!\d)")


def my_number_check_digit(first_eleven: str) -> int:
    """Check digit of a 個人番号 (番号法施行令 8条): weights 2..7, 2..6 from the right, mod 11."""
    if len(first_eleven) != 11 or not first_eleven.isdigit():
        raise ValueError("個人番号の先頭11桁は数字11桁です")
    digits = [int(c) for c in reversed(first_eleven)]
    remainder = sum(p * q for p, q in zip(digits, _WEIGHTS, strict=True)) % 11
    return 0 if remainder <= 1 else 11 - remainder


def is_valid_my_number(value: str) -> bool:
    if len(value) != 12 or not value.isdigit():
        return False
    return my_number_check_digit(value[:11]) == int(value[11])


def mask_my_number(value: str) -> str:
    """`**** **** 1234` — the only form in which a My Number may be shown."""
    return f"**** **** {value[-4:]}"


def mask_my_numbers_in(text: str) -> str:
    """Mask every 12-digit run (optionally grouped 4-4-4) that passes the check digit.

    Runs that fail the check digit are left alone: 宛名番号 or amounts are not My Numbers,
    and masking them would make logs useless without protecting anything.
    """

    def replace(match: re.Match[str]) -> str:
        digits = "".join(match.groups())
        return mask_my_number(digits) if is_valid_my_number(digits) else match.group(0)

    return _TWELVE_DIGITS.sub(replace, text)


def mask_my_numbers_deep(value: Any) -> Any:
    """`mask_my_numbers_in` through a JSON-like structure: every string and key, and every
    integer whose digits are a My Number (then the masked string takes its place).

    Masking the serialised text instead would turn a bare number into `**** **** 1234`
    outside quotes — no longer JSON."""
    if isinstance(value, dict):
        return {mask_my_numbers_in(str(k)): mask_my_numbers_deep(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_my_numbers_deep(v) for v in value]
    if isinstance(value, str):
        return mask_my_numbers_in(value)
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
        masked = mask_my_numbers_in(text)
        return value if masked == text else masked
    return value
