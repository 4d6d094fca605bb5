"""Shift_JIS-representable text (national.md: "CP932 on read, Shift_JIS-representable on
write"): JIS X 0208 characters only, written with the cp932 codec.

cp932 also carries the NEC and IBM extensions (①, ㈱, 髙 …) and user-defined 外字, which a
receiving system that reads Shift_JIS may not have: those, and anything outside cp932, are
refused so the caller can make a work item — never a silent `?`.
"""

# The same JIS X 0208 code points, as Unicode spells them in the shift_jis and cp932 codecs
# (WAVE DASH / FULLWIDTH TILDE …): the cp932 form is the one written.
_SAME_CODE_POINT = str.maketrans(
    {"〜": "～", "−": "－", "‖": "∥", "¢": "￠", "£": "￡", "¬": "￢", "—": "―"}
)
# Lead bytes outside JIS X 0208: row 13 (NEC special), NEC-selected IBM, user area, IBM.
_EXTENSION_LEADS = frozenset([0x87, 0xED, 0xEE, *range(0xF0, 0xFD)])


def sjis_text(text: str) -> str:
    """The text as written (code-point-equivalent forms unified)."""
    return text.translate(_SAME_CODE_POINT)


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
    return bad
