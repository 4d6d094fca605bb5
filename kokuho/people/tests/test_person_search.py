from datetime import date

import pytest

from kokuho.people.selectors import SearchCriteria, person_search
from kokuho.testing import make_household, make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def residents():
    h = make_household()
    return {
        "taro": make_person(name="山田 太郎", kana="ヤマダ タロウ", household=h),
        "hanako": make_person(
            name="山田 花子",
            kana="ヤマダ ハナコ",
            birth_date=date(1961, 1, 3),
            household=h,
            relation="妻",
        ),
        "gato": make_person(name="我妻 健", kana="ガツマ ケン", birth_date=date(1985, 7, 7)),
        "kitcho": make_person(
            name="吉兆 ゆう", kana="キッチョウ ユウ", birth_date=date(1990, 2, 1)
        ),
    }


def _names(criteria):
    return [p.name for p in person_search(criteria=criteria)]


@pytest.mark.parametrize("query", ["ヤマダ", "やまだ", "ﾔﾏﾀﾞ", "ﾔﾏﾀ", "ヤマタ", "ヤ マ ダ"])
def test_kana_prefix_is_insensitive_to_width_script_and_dakuten(residents, query):
    assert _names(SearchCriteria(kana=query)) == ["山田 太郎", "山田 花子"]


def test_kana_search_composes_decomposed_dakuten(residents):
    assert _names(SearchCriteria(kana="カ\u3099ツマ")) == ["我妻 健"]


def test_kana_search_ignores_small_kana(residents):
    assert _names(SearchCriteria(kana="キツチヨウ")) == ["吉兆 ゆう"]
    assert _names(SearchCriteria(kana="きっちょう")) == ["吉兆 ゆう"]


def test_full_name_prefix_narrows(residents):
    assert _names(SearchCriteria(kana="ヤマダハ")) == ["山田 花子"]


def test_birth_date_and_kana_combine(residents):
    assert _names(SearchCriteria(kana="ヤマダ", birth_date=date(1961, 1, 3))) == ["山田 花子"]


def test_atena_number_is_exact(residents):
    taro = residents["taro"]
    assert _names(SearchCriteria(atena_no=taro.atena_no)) == ["山田 太郎"]
    assert _names(SearchCriteria(atena_no=taro.atena_no[:-1])) == []


def test_empty_criteria_find_nothing(residents):
    assert _names(SearchCriteria()) == []


def test_results_are_capped(residents):
    assert len(person_search(criteria=SearchCriteria(kana="ヤ"), limit=1)) == 1
