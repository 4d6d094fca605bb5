import datetime as dt
from pathlib import Path

import pytest

from kokuho.national.layouts import (
    LayoutError,
    code_list,
    descriptor,
    descriptor_load,
    descriptors,
    line_read,
    line_write,
)

ON = dt.date(2026, 4, 1)

FIXED = """
layout: t_fixed
name: 試験
version: "D1"
format: fixed
record_length: {length}
source: 試験
records:
  control:
    - {{field: a, name: 種別, attribute: N, length: 1, fixed: "1", confidence: A, source: s}}
    - {{field: b, name: 日付, attribute: D, length: 8, confidence: B, source: s}}
  data:
    - {{field: a, name: 種別, attribute: N, length: 1, fixed: "2", confidence: A, source: s}}
    - {{field: k, name: キー, attribute: X, length: 7, key: true, confidence: A, source: s}}
    - {{field: s, name: 性別, attribute: N, length: 1, codes: {codes}, confidence: C, source: s}}
  end:
    - {{field: a, name: 種別, attribute: N, length: 1, fixed: "9", confidence: A, source: s}}
    - {{field: n, name: 件数, attribute: N, length: 8, confidence: A, source: s}}
"""


def _write(tmp_path, text):
    path = tmp_path / "t.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_descriptor_loads_and_says_it_is_assumed():
    found = descriptors()
    assert {"shuyaku_household", "shuyaku_person", "shuyaku_income_category"} <= set(found)
    assert all(d.assumed for d in found.values())
    assert "推定レイアウト" in descriptor("shuyaku_person").summary()


def test_the_tekiyo_kubun_table_has_the_public_codes():
    table = code_list("tekiyo_kubun", ON)
    assert table["A01"] == "ア" and table["B08"] == "低所得Ⅰ（境）" and len(table) == 14


def test_a_fixed_length_record_must_sum_to_its_length(tmp_path):
    good = descriptor_load(_write(tmp_path, FIXED.format(length=9, codes="sex")))
    assert good.assumed  # one C item
    with pytest.raises(LayoutError, match="長さの合計 9 がレコード長 10"):
        descriptor_load(_write(tmp_path, FIXED.format(length=10, codes="sex")))


def test_a_fixed_length_line_round_trips(tmp_path):
    desc = descriptor_load(_write(tmp_path, FIXED.format(length=9, codes="sex")))
    line = line_write(desc, "data", {"k": "AB", "s": "2"}, ON)
    assert line == "2AB     2"
    assert line_read(desc, "data", line) == {"a": "2", "k": "AB", "s": "2"}


def test_an_unknown_code_list_is_refused(tmp_path):
    with pytest.raises(LayoutError, match="コード表 no_such_table がありません"):
        descriptor_load(_write(tmp_path, FIXED.format(length=9, codes="no_such_table")))


def test_csv_positions_must_be_contiguous(tmp_path):
    text = (descriptor("shuyaku_result").path.read_text(encoding="utf-8")).replace(
        "position: 3, max_length: 1", "position: 4, max_length: 1"
    )
    with pytest.raises(LayoutError, match="1 から連続"):
        descriptor_load(_write(tmp_path, text))


def test_a_value_outside_its_code_list_or_length_is_refused():
    desc = descriptor("shuyaku_result")
    with pytest.raises(LayoutError, match="コード表 result_kind にないコード"):
        line_write(desc, "data", {"key": "x", "result": "7"}, ON)
    with pytest.raises(LayoutError, match="区切り文字"):
        line_write(desc, "data", {"key": "x,y", "result": "0"}, ON)


def test_a_csv_line_round_trips():
    desc = descriptor("shuyaku_person")
    values = {
        "processing": "2", "insurer_no": "389999", "symbol": "10", "number": "000001",
        "branch": "01", "acquired_on": dt.date(2020, 4, 1), "atena_no": "100", "name": "山田",
        "kana": "ヤマダ", "alias": None, "birth_date": dt.date(1970, 1, 1), "sex": "1",
        "relation": "世帯主", "acquire_reason": "01", "lost_on": None, "loss_reason": None,
        "applied_from": dt.date(2020, 4, 1), "applied_until": None, "student": "0",
        "special_address": "0", "copay_rate": "30", "preschool": "0", "elderly": "0",
    }  # fmt: skip
    line = line_write(desc, "data", values, ON)
    assert line_read(desc, "data", line) == values | {"record_type": "2"}


GOLDEN = Path(__file__).parent / "golden"


def _all_descriptors():
    from kokuho.intermediary.wire import wire_layouts

    return {**descriptors(), **wire_layouts()}


def test_every_descriptor_has_a_golden_file():
    """Outbound layouts are pinned by their export's golden file (the export tests), inbound
    ones by a sample file here: no layout goes unpinned."""
    pinned = {p.stem for p in GOLDEN.glob("*.csv")} | {p.stem for p in GOLDEN.glob("samples/*.csv")}
    assert set(_all_descriptors()) - pinned == set()


@pytest.mark.parametrize("name", sorted(p.stem for p in GOLDEN.glob("samples/*.csv")))
def test_an_inbound_sample_reads_and_writes_back_byte_for_byte(name):
    desc = _all_descriptors()[name]
    data = (GOLDEN / "samples" / f"{name}.csv").read_bytes()
    lines = data.decode("cp932").removesuffix("\r\n").split("\r\n")
    kinds = ["control", *["data"] * (len(lines) - 2), "end"]
    written = []
    for number, (kind, line) in enumerate(zip(kinds, lines, strict=True), 1):
        values = line_read(desc, kind, line, number)
        written.append(line_write(desc, kind, values, ON))
    assert ("\r\n".join(written) + "\r\n").encode("cp932") == data
