import datetime as dt

import pytest

from kokuho.eligibility.scenario import ScenarioError, scenario_parse

TODAY = dt.date(2026, 11, 24)


def _doc(relation, sex="F"):
    return {
        "residents": {
            "R1": {"name": "山田 花子", "kana": "ヤマダ ハナコ", "birth": "1960-01-01", "sex": sex}
        },
        "events": [
            {
                "type": "move_in",
                "date": "R8.4.1",
                "resident": "R1",
                "household": "H1",
                "relation": relation,
            }
        ],
    }


@pytest.mark.parametrize(
    ("relation", "expected"),
    [
        ("head", "世帯主"),
        ("spouse", "妻"),
        ("daughter", "子"),
        ("parent", "母"),
        ("妻", "妻"),
        ("cousin", "その他"),
    ],
)
def test_relations_are_read_leniently(relation, expected):
    assert scenario_parse(_doc(relation), today=TODAY).events[0].relation == expected


def test_wareki_dates_and_default_as_of():
    scenario = scenario_parse(_doc("head"), today=TODAY)
    assert scenario.events[0].date == dt.date(2026, 4, 1)
    assert scenario.as_of == TODAY


@pytest.mark.parametrize("sex", ["female", "2", "女", " f "])
def test_sex_spellings(sex):
    assert scenario_parse(_doc("head", sex), today=TODAY).residents["R1"].sex == 2


def test_an_unknown_top_level_key_is_refused():
    with pytest.raises(ScenarioError, match="不明な項目"):
        scenario_parse({"people": {}}, today=TODAY)
