"""Who gets which document, and until when (documents.md), as pure rules."""

import datetime as dt

import pytest

from kokuho.certificates.models import DocumentType, MynaStatus
from kokuho.certificates.rules import (
    LIMIT_CATEGORIES,
    REDUCED_CATEGORIES,
    DocumentFacts,
    basic_document_type,
    basic_validity,
    certificate_check,
    long_stay_applies,
    renewal_dates,
)

AUG1 = (8, 1)
D = dt.date


def facts(**kw):
    base = {"birth_date": D(1980, 5, 10), "insured": True, "myna": MynaStatus.REGISTERED}
    return DocumentFacts(**(base | kw))


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (D(2026, 8, 1), (D(2026, 8, 1), D(2027, 7, 31))),
        (D(2026, 7, 31), (D(2025, 8, 1), D(2026, 7, 31))),
        (D(2027, 1, 15), (D(2026, 8, 1), D(2027, 7, 31))),
    ],
)
def test_renewal_period_around_a_day(on, expected):
    assert renewal_dates(on, AUG1) == expected


def test_renewal_date_is_the_citys_setting():
    assert renewal_dates(D(2026, 10, 5), (10, 1)) == (D(2026, 10, 1), D(2027, 9, 30))


@pytest.mark.parametrize(
    ("myna", "requested", "to_all", "expected"),
    [
        (MynaStatus.REGISTERED, False, False, DocumentType.OSHIRASE),
        (MynaStatus.UNREGISTERED, False, False, DocumentType.KAKUNINSHO),
        (MynaStatus.CANCELLED, False, False, DocumentType.KAKUNINSHO),
        (MynaStatus.CARD_EXPIRED, False, False, DocumentType.KAKUNINSHO),
        (None, False, False, DocumentType.KAKUNINSHO),  # nothing reported: not usable
        (MynaStatus.REGISTERED, True, False, DocumentType.KAKUNINSHO),  # 要配慮者
        (MynaStatus.REGISTERED, False, True, DocumentType.KAKUNINSHO),  # 暫定運用
    ],
)
def test_who_gets_a_kakuninsho(myna, requested, to_all, expected):
    f = facts(myna=myna, kakuninsho_requested=requested)
    assert basic_document_type(f, issue_to_all=to_all) == expected


def test_kakuninsho_runs_to_the_day_before_the_next_renewal():
    f = facts(myna=None)
    assert basic_validity(DocumentType.KAKUNINSHO, f, on=D(2026, 8, 1), renewal=AUG1) == D(
        2027, 7, 31
    )
    # Issued at the counter mid-year: the same end.
    assert basic_validity(DocumentType.KAKUNINSHO, f, on=D(2026, 11, 2), renewal=AUG1) == D(
        2027, 7, 31
    )


def test_kakuninsho_ends_before_the_70_switch():
    # 70th birthday 2026-12-10 → 高齢受給者 from 2027-01-01: the card with 3割 ends 12-31.
    f = facts(birth_date=D(1956, 12, 10), myna=None)
    assert basic_validity(DocumentType.KAKUNINSHO, f, on=D(2026, 8, 1), renewal=AUG1) == D(
        2026, 12, 31
    )


def test_kakuninsho_born_on_the_first_switches_in_the_birthday_month():
    # Born on the 1st: 70 is reached the day before, so 高齢受給者 from the birthday itself.
    f = facts(birth_date=D(1956, 12, 1), myna=None)
    assert basic_validity(DocumentType.KAKUNINSHO, f, on=D(2026, 8, 1), renewal=AUG1) == D(
        2026, 11, 30
    )


def test_kakuninsho_ends_on_the_eve_of_75():
    f = facts(birth_date=D(1952, 3, 20), myna=None)
    assert basic_validity(DocumentType.KAKUNINSHO, f, on=D(2026, 8, 1), renewal=AUG1) == D(
        2027, 3, 19
    )


def test_foreign_resident_until_the_day_after_the_residence_period():
    f = facts(myna=None, residence_until=D(2027, 2, 14))
    assert basic_validity(DocumentType.KAKUNINSHO, f, on=D(2026, 8, 1), renewal=AUG1) == D(
        2027, 2, 15
    )
    # …and no later than the renewal.
    later = facts(myna=None, residence_until=D(2029, 2, 14))
    assert basic_validity(DocumentType.KAKUNINSHO, later, on=D(2026, 8, 1), renewal=AUG1) == D(
        2027, 7, 31
    )


def test_student_until_the_end_of_the_special_case():
    f = facts(myna=None, is_student=True, student_until=D(2027, 3, 31))
    assert basic_validity(DocumentType.KAKUNINSHO, f, on=D(2026, 8, 1), renewal=AUG1) == D(
        2027, 3, 31
    )


def test_known_end_of_insurance_ends_the_card():
    f = facts(myna=None, period_end=D(2026, 9, 30))
    assert basic_validity(DocumentType.KAKUNINSHO, f, on=D(2026, 8, 1), renewal=AUG1) == D(
        2026, 9, 30
    )


def test_oshirase_has_no_end_under_70():
    assert basic_validity(DocumentType.OSHIRASE, facts(), on=D(2026, 8, 1), renewal=AUG1) is None


def test_oshirase_of_70_to_74_ends_at_renewal_or_75():
    f = facts(birth_date=D(1954, 4, 2))  # 72
    assert basic_validity(DocumentType.OSHIRASE, f, on=D(2026, 8, 1), renewal=AUG1) == D(
        2027, 7, 31
    )
    g = facts(birth_date=D(1951, 10, 5))  # 75 on 2026-10-05
    assert basic_validity(DocumentType.OSHIRASE, g, on=D(2026, 8, 1), renewal=AUG1) == D(
        2026, 10, 4
    )


def test_oshirase_of_a_foreign_resident_has_an_end():
    f = facts(residence_until=D(2026, 12, 1))
    assert basic_validity(DocumentType.OSHIRASE, f, on=D(2026, 8, 1), renewal=AUG1) == D(
        2026, 12, 2
    )


@pytest.mark.parametrize("category", ["ア", "イ", "ウ", "エ", "現役並みⅠ", "現役並みⅡ"])
def test_limit_certificate_granted(category):
    check = certificate_check(
        DocumentType.GENDOGAKU, facts(category=category), applied_on=D(2026, 9, 17), renewal=AUG1
    )
    assert check.granted
    assert (check.valid_from, check.valid_until) == (D(2026, 9, 1), D(2027, 7, 31))


@pytest.mark.parametrize(
    ("category", "words"),
    [("オ", "減額認定証の対象"), ("一般", "なくても"), ("現役並みⅢ", "なくても")],
)
def test_limit_certificate_refused(category, words):
    check = certificate_check(
        DocumentType.GENDOGAKU, facts(category=category), applied_on=D(2026, 9, 17), renewal=AUG1
    )
    assert not check.granted
    assert words in check.reason


def test_reduced_certificate_only_for_tax_exempt_households():
    ok = certificate_check(
        DocumentType.GENGAKU, facts(category="低所得Ⅰ"), applied_on=D(2026, 9, 1), renewal=AUG1
    )
    no = certificate_check(
        DocumentType.GENGAKU, facts(category="ウ"), applied_on=D(2026, 9, 1), renewal=AUG1
    )
    assert ok.granted and not no.granted
    assert "住民税非課税" in no.reason


def test_certificate_refused_without_insurance_or_category():
    assert not certificate_check(
        DocumentType.GENDOGAKU,
        facts(insured=False, category="ウ"),
        applied_on=D(2026, 9, 1),
        renewal=AUG1,
    ).granted
    unknown = certificate_check(
        DocumentType.GENDOGAKU, facts(category=None), applied_on=D(2026, 9, 1), renewal=AUG1
    )
    assert not unknown.granted and "所得区分" in unknown.reason


def test_certificate_ends_on_the_eve_of_75():
    f = facts(birth_date=D(1952, 1, 10), category="現役並みⅡ")
    check = certificate_check(DocumentType.GENDOGAKU, f, applied_on=D(2026, 9, 1), renewal=AUG1)
    assert check.valid_until == D(2027, 1, 9)


def test_long_stay_only_for_o_and_low_income_2_after_90_days():
    assert long_stay_applies("オ", 91)
    assert long_stay_applies("低所得Ⅱ", 120)
    assert not long_stay_applies("オ", 90)
    assert not long_stay_applies("低所得Ⅰ", 200)
    assert not long_stay_applies("オ", None)


def test_specific_disease_needs_the_disease_and_the_opinion():
    f = facts(category="ウ")
    common = {"applied_on": D(2026, 9, 20), "renewal": AUG1}
    no_disease = certificate_check(DocumentType.TOKUTEI, f, **common)
    no_opinion = certificate_check(DocumentType.TOKUTEI, f, disease="dialysis", **common)
    ok = certificate_check(
        DocumentType.TOKUTEI, f, disease="dialysis", opinion_received=True, **common
    )
    assert not no_disease.granted and not no_opinion.granted
    assert ok.granted
    assert "人工透析" in ok.reason
    # From the 1st of the application month, to the eve of 75 (no yearly end).
    assert (ok.valid_from, ok.valid_until) == (D(2026, 9, 1), D(2055, 5, 9))


def test_oshirase_issued_before_the_70_switch_ends_with_it():
    f = facts(birth_date=D(1956, 12, 10))  # 高齢受給者 from 2027-01-01
    assert basic_validity(DocumentType.OSHIRASE, f, on=D(2026, 8, 1), renewal=AUG1) == D(
        2026, 12, 31
    )


def test_the_renderer_prints_exactly_the_categories_the_rules_grant():
    from kokuho.certificates import pdf

    assert set(pdf._CATEGORIES["gendogaku"]) == set(LIMIT_CATEGORIES)
    assert set(pdf._CATEGORIES["gengaku"]) == set(REDUCED_CATEGORIES)
