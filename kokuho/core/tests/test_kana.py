"""Tests for 氏名カナ normalisation (kokuho.core.kana)."""

import unicodedata

import jaconv
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kokuho.core.kana import KanaError, is_kana_query, kana_search_key, normalize_kana_name

# Katakana ァ..ヶ and hiragana ぁ..ゖ. ヷ..ヺ are left out because they have no hiragana twin.
KATAKANA_LETTERS = "".join(chr(c) for c in range(0x30A1, 0x30F7))
HIRAGANA_LETTERS = "".join(chr(c) for c in range(0x3041, 0x3097))

katakana_text = st.text(alphabet=KATAKANA_LETTERS + "ー　 ", max_size=20)
hiragana_text = st.text(alphabet=HIRAGANA_LETTERS + "ー　 ", max_size=20)


# --- kana_search_key --------------------------------------------------------------------------


class TestSearchKeyEquivalences:
    @pytest.mark.parametrize(
        "spelling",
        [
            "ガク",  # composed
            "カ\u3099ク",  # combining dakuten
            "カ゛ク",  # spacing dakuten U+309B
            "ｶﾞｸ",  # half-width
            "がく",  # hiragana
            "か\u3099く",  # hiragana + combining
            "か゛く",  # hiragana + spacing
            "カク",  # 清音
            "ｶｸ",
        ],
    )
    def test_all_spellings_of_gaku_share_a_key(self, spelling: str) -> None:
        assert kana_search_key(spelling) == "カク"

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("パン", "ハン"),
            ("ﾊﾟﾝ", "ハン"),
            ("ハ゜ン", "ハン"),
            ("ハ\u309aン", "ハン"),
            ("ぱん", "ハン"),
            ("ヴィ", "ウイ"),
            ("ｳﾞｨ", "ウイ"),
            ("ゔぃ", "ウイ"),
            ("ヷ", "ワ"),
            ("ヺ", "ヲ"),
            ("ヾ", "ヽ"),
            ("ゞ", "ヽ"),
            ("ヂヅ", "チツ"),
            ("バビブベボ", "ハヒフヘホ"),
            ("ピプペポ", "ヒフヘホ"),
        ],
    )
    def test_dakuten_and_handakuten_are_dropped(self, text: str, expected: str) -> None:
        assert kana_search_key(text) == expected

    @pytest.mark.parametrize(
        ("small", "large"),
        [
            ("ァィゥェォッャュョヮヵヶ", "アイウエオツヤユヨワカケ"),
            ("ｧｨｩｪｫｯｬｭｮ", "アイウエオツヤユヨ"),
            ("ぁぃぅぇぉっゃゅょゎゕゖ", "アイウエオツヤユヨワカケ"),
            ("ㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿ", "クシストヌハヒフヘホムラリルレロ"),
        ],
    )
    def test_small_kana_are_enlarged(self, small: str, large: str) -> None:
        assert kana_search_key(small) == large

    def test_kyo_matches_kiyo(self) -> None:
        assert kana_search_key("キョウコ") == kana_search_key("キヨウコ") == "キヨウコ"

    @pytest.mark.parametrize(
        "text",
        [
            "ヤマダ タロウ",
            "ヤマダ　タロウ",
            " ヤマダ\tタロウ\n",
            "ヤマダ  　 タロウ",
            "ﾔﾏﾀﾞ ﾀﾛｳ",
            "ヤマ・ダタロウ",
            "ﾔﾏ･ﾀﾞﾀﾛｳ",
        ],
    )
    def test_whitespace_and_middle_dots_are_removed(self, text: str) -> None:
        assert kana_search_key(text) == "ヤマタタロウ"

    @pytest.mark.parametrize(
        "text",
        ["ジョージ", "ｼﾞｮｰｼﾞ", "ジョ-ジ", "ジョ\u2212ジ", "ジョ\uff0dジ", "ジョ\u2010ジ", "じょーじ"],
    )
    def test_long_vowel_mark_is_kept_and_unified(self, text: str) -> None:
        assert kana_search_key(text) == "シヨーシ"

    def test_long_vowel_is_not_dropped(self) -> None:
        # ー carries meaning (オオノ vs オーノ are different registrations); only look-alikes merge.
        assert kana_search_key("オーノ") != kana_search_key("オノ")

    def test_prefix_of_key_is_key_of_prefix_for_typed_query(self) -> None:
        # The point of the key: a partial half-width query is a prefix of the stored key.
        stored = kana_search_key("ヤマザキ　ジュンイチロウ")
        assert stored.startswith(kana_search_key("ﾔﾏｻｷ ｼﾞｭﾝ"))
        assert stored.startswith(kana_search_key("やまざき"))

    def test_empty_and_whitespace_only(self) -> None:
        assert kana_search_key("") == ""
        assert kana_search_key(" 　\t") == ""

    def test_full_width_ascii_is_folded_but_letters_kept(self) -> None:
        assert kana_search_key("ＡＢＣ１２") == "ABC12"

    def test_non_kana_combining_sequences_stay_composed(self) -> None:
        # NFD is used to strip dakuten; other accents must come back composed, or keys built
        # by other code (e.g. a database function using NFC) would not compare equal.
        assert kana_search_key("ルネ・ﾃﾞｭﾗﾝ é") == "ルネテユランé"
        assert kana_search_key("e\u0301") == "\u00e9"

    @given(st.text(max_size=40))
    def test_key_is_nfc(self, text: str) -> None:
        assert unicodedata.is_normalized("NFC", kana_search_key(text))


class TestSearchKeyProperties:
    @given(st.text(max_size=40))
    def test_idempotent(self, text: str) -> None:
        key = kana_search_key(text)
        assert kana_search_key(key) == key

    @given(hiragana_text)
    def test_hiragana_and_katakana_share_key(self, text: str) -> None:
        assert kana_search_key(text) == kana_search_key(jaconv.hira2kata(text))

    @given(katakana_text)
    def test_half_width_and_full_width_share_key(self, text: str) -> None:
        half = jaconv.z2h(text, kana=True, ascii=False, digit=False)
        assert kana_search_key(half) == kana_search_key(text)

    @given(katakana_text)
    def test_decomposed_and_composed_share_key(self, text: str) -> None:
        assert kana_search_key(unicodedata.normalize("NFD", text)) == kana_search_key(text)

    @given(st.text(max_size=40))
    def test_key_has_no_whitespace_dots_or_marks(self, text: str) -> None:
        key = kana_search_key(text)
        assert not any(ch.isspace() for ch in key)
        assert not set(key) & set("・･\u3099\u309a゛゜ﾞﾟァィゥェォッャュョヮヵヶぁぃぅぇぉ")

    @given(katakana_text)
    def test_key_of_katakana_is_stable_under_stored_normalisation(self, text: str) -> None:
        assert kana_search_key(normalize_kana_name(text)) == kana_search_key(text)


# --- normalize_kana_name ----------------------------------------------------------------------


class TestNormalizeKanaName:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("ヤマダ　タロウ", "ヤマダ　タロウ"),
            ("ヤマダ タロウ", "ヤマダ　タロウ"),
            ("  ヤマダ   タロウ  ", "ヤマダ　タロウ"),
            ("ヤマダ\t　 タロウ", "ヤマダ　タロウ"),
            ("ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダ　タロウ"),
            ("やまだ たろう", "ヤマダ　タロウ"),
            ("ヤマダタロウ", "ヤマダタロウ"),
            ("ｶﾞｸ", "ガク"),
            ("カ\u3099ク", "ガク"),
            ("カ゛ク", "ガク"),
            ("ハ゜ン", "パン"),
            ("ｳﾞｨｸﾄﾙ", "ヴィクトル"),
            ("ゔぃくとる", "ヴィクトル"),
            ("ｼﾞｮｰｼﾞ", "ジョージ"),
            ("ジョ-ジ", "ジョージ"),
            ("ジョ－ジ", "ジョージ"),
            ("ｷｮｳｺ", "キョウコ"),  # small kana are kept in the stored form
            ("ヰヱヲ", "ヰヱヲ"),
            ("ヷヸヹヺ", "ヷヸヹヺ"),
            ("いすゞ", "イスヾ"),
            ("", ""),
            ("　 ", ""),
        ],
    )
    def test_canonical_form(self, text: str, expected: str) -> None:
        assert normalize_kana_name(text) == expected

    def test_keeps_the_middle_dot_of_foreign_names(self) -> None:
        assert normalize_kana_name("ｼﾞｮﾝ･ｽﾐｽ") == "ジョン・スミス"

    def test_result_is_nfc(self) -> None:
        result = normalize_kana_name("カ\u3099ク")
        assert len(result) == 2
        assert unicodedata.is_normalized("NFC", result)

    @pytest.mark.parametrize(
        ("text", "bad"),
        [
            ("山田　タロウ", "'山'"),
            ("ヤマダ1", "'1'"),
            ("YAMADA", "'Y'"),
            ("ヤマダ_タロウ", "'_'"),
            ("\u3099ア", "U+3099"),  # a dakuten with nothing to attach to
            ("ア\u3099", "U+3099"),  # ア has no voiced form
            ("ヤマダ\u200bタロウ", "U+200B"),
        ],
    )
    def test_rejects_non_kana(self, text: str, bad: str) -> None:
        with pytest.raises(KanaError) as excinfo:
            normalize_kana_name(text)
        message = str(excinfo.value)
        assert message.startswith("カナ氏名に使えない文字が含まれています: ")
        assert bad in message

    def test_kana_error_is_value_error(self) -> None:
        assert issubclass(KanaError, ValueError)

    @given(st.text(max_size=30))
    def test_any_text_gives_storable_kana_or_kana_error(self, text: str) -> None:
        try:
            result = normalize_kana_name(text)
        except KanaError:
            return
        assert result == result.strip()
        assert "　　" not in result
        for ch in result:
            assert "\u30a1" <= ch <= "\u30fa" or ch in "ーヽヾ\u3000"

    @given(st.text(alphabet=KATAKANA_LETTERS + HIRAGANA_LETTERS + "ー　 \t", max_size=30))
    def test_idempotent_on_kana(self, text: str) -> None:
        once = normalize_kana_name(text)
        assert normalize_kana_name(once) == once

    @given(hiragana_text)
    def test_hiragana_is_stored_as_katakana(self, text: str) -> None:
        assert normalize_kana_name(text) == normalize_kana_name(jaconv.hira2kata(text))


# --- is_kana_query ----------------------------------------------------------------------------


class TestIsKanaQuery:
    @pytest.mark.parametrize(
        "text",
        [
            "ヤマダ",
            "やまだ",
            "ﾔﾏﾀﾞ",
            "ヤマダ　タロウ",
            " ﾔﾏﾀﾞ ﾀﾛｳ ",
            "カ゛ク",
            "カ\u3099ク",
            "ジョージ",
            "ｼﾞｮｰｼﾞ",
            "ジョ-ジ",
            "ジョン・スミス",
            "ｧ",
            "ヴ",
            "ゟ",
        ],
    )
    def test_kana_queries(self, text: str) -> None:
        assert is_kana_query(text) is True

    @pytest.mark.parametrize(
        "text",
        [
            "",
            "   ",
            "ー",
            "ー・ ",
            "゛",
            "山田",
            "ヤマ田",
            "yamada",
            "ヤマダ1",
            "123456789012",
            "S35.5.10",
            "ヤマダ?",
        ],
    )
    def test_non_kana_queries(self, text: str) -> None:
        assert is_kana_query(text) is False

    @given(katakana_text.filter(lambda t: t.strip(" 　ー")))
    def test_any_katakana_text_is_a_kana_query(self, text: str) -> None:
        assert is_kana_query(text)

    @given(
        katakana_text,
        st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
        katakana_text,
    )
    def test_text_with_kanji_is_never_a_kana_query(
        self, before: str, kanji: str, after: str
    ) -> None:
        assert not is_kana_query(before + kanji + after)
