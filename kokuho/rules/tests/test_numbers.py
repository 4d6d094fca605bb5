import pytest

from kokuho.rules.numbers import insurer_check_digit, insurer_number_is_valid


def test_the_spec_example():
    assert insurer_check_digit("38999") == 9
    assert insurer_number_is_valid("389999")


@pytest.mark.parametrize("wrong", ["389998", "38999", "3899999", "38999a", "３８９９９９", ""])
def test_wrong_numbers_are_refused(wrong):
    assert not insurer_number_is_valid(wrong)


def test_eight_digit_numbers_use_seven_digits():
    body = "0113001"
    assert insurer_number_is_valid(body + str(insurer_check_digit(body)))


def test_the_configured_insurer_number_is_checked_at_start(settings):
    from kokuho.rules.checks import insurer_number_check

    assert insurer_number_check(None) == []
    settings.KOKUHO_INSURER_NUMBER = "389998"
    assert [e.id for e in insurer_number_check(None)] == ["kokuho.E001"]
