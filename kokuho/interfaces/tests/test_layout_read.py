"""Reading a file: encodings, header checks, and the whole-file rejections."""

import pytest

from kokuho.interfaces.layout import CP932, UTF8, UTF8_BOM, ImportRejected, layout_read
from kokuho.interfaces.residents_changes import LAYOUT
from kokuho.interfaces.tests.support import CHANGES_HEADER, change, csv_text, write_csv


def _read(path):
    source, rows = layout_read(path, LAYOUT)
    return source, list(rows)


def test_it_reads_utf8_without_bom(tmp_path):
    path = write_csv(
        tmp_path / "residents-changes.csv", [change("1", "A01", "2026-04-01", "1", "1")]
    )
    source, rows = _read(path)
    assert source.encoding == UTF8
    assert rows[0].record["name"] == "試験 太郎"


def test_it_reads_utf8_with_bom_and_says_so(tmp_path):
    rows = [change("1", "A01", "2026-04-01", "1", "1")]
    path = write_csv(tmp_path / "residents-changes.csv", rows, encoding="utf-8-sig")
    source, read = _read(path)
    assert source.encoding == UTF8_BOM
    assert source.header[0] == "record_id"  # the BOM is not part of the first column name
    assert read[0].record is not None


def test_it_reads_cp932_and_says_so(tmp_path):
    rows = [change("1", "A01", "2026-04-01", "1", "1", name="髙橋 花子", relation="妻")]
    path = write_csv(tmp_path / "residents-changes.csv", rows, encoding="cp932")
    source, read = _read(path)
    assert source.encoding == CP932
    assert read[0].record["name"] == "髙橋 花子"
    assert read[0].record["relation"] == "妻"


@pytest.mark.parametrize(
    "data",
    [
        b"record_id,change_code\r\n1,\x82\xff\r\n",  # a CP932 lead byte with no trail byte
        "record_id".encode("utf-16"),  # UTF-16 (Excel's "Unicode text")
        b"\x00\x01\x02\xff\xfe\x80\xa0",  # binary
    ],
)
def test_it_rejects_a_file_undecodable_as_utf8_and_cp932(tmp_path, data):
    path = tmp_path / "residents-changes.csv"
    path.write_bytes(data)
    with pytest.raises(ImportRejected) as error:
        _read(path)
    assert error.value.file_name == "residents-changes.csv"
    assert "文字コードを判別できません" in str(error.value)
    assert str(error.value).startswith("residents-changes.csv: ")


def test_it_rejects_an_empty_file(tmp_path):
    path = tmp_path / "residents-changes.csv"
    path.write_bytes(b"\r\n\r\n")
    with pytest.raises(ImportRejected, match="見出し行がありません"):
        _read(path)


def test_it_rejects_a_file_without_a_header(tmp_path):
    text = csv_text([change("1", "A01", "2026-04-01", "1", "1")], CHANGES_HEADER)
    path = tmp_path / "residents-changes.csv"
    path.write_text(text.split("\r\n", 1)[1], encoding="utf-8")
    with pytest.raises(
        ImportRejected, match="見出し行がありません（1 行目に住基異動の列名がありません"
    ):
        _read(path)


def test_it_rejects_a_file_with_missing_columns_naming_them(tmp_path):
    header = [c for c in CHANGES_HEADER if c not in ("change_date", "atena_no")]
    rows = [change("1", "A01", "2026-04-01", "1", "1")]
    path = tmp_path / "residents-changes.csv"
    path.write_text(csv_text([{k: r[k] for k in header if k in r} for r in rows], header))
    with pytest.raises(ImportRejected) as error:
        _read(path)
    assert error.value.reason == "必須の列がありません: change_date, atena_no"


def test_optional_columns_may_be_absent_from_the_header(tmp_path):
    optional = {"report_date", "foreign", "residence_status", "residence_until", "special_address"}
    header = [c for c in CHANGES_HEADER if c not in optional]
    row = {k: v for k, v in change("1", "A01", "2026-04-01", "1", "1").items() if k in header}
    path = tmp_path / "residents-changes.csv"
    path.write_text(csv_text([row], header))
    _, rows = _read(path)
    assert rows[0].record["foreign"] is False and rows[0].record["report_date"] is None


def test_it_rejects_a_duplicated_column_name(tmp_path):
    path = tmp_path / "residents-changes.csv"
    path.write_text(",".join([*CHANGES_HEADER, "atena_no"]) + "\r\n")
    with pytest.raises(ImportRejected, match="重複しています: atena_no"):
        _read(path)


def test_line_numbers_are_the_file_lines_skipping_blank_lines(tmp_path):
    text = csv_text(
        [change("1", "A01", "2026-04-01", "1", "1"), change("2", "A01", "2026-04-01", "2", "2")],
        CHANGES_HEADER,
    )
    header, first, second = text.strip().split("\r\n")
    path = tmp_path / "residents-changes.csv"
    path.write_text(f"{header}\r\n{first}\r\n\r\n{second}\r\n")
    _, rows = _read(path)
    assert [r.line for r in rows] == [2, 4]


def test_half_width_kana_and_full_width_digits_are_normalised(tmp_path):
    row = change("1", "A01", "令和8年4月1日", "１２３", "1", name_kana="ﾔﾏﾀﾞ ﾀﾛｳ")
    row |= {"change_code": "Ａ０１", "birth_date": "S55.1.2"}
    _, rows = _read(write_csv(tmp_path / "residents-changes.csv", [row]))
    record = rows[0].record
    assert record["name_kana"] == "ヤマダ\u3000タロウ"
    assert record["change_code"] == "A01" and record["atena_no"] == "123"
    assert str(record["change_date"]) == "2026-04-01" and str(record["birth_date"]) == "1980-01-02"


def _refusal(tmp_path, data: bytes) -> str:
    path = tmp_path / "residents-changes.csv"
    path.write_bytes(data)
    with pytest.raises(ImportRejected) as error:
        _read(path)
    return str(error.value)


def test_a_nul_or_control_character_is_named_with_its_line_and_column(tmp_path):
    good = csv_text([change("1", "A01", "2026-04-01", "1", "1")], CHANGES_HEADER)
    head, body = good.split("\r\n", 1)
    nul = f"{head}\r\n1,A\x0001{body[4:]}".encode()
    assert "制御文字（NUL）が含まれています（2 行目 4 文字目）" in _refusal(tmp_path, nul)
    escape = good.replace("試験 太郎", "試験\x1b太郎").encode("cp932")
    assert "制御文字（U+001B）" in _refusal(tmp_path, escape)


def test_a_utf16_file_without_bom_is_named_as_such(tmp_path):
    data = csv_text([change("1", "A01", "2026-04-01", "1", "1")], CHANGES_HEADER)
    for encoding in ("utf-16-le", "utf-16"):
        message = _refusal(tmp_path, data.encode(encoding))
        assert "UTF-16 で保存されたファイルの可能性があります" in message


def test_a_file_cut_short_is_refused_whole(tmp_path):
    rows = [change(str(n), "A01", "2026-04-01", str(n), str(n)) for n in range(1, 4)]
    data = csv_text(rows, CHANGES_HEADER).encode()
    message = _refusal(tmp_path, data[: len(data) - 25])  # the last line cut in the middle
    assert "末尾が改行で終わっていません（4 行目で途切れています）" in message


def test_a_too_long_field_and_an_open_quote_are_said_in_japanese(tmp_path):
    head = ",".join(CHANGES_HEADER)
    huge = f'{head}\r\n1,A01,"{"あ" * 200_000}"\r\n'.encode()
    assert "1 つの項目が 131,072 文字を超えています" in _refusal(tmp_path, huge)
    unclosed = f'{head}\r\n1,A01,"2026-04-01,1,1\r\n'.encode()
    message = _refusal(tmp_path, unclosed)
    assert "引用符" in message and "Error" not in message and "field" not in message
