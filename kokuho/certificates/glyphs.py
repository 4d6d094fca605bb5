"""代替字: printing names and addresses whose characters the font does not have.

documents.md: "Names in the registry's characters; where a character is outside the font,
print the 代替字 and keep the original." The registry keeps the original (a 外字 such as 𠮷);
a document prints its usual 代替字 (吉) from `SUBSTITUTES`, or 〓 (げた) when none is known,
as municipal systems print an unregistered 外字, and the document's record keeps the original
beside the printed text so that staff can see what was substituted.
"""

from __future__ import annotations

from kokuho.core.pdf import font_covers

# Characters of the registry outside the fonts, and the 代替字 usually printed for them
# (JIS X 0213 第3・第4水準 and IVS forms common in names).
SUBSTITUTES = {
    "𠮷": "吉",  # つちよし
    "𡈽": "土",
    "𣘺": "橋",
    "𣘷": "橋",
    "𥔎": "碕",
    "𨻶": "隙",
    "𠀋": "丈",
    "𡋤": "坪",
    "𦚰": "脇",
    "𩜙": "館",
}
GETA = "〓"


def printable(text: str) -> tuple[str, bool]:
    """The text as the document prints it, and whether anything was substituted."""
    out = []
    changed = False
    for char in text:
        if char == "\n" or font_covers(char):
            out.append(char)
            continue
        # An ideographic variation selector only picks a glyph: print the base character.
        if 0xE0100 <= ord(char) <= 0xE01EF or 0xFE00 <= ord(char) <= 0xFE0F:
            changed = True
            continue
        replacement = SUBSTITUTES.get(char, GETA)
        out.append(replacement if font_covers(replacement) else GETA)
        changed = True
    return "".join(out), changed
