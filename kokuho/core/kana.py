"""氏名カナ (katakana name) normalisation: stored canonical form and prefix-search key.

Two different normal forms exist on purpose:

* :func:`normalize_kana_name` is the *stored* form (正規化された氏名カナ). It is lossless with
  respect to what a person would read: dakuten, small kana and the surname/given-name split are
  kept, only the encoding variants (half-width, hiragana, decomposed marks) are unified.
* :func:`kana_search_key` is the *search* form (検索キー). It deliberately throws information
  away (dakuten, small kana, spaces, middle dots) so that a clerk typing ``ｶﾄｳ`` finds カトウ,
  ガトウ and カドウ alike, which is how municipal 宛名検索 traditionally behaves.

This module is pure Python (no Django) so it can be used from models, forms, management
commands and batch imports alike.
"""

import unicodedata

import jaconv

__all__ = ["KanaError", "is_kana_query", "kana_search_key", "normalize_kana_name"]

IDEOGRAPHIC_SPACE = "\u3000"
LONG_VOWEL_MARK = "ー"

_COMBINING_DAKUTEN = "\u3099"
_COMBINING_HANDAKUTEN = "\u309a"

# ゛ and ゜ (U+309B/U+309C) are *spacing* marks: NFKC turns them into a space followed by the
# combining mark, which then cannot compose with the preceding kana. Turning them into the
# combining marks first lets NFKC compose カ゛ into ガ like any other spelling.
_SPACING_TO_COMBINING = str.maketrans(
    {"\u309b": _COMBINING_DAKUTEN, "\u309c": _COMBINING_HANDAKUTEN}
)

# Characters people type for ー. NFKC already maps half-width ｰ to ー and full-width － to '-',
# so only the post-NFKC spellings need listing here.
_LONG_VOWEL_VARIANTS = str.maketrans(
    {
        "-": LONG_VOWEL_MARK,  # hyphen-minus (also what NFKC makes of U+FF0D)
        "\u2010": LONG_VOWEL_MARK,  # hyphen
        "\u2011": LONG_VOWEL_MARK,  # non-breaking hyphen
        "\u2212": LONG_VOWEL_MARK,  # minus sign (what many IMEs produce for －)
    }
)

# jaconv.enlarge_smallkana covers ァィゥェォッャュョヵヶ; these are the small kana it misses.
# ㇰ..ㇿ (Katakana Phonetic Extensions, used for Ainu names) have no NFKC mapping at all.
_EXTRA_SMALL_KANA = str.maketrans(
    {
        "ヮ": "ワ",
        "ㇰ": "ク",
        "ㇱ": "シ",
        "ㇲ": "ス",
        "ㇳ": "ト",
        "ㇴ": "ヌ",
        "ㇵ": "ハ",
        "ㇶ": "ヒ",
        "ㇷ": "フ",
        "ㇸ": "ヘ",
        "ㇹ": "ホ",
        "ㇺ": "ム",
        "ㇻ": "ラ",
        "ㇼ": "リ",
        "ㇽ": "ル",
        "ㇾ": "レ",
        "ㇿ": "ロ",
    }
)

# Dakuten/handakuten (combining) and middle dots (・ and, after NFKC, also ･) are dropped from
# the search key. U+00B7 is included because it is what some foreign-name data sets use for ・.
_SEARCH_KEY_DROPPED = str.maketrans(
    dict.fromkeys([_COMBINING_DAKUTEN, _COMBINING_HANDAKUTEN, "・", "\u00b7"])
)


class KanaError(ValueError):
    """Raised when a 氏名カナ contains characters that cannot be stored as katakana."""


def _unify_encoding(text: str) -> str:
    """Full-width, composed katakana with ー: the part shared by the stored form and the key."""
    text = text.translate(_SPACING_TO_COMBINING)
    # NFKC: half-width → full-width katakana (composing ｶﾞ into ガ), full-width space → ' ',
    # full-width ASCII → ASCII, ｰ → ー, ･ → ・, and ligatures such as ヿ → コト.
    text = unicodedata.normalize("NFKC", text)
    text = jaconv.hira2kata(text)
    return text.translate(_LONG_VOWEL_VARIANTS)


def kana_search_key(text: str) -> str:
    """Return the 検索キー used for prefix search on 氏名カナ.

    Two spellings that a clerk would consider "the same name" produce the same key:

    * full-width / half-width katakana (ｶﾞｸ == ガク) and hiragana / katakana (がく == ガク);
    * composed / decomposed dakuten (ガ == カ+U+3099 == カ゛ == ｶﾞ);
    * 清音化: dakuten and handakuten are removed entirely (ガ→カ, パ→ハ, ヴ→ウ). This is a
      deliberate choice following municipal 宛名検索 practice: registered readings of the same
      surname vary (ヤマザキ/ヤマサキ, ナカジマ/ナカシマ), so the key must not distinguish them.
      Exact matching, where needed, is done on the stored :func:`normalize_kana_name` form;
    * small kana are enlarged (ァィゥェォッャュョヮヵヶ → アイウエオツヤユヨワカケ, also the
      half-width ｧｨｩｪｫｯｬｭｮ), so キャ matches キヤ, as in old systems without small kana;
    * whitespace (ASCII and U+3000) and middle dots (・ ･) are removed, so ヤマダ　タロウ is
      found by ヤマダタ;
    * the long vowel mark ー is kept; half-width ｰ and hyphen/minus look-alikes
      (-, U+2010, U+2212, U+FF0D) become ー.

    The key is not meant for display. Characters other than kana pass through NFKC
    unchanged in meaning, so a key of non-kana input is still a stable, comparable string.
    """
    text = _unify_encoding(text)
    # NFD splits every voiced kana (including ヴ, ヷ and ヾ) into base + combining mark, so
    # dropping the two combining marks is the whole of 清音化 without a hand-written table.
    text = unicodedata.normalize("NFD", text)
    text = text.translate(_SEARCH_KEY_DROPPED)
    text = jaconv.enlarge_smallkana(text).translate(_EXTRA_SMALL_KANA)
    text = "".join(ch for ch in text if not ch.isspace())
    # Recompose whatever non-kana combining sequences NFD left (e.g. Latin accents) so that the
    # key is itself normalised and applying the function twice changes nothing.
    return unicodedata.normalize("NFC", text)


def _is_storable_kana(ch: str) -> bool:
    # ・ stays: the registry writes foreign residents' names as ジョン・スミス.
    return "\u30a1" <= ch <= "\u30fa" or ch in "ーヽヾ・" or ch == IDEOGRAPHIC_SPACE


def normalize_kana_name(text: str) -> str:
    """Return the canonical stored form of a 氏名カナ.

    Full-width katakana with composed dakuten (NFC), hiragana converted to katakana, ー for
    long-vowel look-alikes, leading/trailing whitespace trimmed, and every run of whitespace
    inside the name (between 氏 and 名) replaced by a single full-width space U+3000.

    An empty or all-whitespace input returns ``""``; whether the field is required is the
    caller's decision.

    Raises :class:`KanaError` if, after normalisation, any character is not katakana
    (U+30A1–U+30FA), ー, ヽ, ヾ, ・ or U+3000 — e.g. kanji, Latin letters, digits or a
    dakuten that could not be combined with the preceding character.
    """
    text = _unify_encoding(text)
    text = " ".join(text.split())
    text = unicodedata.normalize("NFC", text).replace(" ", IDEOGRAPHIC_SPACE)
    for ch in text:
        if not _is_storable_kana(ch):
            raise KanaError(f"カナ氏名に使えない文字が含まれています: {_describe(ch)}")
    return text


def _describe(ch: str) -> str:
    # Combining marks and invisible characters are unreadable when quoted alone, so name them.
    if unicodedata.combining(ch) or not ch.isprintable():
        name = unicodedata.name(ch, "")
        return f"U+{ord(ch):04X} {name}".rstrip()
    return f"'{ch}'"


def _is_kana_letter(ch: str) -> bool:
    return (
        "\u3041" <= ch <= "\u3096"  # hiragana ぁ..ゖ
        or "\u309d" <= ch <= "\u309f"  # ゝ ゞ ゟ
        or "\u30a1" <= ch <= "\u30fa"  # katakana ァ..ヺ
        or "\u30fd" <= ch <= "\u30ff"  # ヽ ヾ ヿ
        or "\u31f0" <= ch <= "\u31ff"  # small katakana ㇰ..ㇿ
        or "\uff66" <= ch <= "\uff6f"  # half-width ｦ and small ｧ..ｯ
        or "\uff71" <= ch <= "\uff9d"  # half-width ｱ..ﾝ
    )


# Not letters, but allowed in a kana query: dakuten/handakuten in all four spellings plus the
# half-width ones, long vowel marks and their hyphen look-alikes, and middle dots.
_KANA_QUERY_MARKS = frozenset("\u3099\u309a\u309b\u309c\uff9e\uff9fーｰ-\u2010\u2011\u2212\uff0d・･")


def is_kana_query(text: str) -> bool:
    """True when a search query is meant as 氏名カナ rather than kanji, a number or a date.

    After stripping, the text must consist only of hiragana/katakana (full- or half-width),
    whitespace, dakuten marks, long vowel marks (and their hyphen look-alikes) and middle dots,
    and contain at least one kana letter — so ``"ー"`` or ``"  "`` are not kana queries.
    """
    text = text.strip()
    has_letter = False
    for ch in text:
        if _is_kana_letter(ch):
            has_letter = True
        elif not (ch.isspace() or ch in _KANA_QUERY_MARKS):
            return False
    return has_letter
