import logging

from hypothesis import given
from hypothesis import strategies as st

from kokuho.core.logging import MyNumberMaskFilter
from kokuho.core.mynumber import (
    is_valid_my_number,
    mask_my_number,
    mask_my_numbers_in,
    my_number_check_digit,
)

# Built at run time, never stored: a test-only number made valid by its own check digit.
SYNTHETIC = "12345678901" + str(my_number_check_digit("12345678901"))
WRONG_CHECK = SYNTHETIC[:-1] + str((int(SYNTHETIC[-1]) + 1) % 10)


def test_check_digit_of_a_known_number():
    # P1..P11 from the right of 12345678901, weights 2..7,2..6: Σ = 190; 190 mod 11 = 3; 11-3 = 8
    assert my_number_check_digit("12345678901") == 8
    assert is_valid_my_number(SYNTHETIC)
    assert not is_valid_my_number(WRONG_CHECK)


def test_it_rejects_wrong_shapes():
    assert not is_valid_my_number("12345678901")
    assert not is_valid_my_number("12345678901a")


@given(st.text(alphabet="0123456789", min_size=11, max_size=11))
def test_exactly_one_check_digit_fits(first_eleven):
    fits = [d for d in "0123456789" if is_valid_my_number(first_eleven + d)]
    assert fits == [str(my_number_check_digit(first_eleven))]


def test_masking_keeps_the_last_four():
    assert mask_my_number(SYNTHETIC) == f"**** **** {SYNTHETIC[-4:]}"


def test_only_valid_numbers_are_masked_in_text():
    text = f"個人番号 {SYNTHETIC}、宛名番号 {WRONG_CHECK}、1234 5678 {SYNTHETIC[-4:]}"
    masked = mask_my_numbers_in(text)
    assert SYNTHETIC not in masked
    assert WRONG_CHECK in masked  # fails the check digit: not a My Number
    assert f"1234 5678 {SYNTHETIC[-4:]}" not in masked


def test_the_log_filter_masks_messages_and_tracebacks():
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "番号 %s", (SYNTHETIC,), None)
    try:
        raise ValueError(f"bad {SYNTHETIC}")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    MyNumberMaskFilter().filter(record)
    rendered = logging.Formatter().format(record)
    assert SYNTHETIC not in rendered
    assert f"**** **** {SYNTHETIC[-4:]}" in rendered
