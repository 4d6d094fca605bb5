"""Shift_JIS-representable text (national.md: "CP932 on read, Shift_JIS-representable on
write"): JIS X 0208 characters only, written with the cp932 codec.

cp932 also carries the NEC and IBM extensions (①, ㈱, 髙 …) and user-defined 外字, which a
receiving system that reads Shift_JIS may not have: those, and anything outside cp932, are
refused so the caller can make a work item — never a silent `?`.
"""

import re

# The same JIS X 0208 code points, as Unicode spells them in the shift_jis and cp932 codecs
# (WAVE DASH / FULLWIDTH TILDE …): the cp932 form is the one written.
# (str.translate with a table walks the text in Python-level steps, 30 µs for a record's
# line; seven `in` tests and the rare replace are a hundred times faster.)
_SAME_CODE_POINT = (
    ("〜", "～"), ("−", "－"), ("‖", "∥"), ("¢", "￠"), ("£", "￡"), ("¬", "￢"), ("—", "―"),
)  # fmt: skip
# Lead bytes outside JIS X 0208: row 13 (NEC special), NEC-selected IBM, user area, IBM.
_EXTENSION_LEADS = frozenset([0x87, 0xED, 0xEE, *range(0xF0, 0xFD)])


def _writable_characters() -> frozenset[str]:
    """Every character `sjis_unwritable` accepts: ASCII, 半角カナ and the cp932 double-byte
    codes outside the extension rows, decoded once (a test checks the set against the
    character-by-character rule over the whole BMP)."""
    chars = {chr(c) for c in range(0x80)}
    chars |= {bytes([b]).decode("cp932") for b in range(0xA1, 0xE0)}
    for lead in [*range(0x81, 0xA0), *range(0xE0, 0xFD)]:
        if lead in _EXTENSION_LEADS:
            continue
        for trail in [*range(0x40, 0x7F), *range(0x80, 0xFD)]:
            try:
                chars.add(bytes([lead, trail]).decode("cp932"))
            except UnicodeDecodeError:
                continue
    return frozenset(chars)


_WRITABLE = _writable_characters()
# The set as one character class: a match runs in C, where a set test hashes each character.
_ALL_WRITABLE = re.compile("[" + "".join(re.escape(c) for c in sorted(_WRITABLE)) + "]*")


def sjis_writable(text: str) -> bool:
    """`not sjis_unwritable(text)`, decided in one match (the extract asks it of every
    record)."""
    return text.isascii() or _ALL_WRITABLE.fullmatch(sjis_text(text)) is not None


def sjis_text(text: str) -> str:
    """The text as written (code-point-equivalent forms unified)."""
    for unicode_form, cp932_form in _SAME_CODE_POINT:
        if unicode_form in text:
            text = text.replace(unicode_form, cp932_form)
    return text


def sjis_unwritable(text: str) -> list[str]:
    """The characters of `text` that Shift_JIS (JIS X 0208 + ASCII + 半角カナ) cannot carry."""
    bad = []
    for char in sjis_text(text):
        try:
            raw = char.encode("cp932")
        except UnicodeEncodeError:
            bad.append(char)
            continue
        if len(raw) == 2 and raw[0] in _EXTENSION_LEADS:
            bad.append(char)
        elif len(raw) == 1 and raw[0] >= 0x80 and not 0xA1 <= raw[0] <= 0xDF:
            bad.append(char)  # cp932's single bytes 0x80, 0xA0, 0xFD–0xFF: not Shift_JIS
    return bad
