"""全銀文字 (Zengin characters): names converted for the 全銀協 総合振込 transfer file.

The transfer file allows only single-byte JIS X 0201 characters, and the banks narrow that
further per field:

* ``kind="payee"`` — 振込依頼人名 (remitter name) and 受取人名 (payee name): 半角カナ
  without ｦ and without small kana, ﾞ ﾟ, A–Z, 0–9, space and ``( ) - .``;
* ``kind="bank"`` — 銀行名 / 支店名 (bank and branch names): the same with ``-`` as the only
  punctuation.

Conversion unifies what people type (hiragana, full-width letters, small kana, ー, ㈱ …) and
replaces 法人略語 (legal-entity words such as 株式会社) by the banks' abbreviations, read from
``data/legal_entities.yaml``. It never shortens a name: a name that does not fit its field is
an error the caller turns into a work item, because a silently cut payee name can make the
receiving bank reject or misroute the transfer.

Pure Python (no Django), so batch jobs and forms can share it.
"""

import functools
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import jaconv
import yaml

__all__ = ["ZenginCharError", "zengin_field", "zengin_is_valid", "zengin_text"]

Kind = Literal["payee", "bank"]

LEGAL_ENTITIES_PATH = Path(__file__).resolve().parent / "data" / "legal_entities.yaml"

_DAKUTEN = "\uff9e"  # ﾞ
_HANDAKUTEN = "\uff9f"  # ﾟ
_MARKS = frozenset(_DAKUTEN + _HANDAKUTEN)

# ｱ..ﾝ plus the two marks. ｦ (U+FF66), the small kana ｧ..ｯ and ｰ lie just below U+FF71,
# which is why a range is enough and no table of allowed kana is needed.
_HALF_WIDTH_KANA = frozenset(chr(c) for c in range(0xFF71, 0xFFA0))
_ALNUM = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ ")
_ALLOWED: dict[str, frozenset[str]] = {
    "payee": _HALF_WIDTH_KANA | _ALNUM | frozenset("()-."),
    "bank": _HALF_WIDTH_KANA | _ALNUM | frozenset("-"),
}

# ゛ ゜ (U+309B/C) are spacing marks: NFKC would make them a space plus a combining mark that
# no longer composes with the kana before it. As combining marks, カ゛ composes into ガ.
_SPACING_MARKS = str.maketrans({"\u309b": "\u3099", "\u309c": "\u309a"})

# ー and its look-alikes all mean the 全銀 '-'. ・ has no 全銀 character; the banks (and
# zengin-code's own data) write it as '.'. NFKC has already turned ｰ into ー and ･ into ・.
_PUNCTUATION = str.maketrans(
    {
        "ー": "-",
        "\u2010": "-",  # hyphen
        "\u2011": "-",  # non-breaking hyphen
        "\u2012": "-",  # figure dash
        "\u2013": "-",  # en dash
        "\u2212": "-",  # minus sign, what many IMEs produce for －
        "・": ".",
    }
)

# ヲ, ヰ and ヱ have no place in 全銀 names (ｦ is refused by the banks, ヰ ヱ have no
# half-width form); the banks write them as the vowel they are read as.
_OBSOLETE_KANA = str.maketrans({"ヲ": "オ", "ヰ": "イ", "ヱ": "エ"})
_COMBINING_TO_HALF = str.maketrans({"\u3099": _DAKUTEN, "\u309a": _HANDAKUTEN})


class ZenginCharError(ValueError):
    """A name that cannot be written as 全銀文字 (Zengin characters) in its field.

    ``code`` is one of ``"empty"``, ``"invalid_character"``, ``"too_long"``; the message is
    Japanese and meant for the clerk who fixes the name.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class _Entity:
    abbreviation: str
    source: str


def _enlarge_small_kana(text: str) -> str:
    # Every small katakana (ァ, ッ, ヵ, ヶ, ヮ, and ㇰ..ㇿ used for Ainu names) is named
    # "KATAKANA LETTER SMALL X" with a full-size "KATAKANA LETTER X", so the Unicode names
    # give the mapping without a hand-written table.
    out = []
    for ch in text:
        name = unicodedata.name(ch, "")
        if name.startswith("KATAKANA LETTER SMALL "):
            ch = unicodedata.lookup(name.replace("SMALL ", "", 1))
        out.append(ch)
    return "".join(out)


def _unify(text: str) -> str:
    """Full-width, composed katakana, ASCII letters upper case, single spaces, big kana."""
    text = text.translate(_SPACING_MARKS)
    # NFKC: half-width → full-width katakana (composing ｶﾞ into ガ), full-width ASCII and
    # space → ASCII, ㈱ → (株), ㍿ → 株式会社.
    text = unicodedata.normalize("NFKC", text)
    text = jaconv.hira2kata(text)
    text = text.translate(_PUNCTUATION)
    # Only ASCII is upper-cased: str.upper() would turn ß into SS and hide a bad character.
    text = "".join(ch.upper() if "a" <= ch <= "z" else ch for ch in text)
    text = " ".join(text.split())
    return _enlarge_small_kana(text)


@functools.cache
def _legal_entities() -> tuple[re.Pattern[str], dict[str, _Entity]]:
    """The 法人略語 table: one regex over all words and word → entity, from the YAML file."""
    data = yaml.safe_load(LEGAL_ENTITIES_PATH.read_text(encoding="utf-8"))
    by_word: dict[str, _Entity] = {}
    for item in data["entities"]:
        entity = _Entity(abbreviation=item["abbreviation"], source=item["source"])
        if not zengin_is_valid(entity.abbreviation, kind="bank"):
            raise ValueError(f"{LEGAL_ENTITIES_PATH}: bad abbreviation {entity.abbreviation!r}")
        # Words go through the same unification as names, so ャ/ヤ spellings match alike.
        for word in {_unify(w) for w in item["words"]}:
            if by_word.get(word, entity) != entity:
                raise ValueError(f"{LEGAL_ENTITIES_PATH}: {word!r} is in two entries")
            by_word[word] = entity
    # Longest first, because the regex takes the first alternative that matches.
    words = sorted(by_word, key=len, reverse=True)
    pattern = re.compile(" ?(?:" + "|".join(map(re.escape, words)) + ") ?")
    return pattern, by_word


def _abbreviate(text: str) -> str:
    """Replace 法人略語 words: ｶ) at the start, (ｶ at the end, (ｶ) in the middle."""
    pattern, by_word = _legal_entities()

    def replace(match: re.Match[str]) -> str:
        # Back to full width (ﾄﾞ → ド) so the abbreviation is converted to half width with the
        # rest of the name and its marks are checked against their kana like any other.
        abbreviation = unicodedata.normalize("NFKC", by_word[match.group().strip()].abbreviation)
        if match.start() == 0:
            return f"{abbreviation})"
        if match.end() == len(text):
            return f"({abbreviation}"
        return f"({abbreviation})"

    # The optional spaces around a word are part of the match: the bracket is the separator.
    return pattern.sub(replace, text)


def _to_half_width(ch: str) -> str:
    # NFD splits voiced kana (ガ, ヴ, ヷ …) into base + combining mark; the mark becomes its
    # own byte ﾞ/ﾟ and jaconv gives the half-width base.
    decomposed = unicodedata.normalize("NFD", ch).translate(_OBSOLETE_KANA)
    return jaconv.z2h(decomposed.translate(_COMBINING_TO_HALF), kana=True, ascii=False)


def _describe(ch: str) -> str:
    # Combining marks and invisible characters are unreadable when quoted alone.
    if unicodedata.combining(ch) or not ch.isprintable():
        return f"U+{ord(ch):04X} {unicodedata.name(ch, '')}".rstrip()
    return f"'{ch}'"


def _invalid_character_error(characters: list[str]) -> ZenginCharError:
    shown = ", ".join(_describe(ch) for ch in dict.fromkeys(characters))
    return ZenginCharError("invalid_character", f"全銀の文字に変換できない文字があります: {shown}")


def zengin_text(text: str, *, kind: Kind = "payee", abbreviate: bool = True) -> str:
    """Any typed name → 全銀文字 (half-width Zengin characters), without a length check.

    Hiragana become katakana, full-width letters and digits become ASCII, lower case becomes
    upper case, small kana become full size (キャ → ｷﾔ), ー becomes ``-``, ・ becomes ``.``,
    ヲ ヰ ヱ become ｵ ｲ ｴ, a voiced kana becomes two characters (ガ → ｶﾞ, ヴ → ｳﾞ), and runs
    of spaces become one half-width space, trimmed at both ends.

    For ``kind="payee"`` with ``abbreviate`` the 法人略語 (legal-entity words) of
    ``data/legal_entities.yaml`` are replaced by their abbreviation; bank names never are,
    since their field has no brackets.

    Raises :class:`ZenginCharError` ``"invalid_character"`` naming every character that has
    no 全銀 form (kanji outside a legal-entity word, ``,``, ヽ …, and ``( ) .`` for banks), and
    ``"empty"`` when nothing is left.
    """
    unified = _unify(text)
    if kind == "payee" and abbreviate:
        unified = _abbreviate(unified)
    allowed = _ALLOWED[kind]
    out: list[str] = []
    bad: list[str] = []
    # NFC so that each voiced kana is one character here: a combining mark still standing alone
    # after NFC had no kana to join and is refused rather than written as a stray ﾞ.
    for ch in unicodedata.normalize("NFC", unified):
        half = _to_half_width(ch)
        if unicodedata.combining(ch) or not _uses_only(half, allowed):
            bad.append(ch)
        else:
            out.append(half)
    if bad:
        raise _invalid_character_error(bad)
    result = "".join(out)
    if not result:
        raise ZenginCharError("empty", "名前が空です（全銀の文字にすると何も残りません）")
    return result


def zengin_field(text: str, *, width: int, kind: Kind = "payee", abbreviate: bool = True) -> str:
    """:func:`zengin_text`, then checked against the field's ``width`` in characters.

    Every 全銀 character, ﾞ and ﾟ included, is one byte in the file, so the width is counted
    in characters. A longer name raises :class:`ZenginCharError` ``"too_long"`` and is never
    cut: only a person can decide how to shorten a payee name.
    """
    if width < 1:
        raise ValueError(f"width must be positive, not {width}")
    result = zengin_text(text, kind=kind, abbreviate=abbreviate)
    if len(result) > width:
        raise ZenginCharError(
            "too_long",
            f"全銀の文字にすると {len(result)} 文字で、欄の {width} 文字を超えます: {result}",
        )
    return result


def zengin_is_valid(text: str, *, kind: Kind = "payee") -> bool:
    """True when an already converted text uses only the 全銀文字 allowed for its kind.

    Also requires ﾞ/ﾟ to follow a kana that takes it (ｶﾞ, ﾊﾟ, ｳﾞ; not ｱﾞ or a leading ﾞ),
    and at least one character that is not a space.
    """
    return bool(text.strip()) and _uses_only(text, _ALLOWED[kind])


def _uses_only(text: str, allowed: frozenset[str]) -> bool:
    previous = ""
    for ch in text:
        if ch not in allowed:
            return False
        # A mark is valid where NFKC composes it with its base into one voiced kana.
        if ch in _MARKS:
            composed = unicodedata.normalize("NFKC", previous + ch)
            if len(composed) != 1 or unicodedata.combining(composed):
                return False
        previous = ch
    return True
