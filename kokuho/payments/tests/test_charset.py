"""全銀文字 conversion of names (kokuho.payments.charset). No database."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kokuho.payments.charset import (
    ZenginCharError,
    zengin_field,
    zengin_is_valid,
    zengin_text,
)


def _single_byte_in_cp932(text: str) -> bool:
    return len(text.encode("cp932")) == len(text)


# --- kana ------------------------------------------------------------------------------------


def test_it_turns_small_kana_into_full_size() -> None:
    assert zengin_text("キャッシュ") == "ｷﾔﾂｼﾕ"
    assert zengin_text("ファイヴ") == "ﾌｱｲｳﾞ"
    assert zengin_text("ヵヶヮ") == "ｶｹﾜ"


def test_it_turns_half_width_small_kana_into_full_size() -> None:
    assert zengin_text("ｷｬｯｼｭ") == "ｷﾔﾂｼﾕ"


def test_it_writes_a_voiced_kana_as_base_and_mark() -> None:
    assert zengin_text("ガッコウ") == "ｶﾞﾂｺｳ"
    assert len(zengin_text("ガ")) == 2


def test_it_writes_a_semi_voiced_kana_as_base_and_mark() -> None:
    assert zengin_text("パン") == "ﾊﾟﾝ"


def test_it_writes_vu_as_u_and_dakuten() -> None:
    assert zengin_text("ヴ") == "ｳﾞ"


def test_it_composes_spacing_and_decomposed_marks() -> None:
    assert zengin_text("カ゛ハ゜") == "ｶﾞﾊﾟ"
    assert zengin_text("カ\u3099") == "ｶﾞ"


def test_it_turns_the_long_vowel_mark_into_a_hyphen() -> None:
    assert zengin_text("スーパー") == "ｽ-ﾊﾟ-"
    assert zengin_text("ｽｰﾊﾟｰ") == "ｽ-ﾊﾟ-"


def test_it_turns_hiragana_into_katakana() -> None:
    assert zengin_text("やまだ たろう") == "ﾔﾏﾀﾞ ﾀﾛｳ"


def test_it_turns_wo_into_o() -> None:
    assert zengin_text("ヲカダ") == "ｵｶﾀﾞ"
    assert zengin_text("ｦｶﾀﾞ") == "ｵｶﾀﾞ"
    assert "ｦ" not in zengin_text("をの")


def test_it_turns_wi_and_we_into_i_and_e() -> None:
    assert zengin_text("ヰヱ") == "ｲｴ"


def test_it_writes_the_middle_dot_as_a_full_stop() -> None:
    assert zengin_text("ジョン・スミス") == "ｼﾞﾖﾝ.ｽﾐｽ"


# --- latin, digits, spaces -------------------------------------------------------------------


def test_it_turns_full_width_ascii_into_ascii() -> None:
    assert zengin_text("ＡＢＣ　１２３") == "ABC 123"
    assert zengin_text("ミカン（カ）") == "ﾐｶﾝ(ｶ)"


def test_it_upper_cases_latin_letters() -> None:
    assert zengin_text("abc ｄｅｆ") == "ABC DEF"


def test_it_collapses_and_trims_spaces() -> None:
    assert zengin_text("\u3000ヤマダ\u3000\u3000 タロウ  ") == "ﾔﾏﾀﾞ ﾀﾛｳ"


# --- legal-entity abbreviations --------------------------------------------------------------


def test_it_abbreviates_an_entity_at_the_start() -> None:
    assert zengin_text("株式会社ミカン") == "ｶ)ﾐｶﾝ"


def test_it_abbreviates_an_entity_at_the_end() -> None:
    assert zengin_text("ミカン株式会社") == "ﾐｶﾝ(ｶ"


def test_it_abbreviates_an_entity_in_the_middle() -> None:
    assert zengin_text("ミカン株式会社ミナミシテン") == "ﾐｶﾝ(ｶ)ﾐﾅﾐｼﾃﾝ"


def test_it_drops_the_spaces_around_an_entity() -> None:
    assert zengin_text("ミカン 株式会社 ミナミシテン") == "ﾐｶﾝ(ｶ)ﾐﾅﾐｼﾃﾝ"
    assert zengin_text("株式会社　ミカン") == "ｶ)ﾐｶﾝ"


def test_it_takes_the_longest_entity_word() -> None:
    assert zengin_text("医療法人社団サクラカイ") == "ｲ)ｻｸﾗｶｲ"
    assert zengin_text("社会医療法人サクラカイ") == "ｲ)ｻｸﾗｶｲ"
    assert zengin_text("地方独立行政法人ミカン") == "ﾁﾄﾞｸ)ﾐｶﾝ"


def test_it_abbreviates_the_katakana_reading_of_an_entity() -> None:
    assert zengin_text("カブシキガイシャミカン") == "ｶ)ﾐｶﾝ"
    assert zengin_text("ミカンカブシキガイシヤ") == "ﾐｶﾝ(ｶ"
    assert zengin_text("ｲﾘﾖｳﾎｳｼﾞﾝｼﾔﾀﾞﾝ ｻｸﾗｶｲ") == "ｲ)ｻｸﾗｶｲ"


def test_it_abbreviates_the_bracketed_kabu_sign() -> None:
    assert zengin_text("㈱ミカン") == "ｶ)ﾐｶﾝ"
    assert zengin_text("ミカン(株)") == "ﾐｶﾝ(ｶ"


def test_it_abbreviates_a_voiced_abbreviation() -> None:
    assert zengin_text("学校法人ミカンガクエン") == "ｶﾞｸ)ﾐｶﾝｶﾞｸｴﾝ"
    assert zengin_text("ミカン合同会社") == "ﾐｶﾝ(ﾄﾞ"


def test_it_keeps_the_entity_word_when_not_abbreviating() -> None:
    assert zengin_text("カブシキガイシャミカン", abbreviate=False) == "ｶﾌﾞｼｷｶﾞｲｼﾔﾐｶﾝ"
    with pytest.raises(ZenginCharError):
        zengin_text("株式会社ミカン", abbreviate=False)


# --- refusals --------------------------------------------------------------------------------


def test_it_refuses_kanji_naming_the_character() -> None:
    with pytest.raises(ZenginCharError) as caught:
        zengin_text("山田タロウ")
    assert caught.value.code == "invalid_character"
    assert "'山'" in caught.value.message
    assert "'田'" in caught.value.message


def test_it_refuses_kanji_next_to_an_entity_word() -> None:
    with pytest.raises(ZenginCharError) as caught:
        zengin_text("株式会社蜜柑")
    assert "'蜜'" in str(caught.value)


@pytest.mark.parametrize("char", [",", "'", "+", ":", "?", "、", "ヽ", "&"])
def test_it_refuses_punctuation_outside_the_set(char: str) -> None:
    with pytest.raises(ZenginCharError) as caught:
        zengin_text(f"ミカン{char}ミナミ")
    assert caught.value.code == "invalid_character"


def test_it_refuses_a_mark_without_a_kana_to_carry_it() -> None:
    with pytest.raises(ZenginCharError) as caught:
        zengin_text("ア゛")
    assert caught.value.code == "invalid_character"


@pytest.mark.parametrize("char", ["(", ")", "."])
def test_bank_kind_refuses_brackets_and_full_stop(char: str) -> None:
    with pytest.raises(ZenginCharError) as caught:
        zengin_text(f"ミカン{char}", kind="bank")
    assert caught.value.code == "invalid_character"
    assert not zengin_is_valid(f"ﾐｶﾝ{char}", kind="bank")
    assert zengin_is_valid(f"ﾐｶﾝ{char}", kind="payee")


def test_bank_kind_allows_the_hyphen() -> None:
    assert zengin_text("センター", kind="bank") == "ｾﾝﾀ-"


def test_bank_kind_never_abbreviates() -> None:
    with pytest.raises(ZenginCharError):
        zengin_text("カブシキガイシャ(ミカン)", kind="bank")
    assert zengin_text("ノウギヨウキヨウドウクミアイ", kind="bank") == "ﾉｳｷﾞﾖｳｷﾖｳﾄﾞｳｸﾐｱｲ"


@pytest.mark.parametrize("text", ["", "   ", "\u3000"])
def test_it_refuses_an_empty_name(text: str) -> None:
    with pytest.raises(ZenginCharError) as caught:
        zengin_text(text)
    assert caught.value.code == "empty"


# --- field width -----------------------------------------------------------------------------


def test_it_refuses_a_name_too_long_for_the_field_without_cutting() -> None:
    with pytest.raises(ZenginCharError) as caught:
        zengin_field("ガガガ", width=5)
    assert caught.value.code == "too_long"
    assert "6 文字" in caught.value.message
    assert "5 文字" in caught.value.message
    assert "ｶﾞｶﾞｶﾞ" in caught.value.message


def test_it_accepts_a_name_exactly_at_the_width() -> None:
    assert zengin_field("ガガガ", width=6) == "ｶﾞｶﾞｶﾞ"


def test_it_counts_the_abbreviated_name_against_the_width() -> None:
    assert zengin_field("株式会社ミカン", width=5) == "ｶ)ﾐｶﾝ"


# --- validity and encoding -------------------------------------------------------------------


def test_is_valid_refuses_what_the_banks_refuse() -> None:
    assert zengin_is_valid("ｶ)ﾐｶﾝ")
    assert not zengin_is_valid("ｦｶﾀﾞ")
    assert not zengin_is_valid("ｷｬ")
    assert not zengin_is_valid("abc")
    assert not zengin_is_valid("ﾐｶﾝ,")
    assert not zengin_is_valid("ミカン")
    assert not zengin_is_valid("ｱﾞ")
    assert not zengin_is_valid("ﾞｶ")
    assert not zengin_is_valid("")
    assert not zengin_is_valid("  ")


@pytest.mark.parametrize(
    "text",
    [
        "株式会社ミカン",
        "やまだ　たろう",
        "ヴァイオリン・ＳＣＨＯＯＬ",
        "医療法人社団サクラカイ",
        "ｽｰﾊﾟｰ 123",
        "キャッシュ",
    ],
)
def test_every_output_is_single_byte_in_cp932(text: str) -> None:
    result = zengin_text(text)
    assert _single_byte_in_cp932(result)
    assert zengin_is_valid(result)


_KANA_AND_SPACES = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x3041, max_codepoint=0x309F),  # hiragana and marks
        st.characters(min_codepoint=0x30A0, max_codepoint=0x30FF),  # katakana
        st.characters(min_codepoint=0xFF66, max_codepoint=0xFF9F),  # half-width katakana
        st.sampled_from([" ", "\u3000"]),
    ),
    max_size=40,
)


@given(_KANA_AND_SPACES)
def test_any_kana_text_converts_to_valid_single_byte_or_raises(text: str) -> None:
    try:
        result = zengin_text(text)
    except ZenginCharError:
        return
    assert zengin_is_valid(result)
    assert _single_byte_in_cp932(result)
