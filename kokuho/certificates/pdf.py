"""証・通知 as PDF: 資格確認書, 資格情報のお知らせ and the three 認定証.

Plain data in, PDF bytes out: the services read the issued documents, build frozen
dataclasses (`DocumentPrint`, `InsurerInfo`, `DocumentAddressee`) and hand over a batch;
nothing here touches the database or a setting, so a 10,000-document renewal is one pass
over a list. Every document is checked and laid out before anything is drawn: a batch is
either a whole PDF or a `ValueError` naming the 交付番号 and the field.

Layout (A4 portrait, one page a document, folded in three for a 長3 window envelope; each
panel is 99 mm and nothing that must be read whole crosses a fold):

* panel 1 — the addressee block where the envelope's window shows it (〒, 住所, 氏名　様;
  only when `addressee` is given), 交付番号, 交付年月日 and 「{市}長」 top right, the cover
  title and a short cover text with the period the document is valid;
* panel 2 — the document itself: for 資格確認書 and the 認定証 a 91 × 55 mm card (名刺判)
  inside a dashed cut line, for 資格情報のお知らせ a table of the items;
* panel 3 — what to do with it (keep it, show it, report changes, return it), and the
  contact line at the foot when the insurer gives one.

The card never overflows: a value too wide for its cell is set smaller (down to a minimum),
then — in the cells that have room for two lines (住所, 認定疾病名) — broken, and otherwise
refused. Text is drawn on reportlab's canvas (no platypus) with the embedded IPAex fonts of
`kokuho.core.pdf` (Gothic for titles and labels, Mincho for values and prose), each page's
own text through one text object; the texts that are the same on every page of a kind (the
cover text, the notes) are drawn once into a form XObject and placed by reference. Widths
come from the font's own table, cached. `bench/certificates.py` measures a renewal batch.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.pdfgen.textobject import PDFTextObject

from kokuho.core.mynumber import mask_my_numbers_in
from kokuho.core.pdf import (
    GOTHIC,
    MINCHO,
    char_widths,
    font_covers,
    japanese_canvas,
    text_wrap,
)
from kokuho.core.wareki import format_wareki
from kokuho.rules.numbers import insurer_number_is_valid

__all__ = [
    "CARD_TYPES",
    "DOCUMENT_TITLES",
    "DocumentAddressee",
    "DocumentPrint",
    "InsurerInfo",
    "documents_pdf",
]

KAKUNINSHO = "kakuninsho"
OSHIRASE = "oshirase"
GENDOGAKU = "gendogaku"
GENGAKU = "gengaku"
TOKUTEI = "tokutei"

# The title printed on the card or notice (the values of `certificates.models.DocumentType`).
DOCUMENT_TITLES = {
    KAKUNINSHO: "国民健康保険資格確認書",
    OSHIRASE: "資格情報のお知らせ",
    GENDOGAKU: "国民健康保険限度額適用認定証",
    GENGAKU: "国民健康保険限度額適用・標準負担額減額認定証",
    TOKUTEI: "国民健康保険特定疾病療養受療証",
}
CARD_TYPES = (KAKUNINSHO, GENDOGAKU, GENGAKU, TOKUTEI)  # printed as a card to cut out

# The 区分 each type can print (documents.md): the 限度額 certificate under-70 ア–エ and
# 70–74 現役並みⅠ/Ⅱ, the 減額 certificate for 住民税非課税 households; a 資格確認書 any 区分
# the person asks to have printed. Which one a person gets is `certificates.rules`' business.
_CATEGORIES = {
    GENDOGAKU: ("ア", "イ", "ウ", "エ", "現役並みⅠ", "現役並みⅡ"),
    GENGAKU: ("オ", "低所得Ⅱ", "低所得Ⅰ"),
    KAKUNINSHO: ("ア", "イ", "ウ", "エ", "オ", "現役並みⅢ", "現役並みⅡ", "現役並みⅠ", "一般",
                 "低所得Ⅱ", "低所得Ⅰ"),
}  # fmt: skip


# --- Input ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class InsurerInfo:
    municipality: str  # "みかん市": printed as 保険者名 and in 「みかん市長」
    insurer_number: str  # "389999": 保険者番号, 6 digits for a 市町村国保
    contact: str = ""  # printed at the foot when given


@dataclass(frozen=True)
class DocumentAddressee:
    postal_code: str  # "799-0001" ("" when the registry has none: no 〒 is printed)
    address: str  # "\n" starts a new line (方書)
    name: str  # 世帯主 氏名


@dataclass(frozen=True)
class DocumentPrint:
    doc_type: str  # one of DOCUMENT_TITLES
    serial: str  # 交付番号
    issued_on: date  # 交付年月日
    valid_from: date  # 発効期日 / 有効期間の初日
    valid_until: date | None  # 有効期限 (None: no end)
    symbol: str  # 記号
    number: str  # 番号
    branch: str  # 枝番 (2 digits)
    name: str  # 氏名
    birth_date: date
    sex: str  # "男" | "女"
    acquired_on: date | None  # 資格取得年月日
    head_name: str  # 世帯主氏名
    address: str  # 住所 ("\n" read as a space on the card)
    copay_rate: str | None = None  # 一部負担金の割合 ("3割")
    copay_from: date | None = None  # 70–74: the 割合's 発効期日
    category: str | None = None  # 限度額適用区分 / 適用区分
    long_stay_from: date | None = None  # 減額認定証: 長期入院該当年月日
    disease: str | None = None  # 特定疾病: 認定疾病名
    limit_amount: int | None = None  # 特定疾病: 自己負担限度額 (yen)
    addressee: DocumentAddressee | None = None  # mailed: the address block is printed


# --- Public entry point ---------------------------------------------------------------------


def documents_pdf(docs: Sequence[DocumentPrint], *, insurer: InsurerInfo) -> bytes:
    """One PDF for a batch, each document starting on a new page, in the given order.

    Raises ValueError (nothing is drawn) for an empty batch, an unknown type, an item the
    type must print that is missing or malformed, an item of another kind of certificate, a
    character outside the font, anything shaped like a 個人番号, and text that does not fit.
    """
    if not docs:
        raise ValueError("印刷する証・通知がありません")
    _check_insurer(insurer)
    pages = [_page(doc, insurer) for doc in docs]  # every check before the first stroke
    return _render(pages, docs, insurer)


# --- Text measuring, fitting and breaking ---------------------------------------------------


def _units(text: str, font: str) -> float:
    return sum(map(char_widths(font).__getitem__, text))


def _width(text: str, font: str, size: float) -> float:
    return _units(text, font) * size / 1000.0


# An ASCII run (番地 1-2-3, amounts, 12か月) and a word in full-width letters (a foreign
# name as the registry writes it, ＭＡＲＩＡ) stay whole; such lines break at spaces.
_TOKEN = re.compile(r"[\x21-\x7e]+(?:か月)?|[Ａ-Ｚａ-ｚ０-９]+| +|.")


def _wrap(text: str, font: str, size: float, width: float) -> tuple[str, ...]:
    """`kokuho.core.pdf.text_wrap` with this module's words (see `_TOKEN`); a hanging
    character (ぶら下げ) is refused by `_fit` where nothing may stick out."""
    return text_wrap(text, font, size, width, _TOKEN)


@lru_cache(maxsize=8192)
def _fit(
    text: str, font: str, size: float, smallest: float, width: float, max_lines: int = 1
) -> tuple[float, tuple[str, ...]] | None:
    """The size and lines ``text`` is set in to fit ``width`` points, or None.

    One line at ``size``; else one line set smaller, down to ``smallest`` (for a cell with
    room for more lines only down to 85 % of ``size``, so that a long 住所 reads better on
    two lines than squeezed on one); else broken into ``max_lines`` lines at the largest
    size, in half points, that lets it; else None.
    """
    units = _units(text, font)
    if units * size <= width * 1000.0:
        return size, (text,)
    one_line = math.floor(width * 1000.0 / units * 10) / 10 if units else size
    floor = smallest if max_lines == 1 else max(smallest, size * 0.85)
    if one_line >= floor:
        return one_line, (text,)
    step = size
    while max_lines > 1 and step >= smallest - 1e-9:
        lines = _wrap(text, font, step, width)
        if len(lines) <= max_lines and all(_width(x, font, step) <= width for x in lines):
            return step, lines  # (a hanging 、 or 円 must not stick out of a card either)
        step -= 0.5
    return None


def _yen(amount: int) -> str:
    return f"{amount:,}円"


def _symbol_number(doc: DocumentPrint) -> str:
    return f"記号 {doc.symbol}　番号 {doc.number}　（枝番）{doc.branch}"


# --- Validation -----------------------------------------------------------------------------

# Field names as the message gives them (Japanese, with the attribute in brackets).
_FIELD_NAMES = {
    "serial": "交付番号",
    "symbol": "記号",
    "number": "番号",
    "branch": "枝番",
    "name": "氏名",
    "sex": "性別",
    "head_name": "世帯主氏名",
    "address": "住所",
    "copay_rate": "一部負担金の割合",
    "copay_from": "一部負担金の割合の発効期日",
    "category": "適用区分",
    "long_stay_from": "長期入院該当年月日",
    "disease": "認定疾病名",
    "limit_amount": "自己負担限度額",
    "valid_until": "有効期限",
    "valid_from": "発効期日",
    "acquired_on": "資格取得年月日",
    "birth_date": "生年月日",
    "addressee.postal_code": "宛先の郵便番号",
    "addressee.address": "宛先の住所",
    "addressee.name": "宛先の氏名",
    "municipality": "保険者名",
    "insurer_number": "保険者番号",
    "contact": "問い合わせ先",
    "doc_type": "種類",
    "issued_on": "交付年月日",
}

# What each type must have (beyond what every document has) …
_REQUIRED = {
    KAKUNINSHO: ("valid_until", "acquired_on", "copay_rate"),
    OSHIRASE: ("acquired_on", "copay_rate"),
    GENDOGAKU: ("valid_until", "category"),
    GENGAKU: ("valid_until", "category"),
    TOKUTEI: ("disease", "limit_amount"),
}
# … and the items of one kind of certificate that no other type may carry.
_ONLY_ON = {
    "long_stay_from": (GENGAKU,),
    "disease": (TOKUTEI,),
    "limit_amount": (TOKUTEI,),
}
_POSTAL = re.compile(r"[0-9]{3}-[0-9]{4}")


def _field(name: str) -> str:
    return f"{_FIELD_NAMES.get(name, name)}（{name}）"


def _label(doc: DocumentPrint) -> str:
    title = DOCUMENT_TITLES.get(doc.doc_type, doc.doc_type)
    return f"交付番号 {mask_my_numbers_in(doc.serial)}（{title}）"


def _texts(doc: DocumentPrint) -> Iterable[tuple[str, str]]:
    """(field, text) of every string the document prints, for the font and 個人番号 checks."""
    for name in ("serial", "symbol", "number", "branch", "name", "sex", "head_name", "address"):
        yield name, getattr(doc, name)
    for name in ("copay_rate", "category", "disease"):
        value = getattr(doc, name)
        if value:
            yield name, value
    if doc.addressee is not None:
        for name in ("postal_code", "address", "name"):
            yield f"addressee.{name}", getattr(doc.addressee, name)


def _check_strings(where: str, texts: Iterable[tuple[str, str]]) -> None:
    for name, text in texts:
        missing = sorted({c for c in text if c != "\n" and not font_covers(c)})
        if missing:
            raise ValueError(
                f"{where}: {_field(name)}にフォントにない文字があります（代替字にしてください）: "
                + " ".join(f"{c}(U+{ord(c):04X})" for c in missing)
            )
        if mask_my_numbers_in(text) != text:
            raise ValueError(
                f"{where}: {_field(name)}に個人番号と同じ形の数字があります"
                "（個人番号は印字しません）"
            )


def _check_insurer(insurer: InsurerInfo) -> None:
    where = "保険者情報"
    _check_strings(
        where,
        [("municipality", insurer.municipality), ("insurer_number", insurer.insurer_number),
         ("contact", insurer.contact)],
    )  # fmt: skip
    if not insurer.municipality.strip():
        raise ValueError(f"{where}: {_field('municipality')}がありません")
    number = insurer.insurer_number
    if len(number) != 6 or not insurer_number_is_valid(number):  # 市町村国保: 6 digits
        raise ValueError(f"{where}: {_field('insurer_number')}は検証番号の合う数字6桁です")


def _check(doc: DocumentPrint) -> None:
    if doc.doc_type not in DOCUMENT_TITLES:
        raise ValueError(
            f"{_label(doc)}: 種類（doc_type）「{doc.doc_type}」の証・通知は印刷できません"
        )
    where = _label(doc)
    _check_strings(where, _texts(doc))
    for name in ("serial", "symbol", "number", "name", "address"):
        if not getattr(doc, name).strip():
            raise ValueError(f"{where}: {_field(name)}がありません")
    if not re.fullmatch(r"[0-9]{2}", doc.branch):
        raise ValueError(f"{where}: {_field('branch')}は数字2桁です")
    if doc.sex not in ("男", "女"):
        raise ValueError(f"{where}: {_field('sex')}は「男」か「女」です")
    for name in _REQUIRED[doc.doc_type]:
        value = getattr(doc, name)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise ValueError(f"{where}: {_field(name)}がありません（この種類では必ず印字します）")
    for name, types in _ONLY_ON.items():  # (an empty string is as good as None)
        if getattr(doc, name) not in (None, "") and doc.doc_type not in types:
            raise ValueError(f"{where}: {_field(name)}はこの種類の証・通知には印字しません")
    if doc.doc_type in (KAKUNINSHO, OSHIRASE) and doc.copay_from and not doc.copay_rate:
        raise ValueError(f"{where}: {_field('copay_from')}に対応する一部負担金の割合がありません")
    if doc.doc_type == OSHIRASE and doc.copay_from and doc.valid_until is None:
        # 70–74: the お知らせ carries the 割合, so it has an end (documents.md).
        raise ValueError(
            f"{where}: 70〜74歳（一部負担金の割合の発効期日あり）のお知らせには"
            f"{_field('valid_until')}が必要です"
        )
    if doc.valid_until is not None and doc.valid_until < doc.valid_from:
        raise ValueError(f"{where}: {_field('valid_until')}が発効期日より前です")
    if doc.birth_date > doc.issued_on:
        raise ValueError(f"{where}: {_field('birth_date')}が交付年月日より後です")
    if doc.acquired_on is not None and doc.acquired_on < doc.birth_date:
        raise ValueError(f"{where}: {_field('acquired_on')}が生年月日より前です")
    if doc.category is not None and doc.doc_type in _CATEGORIES:
        if doc.category not in _CATEGORIES[doc.doc_type]:
            allowed = "・".join(_CATEGORIES[doc.doc_type])
            raise ValueError(
                f"{where}: {_field('category')}「{doc.category}」は{DOCUMENT_TITLES[doc.doc_type]}"
                f"に印字できません（{allowed}）"
            )
    elif doc.category is not None and doc.category not in _CATEGORIES[KAKUNINSHO]:
        raise ValueError(f"{where}: {_field('category')}「{doc.category}」は区分ではありません")
    if doc.limit_amount is not None and doc.limit_amount <= 0:
        raise ValueError(f"{where}: {_field('limit_amount')}は1円以上です")
    a = doc.addressee
    if a is not None:
        for name in ("address", "name"):
            if not getattr(a, name).strip():
                raise ValueError(f"{where}: {_field('addressee.' + name)}がありません")
        if a.postal_code and not _POSTAL.fullmatch(a.postal_code):
            raise ValueError(f"{where}: {_field('addressee.postal_code')}は「799-0001」の形です")


# --- Geometry (points; y grows upwards as in PDF) -------------------------------------------

PAGE_W, PAGE_H = A4
LEFT = 20 * mm
RIGHT = PAGE_W - 20 * mm
WIDTH = RIGHT - LEFT
PANEL = 99 * mm  # 三つ折り for a 長3 envelope: folds at 99 and 198 mm from the top
FOOT = 12 * mm  # baseline of the contact line
ADDRESS_X = 25 * mm  # the addressee block sits in a 長3 window envelope's window
ADDRESS_W = 85 * mm
TITLE_Y = PAGE_H - 65 * mm  # cover title baseline: below the window, in panel 1
BODY_TOP = PAGE_H - 71 * mm
BODY = (MINCHO, 10.5, 15.0)  # font, size, leading
NOTE = (MINCHO, 9.0, 13.5)
DOCUMENT_TOP = PAGE_H - PANEL - 8 * mm  # where panel 2's content starts

CARD_W, CARD_H = 91 * mm, 55 * mm  # 名刺判: fits a card case, as the paper 保険証 did
CARD_X = (PAGE_W - CARD_W) / 2
CARD_TOP = PAGE_H - 114 * mm
CARD_PAD = 2.2 * mm
CARD_INNER = CARD_W - 2 * CARD_PAD
CARD_TITLE_H = 6.5 * mm
ROW_H = 4.2 * mm
ROW2_H = 7.2 * mm  # a row with room for two lines (住所, 認定疾病名)
SERIAL_H = 3.0 * mm
CARD_LABEL = (GOTHIC, 5.8, 4.5)  # font, size, smallest
CARD_VALUE = (MINCHO, 8.0, 6.0)
CARD_NAME = (MINCHO, 9.5, 6.0)
CARD_STRONG = (GOTHIC, 8.5, 6.0)  # 有効期限, 適用区分, 自己負担限度額
LABEL_W = 17 * mm
HALF = CARD_INNER / 2
HAIRLINE = 0.3
LINE = 0.6
GREY = 0.9

_Run = tuple[str, float, float, float, str]  # font, size, x, baseline y, text
_Style = tuple[str, float, float]  # font, size, smallest size
_Rule = tuple[float, float, float, float]  # x1, y1, x2, y2 (a hairline)
_Box = tuple[float, float, float, float]  # x, y, w, h


@dataclass(frozen=True, eq=False)
class _Fixed:
    """Text that is the same on every page of a kind (cover text, notes): drawn once into a
    form XObject and placed on each page by reference, so its cost is paid once a batch."""

    runs: tuple[_Run, ...]


@dataclass(slots=True)
class _Page:
    runs: list[_Run | _Fixed]  # in reading order
    rules: list[_Rule]
    cut: _Box | None = None  # the card's dashed cut line
    boxes: tuple[_Box, ...] = ()  # framed boxes (the お知らせ table)
    fills: tuple[_Box, ...] = ()  # grey fills (its label column)


class _Overflow(Exception):
    """A value that does not fit where it is printed (raised as ValueError with the serial)."""

    def __init__(self, field: str, place: str) -> None:
        self.field, self.place = field, place


def _fitted(text: str, style: _Style, width: float, field: str,
            place: str, max_lines: int = 1) -> tuple[float, tuple[str, ...]]:  # fmt: skip
    font, size, smallest = style
    fit = _fit(text, font, size, smallest, width, max_lines)
    if fit is None:
        raise _Overflow(field, place)
    return fit


# --- Fixed texts ----------------------------------------------------------------------------

_COVER_TITLES = {
    KAKUNINSHO: "国民健康保険資格確認書の{}について",
    OSHIRASE: "資格情報のお知らせ",
    GENDOGAKU: "国民健康保険限度額適用認定証の{}について",
    GENGAKU: "国民健康保険限度額適用・標準負担額減額認定証の{}について",
    TOKUTEI: "国民健康保険特定疾病療養受療証の{}について",
}

_SHOW = (
    "入院や外来で受診するときは、資格確認書（またはマイナ保険証）とあわせて医療機関等の窓口に"
    "提示してください。"
)
_MYNA_LIMIT = (
    "マイナ保険証で受診するときは、限度額の情報の提供に同意すれば、この認定証を提示しなくても"
    "限度額が適用されます。"
)
_CUT = "切り取り線に沿って切り取り、大切に保管してください。他の人との貸し借りはできません。"
_REAPPLY = "有効期限の後も引き続き必要なときは、改めて申請してください。"


def _cover_body(doc_type: str, mailed: bool) -> str:
    verb = "お送りします" if mailed else "交付します"
    return {
        KAKUNINSHO: f"　国民健康保険の資格確認書を{verb}。医療機関や薬局で受診するときは、"
        "この資格確認書を窓口に提示してください。",
        OSHIRASE: "　あなたの国民健康保険の資格情報をお知らせします。医療機関や薬局では、"
        "マイナ保険証（健康保険証として利用登録をしたマイナンバーカード）をご利用ください。",
        GENDOGAKU: f"　申請のあった限度額適用認定証を{verb}。{_SHOW}1か月の窓口でのお支払いが、"
        "適用区分に応じた自己負担限度額までになります。",
        GENGAKU: f"　申請のあった限度額適用・標準負担額減額認定証を{verb}。{_SHOW}"
        "1か月の窓口でのお支払いが適用区分に応じた自己負担限度額までになり、入院したときの"
        "食事代（標準負担額）が減額されます。",
        TOKUTEI: f"　申請のあった特定疾病療養受療証を{verb}。認定疾病の治療を受けるときは、"
        "資格確認書（またはマイナ保険証）とあわせて医療機関等の窓口に提示してください。"
        "認定疾病の治療にかかる1か月の自己負担額は、医療機関等ごとに、入院・外来それぞれ"
        "自己負担限度額までになります。",
    }[doc_type]


def _notes(doc_type: str, municipality: str) -> tuple[str, list[str]]:
    """The heading and numbered notes of panel 3."""
    changed = "住所・氏名・世帯主などが変わったときは、14日以内に届け出てください。"
    if doc_type == KAKUNINSHO:
        return "資格確認書の取り扱いについて", [
            _CUT + "記載内容を書き換えると使えなくなります。",
            changed + "新しい資格確認書を交付します。",
            "有効期限が過ぎたとき、就職して勤務先の健康保険に加入したときなど国民健康保険の"
            f"資格がなくなったとき、新しい資格確認書が届いたときは、古い資格確認書を{municipality}"
            "に返してください。",
            "マイナンバーカードを健康保険証として利用する登録（マイナ保険証の利用登録）をすると、"
            "医療機関等でマイナンバーカードを使って受診できます。",
            "限度額適用区分の記載を希望する方は、お申し出ください。",
        ]
    if doc_type == OSHIRASE:
        return "マイナ保険証のご利用について", [
            "医療機関等ではマイナ保険証をご利用ください。受付のカードリーダーにマイナンバー"
            "カードを置いて、顔認証または暗証番号で本人確認をしてください。",
            "カードリーダーの不具合などでマイナ保険証による資格確認ができないときは、マイナ"
            "保険証とこのお知らせを一緒に提示してください。",
            "このお知らせだけでは受診できません。マイナンバーカードをなくしたときや、マイナ保険証"
            f"の利用が難しいときは、{municipality}にお申し出ください。資格確認書を交付します。",
            changed + "国民健康保険の資格がなくなったときは、このお知らせは使えません"
            "（返す必要はありません）。",
        ]
    when, noun = (
        ("認定の要件に当たらなくなったとき", "受療証")
        if doc_type == TOKUTEI
        else ("適用区分が変わったとき", "認定証")
    )
    give_back = (
        f"有効期限が過ぎたとき、国民健康保険の資格がなくなったとき、{when}は、この{noun}を"
        f"{municipality}に返してください。"
    )
    if doc_type == TOKUTEI:
        return "特定疾病療養受療証の取り扱いについて", [_CUT, changed, give_back]
    notes = [_MYNA_LIMIT, _CUT, give_back, _REAPPLY]
    if doc_type == GENGAKU:
        notes.insert(
            1,
            "適用区分がオまたは低所得Ⅱの方で、過去12か月の入院日数が90日を超えたときは、申請に"
            "より入院したときの食事代がさらに減額されます（長期入院該当）。入院日数のわかる"
            "領収書などを添えて申請してください。",
        )
    return "認定証の取り扱いについて", notes


@lru_cache(maxsize=64)
def _fixed_head(doc_type: str, mailed: bool) -> tuple[_Fixed, float]:
    """Cover title and body (the same on every page of a type): runs and the next top."""
    title = _COVER_TITLES[doc_type].format("送付" if mailed else "交付")
    size = 15.0 if _width(title, GOTHIC, 15.0) <= WIDTH else 13.0
    runs = [(GOTHIC, size, (PAGE_W - _width(title, GOTHIC, size)) / 2, TITLE_Y, title)]
    font, size, leading = BODY
    top = BODY_TOP
    for line in _wrap(_cover_body(doc_type, mailed), font, size, WIDTH):
        runs.append((font, size, LEFT, top - size, line))
        top -= leading
    if top - leading < PAGE_H - PANEL:  # with the period sentence, all in panel 1
        raise AssertionError(f"{doc_type}: the cover text crosses the first fold")
    return _Fixed(tuple(runs)), top


@lru_cache(maxsize=64)
def _fixed_notes(doc_type: str, municipality: str, top: float) -> _Fixed:
    heading, notes = _notes(doc_type, municipality)
    runs: list[_Run] = [(GOTHIC, 10.5, LEFT, top - 10.5, f"■ {heading}")]
    top -= 7.5 * mm
    font, size, leading = NOTE
    for number, note in enumerate(notes, start=1):
        mark = f"{number}　"
        indent = _width(mark, font, size)
        for i, line in enumerate(_wrap(note, font, size, WIDTH - indent - 3 * mm)):
            if i == 0:
                runs.append((font, size, LEFT + 3 * mm, top - size, mark))
            runs.append((font, size, LEFT + 3 * mm + indent, top - size, line))
            top -= leading
        top -= 1.5
    if top < FOOT + 8 * mm:
        raise AssertionError(f"{doc_type}: notes overflow the page")  # fixed text: a bug here
    return _Fixed(tuple(runs))


# --- Page layout ----------------------------------------------------------------------------


def _page(doc: DocumentPrint, insurer: InsurerInfo) -> _Page:
    _check(doc)
    try:
        return _layout(doc, insurer)
    except _Overflow as overflow:
        raise ValueError(
            f"{_label(doc)}: {_field(overflow.field)}が{overflow.place}に収まりません"
            "（文字を小さくしても入りません）"
        ) from None


def _layout(doc: DocumentPrint, insurer: InsurerInfo) -> _Page:
    runs: list[_Run | _Fixed] = []
    rules: list[_Rule] = []
    if doc.addressee is not None:
        runs += _addressee(doc.addressee)
    runs += _top_right(doc, insurer)
    head, top = _fixed_head(doc.doc_type, doc.addressee is not None)
    runs.append(head)
    period = _period_sentence(doc)
    if period:
        font, size, leading = BODY
        runs.append((font, size, LEFT, top - size, period))
        top -= leading
    page = _Page(runs, rules)
    if doc.doc_type == OSHIRASE:
        bottom = _oshirase_table(doc, insurer, page)
    else:
        bottom = _card(doc, insurer, page)
    runs.append(_fixed_notes(doc.doc_type, insurer.municipality, bottom - 9 * mm))
    if insurer.contact:
        text = f"問い合わせ先　{insurer.contact}"
        size, (line,) = _fitted(text, (GOTHIC, 9.0, 7.0), WIDTH, "contact", "ページの下端")
        runs.append((GOTHIC, size, LEFT, FOOT, line))
    return page


def _addressee(a: DocumentAddressee) -> list[_Run]:
    """〒, 住所 (up to 3 lines) and 氏名　様 (up to 2) inside the 長3 window (≈ 13–58 mm)."""
    runs: list[_Run] = []
    if a.postal_code:
        runs.append((GOTHIC, 10.0, ADDRESS_X, PAGE_H - 22 * mm, f"〒{a.postal_code}"))
    lines = _wrap(a.address, MINCHO, 10.5, ADDRESS_W)
    size = 10.5
    if len(lines) > 3:
        size, lines = _fitted(
            a.address.replace("\n", "　"), (MINCHO, 10.5, 8.0), ADDRESS_W, "addressee.address",
            "封筒の窓", max_lines=3,
        )  # fmt: skip
    y = PAGE_H - 29 * mm
    for line in lines:
        runs.append((MINCHO, size, ADDRESS_X, y, line))
        y -= size * 1.43
    size, lines = _fitted(
        f"{a.name}　様", (MINCHO, 13.0, 10.0), ADDRESS_W - 4 * mm, "addressee.name", "封筒の窓",
        max_lines=2,
    )  # fmt: skip
    y -= 8
    for line in lines:
        runs.append((MINCHO, size, ADDRESS_X + 4 * mm, y, line))
        y -= size * 1.38
    return runs


def _right(font: str, size: float, y: float, text: str) -> _Run:
    return (font, size, RIGHT - _width(text, font, size), y, text)


def _top_right(doc: DocumentPrint, insurer: InsurerInfo) -> list[_Run]:
    serial = f"交付番号　{doc.serial}"
    if _width(serial, GOTHIC, 9) > 65 * mm:
        raise _Overflow("serial", "右上の欄")
    return [
        _right(GOTHIC, 9.0, PAGE_H - 20 * mm, serial),
        _right(MINCHO, 10.5, PAGE_H - 27 * mm, format_wareki(doc.issued_on)),
        _right(MINCHO, 11.0, PAGE_H - 35 * mm, f"{insurer.municipality}長"),
    ]


def _period_sentence(doc: DocumentPrint) -> str:
    """「この資格確認書は令和8年8月1日から令和9年7月31日まで使えます。」 (not on お知らせ)."""
    if doc.doc_type == OSHIRASE:
        return ""
    noun = {KAKUNINSHO: "この資格確認書", TOKUTEI: "この受療証"}.get(doc.doc_type, "この認定証")
    start = format_wareki(doc.valid_from)
    if doc.valid_until is None:
        return f"　{noun}は{start}から使えます。"
    return f"　{noun}は{start}から{format_wareki(doc.valid_until)}まで使えます。"


# A card row is a list of cells: (x offset, width, label width, label, value, style, field,
# lines), x and widths inside the card's padding.
_Cell = tuple[float, float, float, str, str, _Style, str, int]


def _full(label: str, value: str, field: str, style: _Style = CARD_VALUE, lines: int = 1) -> _Cell:
    return (0.0, CARD_INNER, LABEL_W, label, value, style, field, lines)


def _left(label: str, value: str, field: str, style: _Style = CARD_VALUE) -> _Cell:
    return (0.0, HALF, LABEL_W, label, value, style, field, 1)


def _second(label: str, value: str, field: str, style: _Style = CARD_VALUE) -> _Cell:
    return (HALF, HALF, LABEL_W, label, value, style, field, 1)


def _narrow(x: float, width: float, label: str, value: str, field: str) -> _Cell:
    """記号, 番号, 枝番: the label takes only its own width."""
    label_w = _width(label, CARD_LABEL[0], CARD_LABEL[1]) + 1.8 * mm
    return (x, width, label_w, label, value, CARD_VALUE, field, 1)


def _card_rows(doc: DocumentPrint, insurer: InsurerInfo) -> list[list[_Cell]]:
    wareki = format_wareki
    address = doc.address.replace("\n", "　")
    number_row = [
        _narrow(0.0, 27 * mm, "記号", doc.symbol, "symbol"),
        _narrow(27 * mm, 38 * mm, "番号", doc.number, "number"),
        _narrow(65 * mm, CARD_INNER - 65 * mm, "（枝番）", doc.branch, "branch"),
    ]
    insurer_row = [
        _left("保険者番号", insurer.insurer_number, "insurer_number"),
        _second("保険者名", insurer.municipality, "municipality"),
    ]
    birth = [
        _left("生年月日", wareki(doc.birth_date), "birth_date"),
        _second("性別", doc.sex, "sex"),
    ]
    issued = wareki(doc.issued_on)
    if doc.doc_type == KAKUNINSHO:
        assert doc.valid_until is not None and doc.acquired_on is not None  # _check
        rows = [
            number_row,
            [_full("氏名", doc.name, "name", CARD_NAME)],
            birth,
            [_full("世帯主氏名", doc.head_name, "head_name")],
            [_full("住所", address, "address", lines=2)],
            [_left("資格取得年月日", wareki(doc.acquired_on), "acquired_on"),
             _second("交付年月日", issued, "issued_on")],
        ]  # fmt: skip
        until = _left("有効期限", wareki(doc.valid_until), "valid_until", CARD_STRONG)
        rate = ("一部負担金の割合", doc.copay_rate or "", "copay_rate", CARD_STRONG)
        if not doc.copay_from and not doc.category:
            rows.append([until, _second(*rate)])
        else:  # 70–74 or with the 区分: the 割合 and its 発効期日 share a row
            rows.append([until])
            if doc.category:
                rows[-1].append(_second("限度額適用区分", doc.category, "category", CARD_STRONG))
            rows.append([_left(*rate)])
            if doc.copay_from:
                rows[-1].append(_second("発効期日", wareki(doc.copay_from), "copay_from"))
        return [*rows, insurer_row]
    person = [
        number_row,
        [_full("被保険者氏名", doc.name, "name", CARD_NAME)],
        birth,
    ]
    valid_until = wareki(doc.valid_until) if doc.valid_until else "—"
    if doc.doc_type == TOKUTEI:
        # The 受療証 is the person's own: the 世帯主 is not printed (room for the disease).
        assert doc.disease is not None and doc.limit_amount is not None  # _check
        return [
            *person,
            [_full("住所", address, "address", lines=2)],
            [_full("認定疾病名", doc.disease, "disease", lines=2)],
            [_left("自己負担限度額", _yen(doc.limit_amount), "limit_amount", CARD_STRONG),
             _second("発効期日", wareki(doc.valid_from), "valid_from")],
            [_left("有効期限", valid_until, "valid_until"),
             _second("交付年月日", issued, "issued_on")],
            insurer_row,
        ]  # fmt: skip
    rows = [
        *person,
        [_full("世帯主氏名", doc.head_name, "head_name")],
        [_full("世帯主住所", address, "address", lines=2)],
        [_left("適用区分", doc.category or "", "category", CARD_STRONG),
         _second("交付年月日", issued, "issued_on")],
        [_left("発効期日", wareki(doc.valid_from), "valid_from"),
         _second("有効期限", valid_until, "valid_until")],
    ]  # fmt: skip
    if doc.long_stay_from:
        rows.append([_full("長期入院該当年月日", wareki(doc.long_stay_from), "long_stay_from")])
    return [*rows, insurer_row]


def _card(doc: DocumentPrint, insurer: InsurerInfo, page: _Page) -> float:
    """The card in panel 2: title, rows of label and value, the 交付番号; returns its bottom."""
    runs, rules = page.runs, page.rules
    caption = "- - - 切り取り線に沿って切り取ってお使いください - - -"
    runs.append((MINCHO, 7.5, (PAGE_W - _width(caption, MINCHO, 7.5)) / 2, CARD_TOP + 2 * mm,
                 caption))  # fmt: skip
    x0 = CARD_X + CARD_PAD
    top = CARD_TOP - CARD_PAD
    title = DOCUMENT_TITLES[doc.doc_type]
    size, (title,) = _fitted(title, (GOTHIC, 10.5, 7.0), CARD_INNER, "doc_type", "カード")
    runs.append((GOTHIC, size, CARD_X + (CARD_W - _width(title, GOTHIC, size)) / 2,
                 top - CARD_TITLE_H + 2.2 * mm, title))  # fmt: skip
    top -= CARD_TITLE_H
    rules.append((x0, top, x0 + CARD_INNER, top))
    bottom_limit = CARD_TOP - CARD_H + CARD_PAD + SERIAL_H
    for row in _card_rows(doc, insurer):
        height = ROW2_H if any(cell[7] > 1 for cell in row) else ROW_H
        if top - height < bottom_limit - 0.01:
            raise _Overflow(row[0][6], "カード")
        for x, width, label_w, label, value, style, field, max_lines in row:
            lsize, (label,) = _fitted(label, CARD_LABEL, label_w - 1.6 * mm, field, "カード")
            runs.append((GOTHIC, lsize, x0 + x + 0.6 * mm, top - height / 2 - lsize * 0.35, label))
            value_x = x0 + x + label_w
            value_w = width - label_w - 1 * mm
            vsize, lines = _fitted(value, style, value_w, field, "カード", max_lines)
            leading = vsize * 1.18
            y = top - (height - leading * len(lines)) / 2 - vsize * 0.88
            for line in lines:
                runs.append((style[0], vsize, value_x, y, line))
                y -= leading
        top -= height
        rules.append((x0, top, x0 + CARD_INNER, top))
        if len(row) == 2 and row[1][0] == HALF:  # a vertical rule between two halves
            rules.append((x0 + HALF - 0.6 * mm, top, x0 + HALF - 0.6 * mm, top + height))
    serial = f"交付番号 {doc.serial}"
    size, (serial,) = _fitted(serial, (GOTHIC, 5.5, 4.5), CARD_INNER, "serial", "カード")
    runs.append((GOTHIC, size, x0 + CARD_INNER - _width(serial, GOTHIC, size),
                 CARD_TOP - CARD_H + CARD_PAD + 0.6 * mm, serial))  # fmt: skip
    page.cut = (CARD_X, CARD_TOP - CARD_H, CARD_W, CARD_H)
    return CARD_TOP - CARD_H


def _oshirase_table(doc: DocumentPrint, insurer: InsurerInfo, page: _Page) -> float:
    """The items of the お知らせ as a two-column table in panel 2; returns its bottom."""
    wareki = format_wareki
    assert doc.acquired_on is not None  # _check
    rows: list[tuple[str, str, str, bool]] = [
        ("記号・番号（枝番）", _symbol_number(doc), "symbol", False),
        ("氏名", doc.name, "name", True),
        ("生年月日", wareki(doc.birth_date), "birth_date", False),
        ("資格取得年月日", wareki(doc.acquired_on), "acquired_on", False),
        ("一部負担金の割合", doc.copay_rate or "", "copay_rate", True),
    ]
    if doc.copay_from:
        rows.append(("割合の発効期日", wareki(doc.copay_from), "copay_from", False))
    if doc.valid_until:
        rows.append(("有効期限", wareki(doc.valid_until), "valid_until", True))
    rows += [
        ("保険者番号", insurer.insurer_number, "insurer_number", False),
        ("保険者名", insurer.municipality, "municipality", False),
        ("交付年月日", wareki(doc.issued_on), "issued_on", False),
    ]
    label_w = 42 * mm
    width = WIDTH - 20 * mm
    x0 = LEFT + 10 * mm
    row_h = 7.4 * mm
    top = DOCUMENT_TOP
    total = row_h * len(rows)
    page.fills = ((x0, top - total, label_w, total),)
    page.boxes = ((x0, top - total, width, total),)
    page.rules.append((x0 + label_w, top, x0 + label_w, top - total))
    for i, (label, value, field, strong) in enumerate(rows):
        y = top - row_h / 2
        page.runs.append((GOTHIC, 9.5, x0 + 3 * mm, y - 9.5 * 0.35, label))
        style = (GOTHIC, 12.0, 8.0) if strong else (MINCHO, 11.0, 8.0)
        size, (line,) = _fitted(value, style, width - label_w - 6 * mm, field, "表の欄")
        page.runs.append((style[0], size, x0 + label_w + 3 * mm, y - size * 0.35, line))
        top -= row_h
        if i < len(rows) - 1:
            page.rules.append((x0, top, x0 + width, top))
    return top


# --- Drawing --------------------------------------------------------------------------------


def _render(pages: Sequence[_Page], docs: Sequence[DocumentPrint], insurer: InsurerInfo) -> bytes:
    buffer = io.BytesIO()
    c = japanese_canvas(buffer, initialFontName=MINCHO, initialFontSize=10.5)
    kinds = {doc.doc_type for doc in docs}
    c.setTitle(DOCUMENT_TITLES[kinds.pop()] if len(kinds) == 1 else "国民健康保険 証・通知")
    c.setAuthor(insurer.municipality)
    c.setCreator("Kokuho")
    forms: dict[_Fixed, str] = {}
    for page in pages:
        for item in page.runs:
            if isinstance(item, _Fixed) and item not in forms:
                forms[item] = name = f"Fixed{len(forms)}"
                c.beginForm(name)
                c.drawText(_text(c, item.runs))
                c.endForm()
    for page in pages:
        if page.fills:
            c.setFillGray(GREY)
            for x, y, w, h in page.fills:
                c.rect(x, y, w, h, stroke=0, fill=1)
            c.setFillGray(0)
        if page.boxes:
            c.setLineWidth(LINE)
            for x, y, w, h in page.boxes:
                c.rect(x, y, w, h)
        if page.rules:
            c.setLineWidth(HAIRLINE)
            c.lines(page.rules)
        if page.cut is not None:
            c.setLineWidth(LINE)
            c.setDash(3, 2)
            c.rect(*page.cut)
            c.setDash()
        runs: list[_Run] = []
        for item in page.runs:  # in reading order, the fixed texts by reference
            if isinstance(item, _Fixed):
                if runs:
                    c.drawText(_text(c, runs))
                    runs = []
                c.doForm(forms[item])
            else:
                runs.append(item)
        if runs:
            c.drawText(_text(c, runs))
        c.showPage()
    _save_binary(c)
    return buffer.getvalue()


def _text(c: Canvas, runs: Iterable[_Run]) -> PDFTextObject:
    """One text object for many runs: a font change only where the font or size changes."""
    text = c.beginText()
    current = None
    for font, size, x, y, line in runs:
        if (font, size) != current:
            text.setFont(font, size)
            current = (font, size)
        text.setTextOrigin(x, y)
        text._textOut(line)  # no cursor advance to measure: every run sets its origin
    return text


def _save_binary(c: Canvas) -> None:
    """Save with plain Flate streams, without reportlab's pure-Python ASCII85 layer (~20 % of
    the time and the size; docs/decisions.md 102). The switch is global: set for the save
    only."""
    previous = rl_config.useA85
    rl_config.useA85 = 0
    try:
        c.save()
    finally:
        rl_config.useA85 = previous
