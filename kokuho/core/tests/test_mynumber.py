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


def test_check_digit_of_a_known_number():
    # P1..P11 from the right of 12345678901, weights 2..7,2..6: Σ = 190; 190 mod 11 = 3; 11-3 = 8
    assert my_number_check_digit("12345678901") == 8
    assert is_valid_my_number("123456789018")
    assert not is_valid_my_number("123456789017")


def test_it_rejects_wrong_shapes():
    assert not is_valid_my_number("12345678901")
    assert not is_valid_my_number("12345678901a")


@given(st.text(alphabet="0123456789", min_size=11, max_size=11))
def test_exactly_one_check_digit_fits(first_eleven):
    fits = [d for d in "0123456789" if is_valid_my_number(first_eleven + d)]
    assert fits == [str(my_number_check_digit(first_eleven))]


def test_masking_keeps_the_last_four():
    assert mask_my_number("123456789018") == "**** **** 9018"


def test_only_valid_numbers_are_masked_in_text():
    text = "個人番号 123456789018、宛名番号 123456789017、1234 5678 9018"
    masked = mask_my_numbers_in(text)
    assert "123456789018" not in masked
    assert "123456789017" in masked  # fails the check digit: not a My Number
    assert "1234 5678 9018" not in masked


def test_the_log_filter_masks_messages_and_tracebacks():
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "番号 %s", ("123456789018",), None)
    try:
        raise ValueError("bad 123456789018")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    MyNumberMaskFilter().filter(record)
    rendered = logging.Formatter().format(record)
    assert "123456789018" not in rendered
    assert "**** **** 9018" in rendered
