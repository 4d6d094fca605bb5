"""保険者番号 check digit (eligibility.md §5)."""


def insurer_check_digit(body: str) -> int:
    """From the rightmost digit, weights 2, 1, 2, 1 …; add the digits of each product; the
    check digit is (10 − sum mod 10) mod 10. `38999` → 9 (so `389999`)."""
    if not body.isdigit() or not body.isascii():
        raise ValueError("保険者番号は数字です")
    total = 0
    for position, char in enumerate(reversed(body)):
        product = int(char) * (2 if position % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


def insurer_number_is_valid(number: str) -> bool:
    """6 digits (市町村国保) or 8 digits (with 法別番号), the last being the check digit."""
    if len(number) not in (6, 8) or not number.isdigit() or not number.isascii():
        return False
    return insurer_check_digit(number[:-1]) == int(number[-1])
