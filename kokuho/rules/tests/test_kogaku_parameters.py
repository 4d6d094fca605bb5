"""高額療養費 parameters: the month's values by its first day, provisional values refused
with their source shown, and the command that says which value applied and why."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command

from kokuho.rules.params import ParameterUnconfirmed, load_parameter, parameters


def _limits(day: dt.date) -> dict:
    return parameters().at(day).kogaku.under70_limits


def test_each_revision_applies_from_its_first_month():
    assert _limits(dt.date(2014, 12, 1))["general"] == {
        "label": "一般",
        "base": 80100,
        "threshold": 267000,
        "many": 44400,
    }
    assert _limits(dt.date(2015, 1, 1))["u"] == {
        "label": "ウ",
        "base": 80100,
        "threshold": 267000,
        "many": 44400,
    }
    assert _limits(dt.date(2026, 7, 1))["o"] == {"label": "オ", "base": 35400, "many": 24600}
    elderly = parameters().at(dt.date(2018, 7, 1)).kogaku.elderly_limits
    assert elderly["general"]["outpatient"] == 14000
    elderly = parameters().at(dt.date(2018, 8, 1)).kogaku.elderly_limits
    assert elderly["general"]["outpatient"] == 18000
    assert "genekinami_3" in elderly


def test_every_formula_band_keeps_threshold_equal_to_base_over_the_copay_rate():
    """benefits.md §3: in every formula band the threshold is the fixed part ÷ 0.3 — a
    check on typing errors in the files, not a rule the engine relies on."""
    for name in ("kogaku.under70_limits", "kogaku.elderly_limits"):
        for entry in parameters().get(name).values:
            for band, value in entry.value.items():
                if "threshold" in value:
                    assert value["threshold"] * 3 == value["base"] * 10, (name, entry.start, band)


def test_a_month_on_provisional_values_is_refused_with_the_parameter_named():
    limits = parameters().get("kogaku.under70_limits")
    assert limits.confirmed_at(dt.date(2026, 7, 1))["u"]["base"] == 80100
    with pytest.raises(ParameterUnconfirmed, match=r"2026-08 .*kogaku\.under70_limits"):
        limits.confirmed_at(dt.date(2026, 8, 1))
    with pytest.raises(ParameterUnconfirmed):
        limits.confirmed_at(dt.date(2027, 9, 1))


def test_a_provisional_value_must_say_where_it_was_read(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text(
        "description: d\nunit: JPY\nvalues:\n  2026-08-01:\n    value: 1\n"
        "    status: provisional\n    reference: 施行令\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="source がありません"):
        load_parameter(path, tmp_path)


def test_the_command_says_which_value_applied_and_why():
    out = StringIO()
    call_command("rules", "show", "kogaku.under70", month="2026-07", stdout=out)
    text = out.getvalue()
    assert '"u": {"label": "ウ", "base": 80100, "threshold": 267000, "many": 44400}' in text
    assert "適用開始: 2015-01-01  状態: 確定" in text
    assert "国民健康保険法施行令 第29条の3" in text
    assert "次の改定: 2026-08-01" in text
    assert "未確定の値: 0 件" in text

    out = StringIO()
    call_command("rules", "show", "kogaku.under70", month="2026-08", stdout=out)
    text = out.getvalue()
    assert "状態: 未確定" in text and "出典: 厚生労働省" in text
    assert "未確定の値: 1 件" in text
