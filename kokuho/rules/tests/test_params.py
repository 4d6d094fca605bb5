import datetime as dt

import pytest

from kokuho.rules.params import ParameterError, load_parameter, load_parameters, parameters


def _write(tmp_path, name, text):
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_shipped_value_has_a_reference_and_loads():
    loaded = load_parameters()
    assert len(loaded.by_name) >= 10
    for parameter in loaded.by_name.values():
        assert parameter.description
        for entry in parameter.values:
            assert entry.reference.strip()


def test_a_value_is_read_by_date():
    p = parameters()
    assert p.at(dt.date(2020, 1, 1)).income.basic_deduction == 330000
    assert p.at(dt.date(2021, 1, 1)).income.basic_deduction == 430000
    assert p.at(dt.date(2026, 5, 1)).category.under70["u_above"] == 2100000


def test_a_date_before_the_first_value_is_an_error():
    with pytest.raises(ParameterError, match="有効な値がありません"):
        parameters().get("category.elderly").at(dt.date(2018, 7, 31))


def test_unknown_names_are_errors():
    with pytest.raises(ParameterError, match="ありません"):
        _ = parameters().at(dt.date(2026, 1, 1)).category.nothing


def test_a_value_without_reference_is_refused(tmp_path):
    path = _write(tmp_path, "x", "description: d\nunit: JPY\nvalues:\n  2020-01-01: {value: 1}\n")
    with pytest.raises(ParameterError, match="reference"):
        load_parameter(path, tmp_path)


def test_a_bad_status_is_refused(tmp_path):
    text = (
        "description: d\nunit: JPY\nvalues:\n"
        "  2020-01-01: {value: 1, status: rumour, reference: 法}\n"
    )
    with pytest.raises(ParameterError, match="status"):
        load_parameter(_write(tmp_path, "x", text), tmp_path)


def test_a_non_date_key_is_refused(tmp_path):
    text = "description: d\nunit: JPY\nvalues:\n  soon: {value: 1, reference: 法}\n"
    with pytest.raises(ParameterError, match="YYYY-MM-DD"):
        load_parameter(_write(tmp_path, "x", text), tmp_path)


def test_values_are_ordered_whatever_the_file_order(tmp_path):
    text = (
        "description: d\nunit: JPY\nvalues:\n"
        "  2022-01-01: {value: 2, reference: 法}\n  2020-01-01: {value: 1, reference: 法}\n"
    )
    parameter = load_parameter(_write(tmp_path, "x", text), tmp_path)
    assert parameter.at(dt.date(2021, 6, 1)) == 1
    assert parameter.at(dt.date(2023, 6, 1)) == 2
