from datetime import date

import pytest
from django.db import connection

from kokuho.people.selectors import SearchCriteria, person_search, person_search_query
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


def test_a_kana_prefix_finds_exactly_its_names_at_the_edges():
    """The range's edges: the prefix itself and the names that begin with it are found; the
    names just before and just after it in kana order are not."""
    for kana in ("サト", "サトウ", "サトウ ア", "サトウア", "サトエ", "サテ"):
        make_person(name=f"境 {kana}", kana=kana)
    found = [p.name for p in person_search(criteria=SearchCriteria(kana="サトウ"))]
    assert sorted(found) == sorted(["境 サトウ", "境 サトウ ア", "境 サトウア"])


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_on_postgresql_the_kana_prefix_is_an_index_range():
    """Whatever the table's size, a kana search is an index range (Index Cond on kana_key),
    never the whole kana index walked with a filter (issue 18)."""
    make_person(kana="サトウ ハナコ")
    query = person_search_query(SearchCriteria(kana="サトウ"))[:100]
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    conditions = [line for line in plan.splitlines() if "Index Cond" in line]
    # A range on the ordered index (`>=`, `<`), not the pattern index's `~>=~` bounds nor a
    # Filter over the whole index.
    ranged = [c for c in conditions if "kana_key" in c and " >= " in c and " < " in c]
    assert ranged and not any("~>=~" in c for c in ranged), plan
