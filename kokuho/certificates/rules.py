"""Who gets which document, valid for how long (documents.md) — pure functions, no database.

The services gather a person's facts on a day (`DocumentFacts`) and ask here:

* `basic_document_type` — 資格確認書 or 資格情報のお知らせ: the 資格確認書 goes to everyone
  without a usable マイナ保険証 (no card, not registered, registration cancelled, card
  expired, or no status reported yet), to anyone who asked for it (要配慮者), and to everyone
  while the city runs the 暫定運用 setting;
* `basic_validity` — from the issue day to the day before the next renewal date, ended
  earlier by the day before the 70th-birthday switch to 高齢受給者 (the 割合 printed changes),
  the eve of the 75th birthday (後期高齢者医療), the end of a 修学中の特例, the day after a
  foreign resident's residence period ends, and a known end of the insured period; a
  資格情報のお知らせ has no end except for 70–74, students and foreign residents;
* `certificate_check` — whether a 認定証 application is granted, and why not.

The renewal date is a city setting (`KOKUHO_DOCUMENT_RENEWAL`, MM-DD, default 08-01 to
match the August switch of 所得区分); the dates of the age rules come from the eligibility
rules (`elderly_from`, `anniversary`) so that documents and eligibility cannot disagree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from kokuho.certificates.models import Disease, DocumentType, MynaStatus
from kokuho.eligibility.burden import elderly_from
from kokuho.eligibility.derivation import anniversary

ONE_DAY = dt.timedelta(days=1)

# 限度額適用認定証: under-70 ア–エ, 70–74 現役並みⅠ/Ⅱ (現役並みⅢ and 一般 show their limit
# with the 資格確認書's 割合; documents.md). 減額認定証: 住民税非課税 households.
LIMIT_CATEGORIES = ("ア", "イ", "ウ", "エ", "現役並みⅠ", "現役並みⅡ")
REDUCED_CATEGORIES = ("オ", "低所得Ⅱ", "低所得Ⅰ")
# 長期入院: more than 90 days of stays in the last 12 months while in 減額 (オ, 低所得Ⅱ).
LONG_STAY_CATEGORIES = ("オ", "低所得Ⅱ")
LONG_STAY_MIN_DAYS = 91


@dataclass(frozen=True)
class DocumentFacts:
    """What the rules need to know of a person on a day."""

    birth_date: dt.date
    insured: bool
    period_end: dt.date | None = None  # last insured day when already known
    myna: str | None = None  # MynaStatus value, None when nothing was reported
    kakuninsho_requested: bool = False  # 要配慮者 asked for a 資格確認書
    student_until: dt.date | None = None  # end of an open 修学中の特例 (None: open-ended)
    is_student: bool = False
    residence_until: dt.date | None = None  # foreign resident's 在留期間の満了日
    category: str | None = None  # 所得区分 label on the day (ア … 低所得Ⅰ)


def renewal_dates(on: dt.date, renewal: tuple[int, int]) -> tuple[dt.date, dt.date]:
    """(the last renewal date on or before `on`, the day before the next one)."""
    month, day = renewal
    this_year = dt.date(on.year, month, day)
    start = this_year if this_year <= on else dt.date(on.year - 1, month, day)
    return start, dt.date(start.year + 1, month, day) - ONE_DAY


def is_elderly_band(birth: dt.date, on: dt.date) -> bool:
    """70–74 on `on` (高齢受給者): from `elderly_from` to the eve of the 75th birthday."""
    return elderly_from(birth, on) <= on < anniversary(birth, 75)


def basic_document_type(facts: DocumentFacts, *, issue_to_all: bool) -> DocumentType:
    """資格確認書 unless the person has a usable マイナ保険証 and did not ask for one."""
    if issue_to_all or facts.kakuninsho_requested or facts.myna != MynaStatus.REGISTERED:
        return DocumentType.KAKUNINSHO
    return DocumentType.OSHIRASE


def _earliest(limit: dt.date, *ends: dt.date | None) -> dt.date:
    return min([limit, *[e for e in ends if e is not None]])


def basic_validity(
    doc_type: DocumentType, facts: DocumentFacts, *, on: dt.date, renewal: tuple[int, int]
) -> dt.date | None:
    """The 有効期限 of a 資格確認書 or 資格情報のお知らせ issued on `on` (None: no end)."""
    _, renewal_end = renewal_dates(on, renewal)
    eve_75 = anniversary(facts.birth_date, 75) - ONE_DAY
    turns_elderly = elderly_from(facts.birth_date, on)
    to_elderly = turns_elderly - ONE_DAY if on < turns_elderly <= renewal_end else None
    foreign = facts.residence_until + ONE_DAY if facts.residence_until else None
    student = facts.student_until if facts.is_student else None
    if doc_type == DocumentType.KAKUNINSHO:
        return _earliest(renewal_end, eve_75, to_elderly, foreign, student, facts.period_end)
    # 資格情報のお知らせ: no 有効期限 except 70–74 (the 割合 is printed), students, foreigners;
    # one issued before the 70 switch ends with it (the 割合 printed changes).
    elderly = is_elderly_band(facts.birth_date, on)
    if not (elderly or to_elderly or facts.is_student or facts.residence_until):
        return None
    limit = _earliest(renewal_end, eve_75) if elderly else renewal_end
    return _earliest(limit, to_elderly, foreign, student, facts.period_end)


@dataclass(frozen=True)
class CertificateCheck:
    granted: bool
    reason: str  # why not (Japanese), or what was found
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None


def certificate_check(
    doc_type: DocumentType,
    facts: DocumentFacts,
    *,
    applied_on: dt.date,
    renewal: tuple[int, int],
    disease: str = "",
    opinion_received: bool = False,
    long_stay_days: int | None = None,
) -> CertificateCheck:
    """Whether a 認定証 application is granted (documents.md), with its validity.

    限度額適用認定証 and 減額認定証 run from the 1st of the application month to the day
    before the next renewal date (the July 31 of the 所得区分 year by default); 特定疾病療養受療証
    from the 1st of the application month with no end unless eligibility ends."""
    if not facts.insured:
        return CertificateCheck(False, "申請日に国民健康保険の資格がありません")
    first = applied_on.replace(day=1)
    _, renewal_end = renewal_dates(applied_on, renewal)
    eve_75 = anniversary(facts.birth_date, 75) - ONE_DAY
    if doc_type == DocumentType.TOKUTEI:
        if disease not in Disease.values:
            return CertificateCheck(False, "認定疾病が選ばれていません")
        if not opinion_received:
            return CertificateCheck(False, "医師の意見書（特定疾病の証明）が提出されていません")
        until = _earliest(eve_75, facts.period_end)
        return CertificateCheck(True, Disease(disease).label, first, until)
    category = facts.category
    if category is None:
        return CertificateCheck(False, "所得区分を判定できません（所得の申告を確認してください）")
    until = _earliest(renewal_end, eve_75, facts.period_end)
    if doc_type == DocumentType.GENDOGAKU:
        if category in REDUCED_CATEGORIES:
            return CertificateCheck(
                False, f"所得区分が{category}のため、限度額適用・標準負担額減額認定証の対象です"
            )
        if category not in LIMIT_CATEGORIES:
            return CertificateCheck(
                False,
                f"所得区分が{category}の方は認定証がなくても資格確認書等で限度額が適用されます",
            )
        return CertificateCheck(True, f"適用区分 {category}", first, until)
    if doc_type == DocumentType.GENGAKU:
        if category not in REDUCED_CATEGORIES:
            return CertificateCheck(False, f"住民税非課税世帯ではありません（所得区分 {category}）")
        # 長期入院 only adds a date to the certificate (long_stay_applies); it never refuses it.
        return CertificateCheck(True, f"適用区分 {category}", first, until)
    return CertificateCheck(False, "認定証の種類ではありません")


def long_stay_applies(category: str | None, long_stay_days: int | None) -> bool:
    """長期入院該当: 減額 (オ, 低所得Ⅱ) with more than 90 days of stays in 12 months."""
    return (
        category in LONG_STAY_CATEGORIES
        and long_stay_days is not None
        and long_stay_days >= LONG_STAY_MIN_DAYS
    )
