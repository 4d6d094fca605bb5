"""The Shift_JIS check the ledger asks of every record: the fast set test says what the
character rule says, for every character of the BMP."""

from kokuho.national.charset import sjis_text, sjis_unwritable, sjis_writable


def test_the_set_test_is_the_character_rule_over_the_whole_bmp():
    differ = [
        code
        for code in range(0x10000)
        if not 0xD800 <= code < 0xE000
        and (not sjis_unwritable(chr(code))) != sjis_writable(chr(code))
    ]
    assert differ == []


def test_extensions_and_stray_single_bytes_are_refused_and_jis_x_0208_kept():
    assert sjis_writable("山田　太郎 ﾔﾏﾀﾞ 〜−")  # WAVE DASH / MINUS: their cp932 forms
    assert sjis_text("〜") == "～"
    for text in ("①", "㈱", "髙", "\u0080", "\uf8f0", "𠮷", "\ue000"):
        assert not sjis_writable(f"山田{text}"), text
        assert sjis_unwritable(f"山田{text}") == [text], text
