"""負担割合 (copay rate) and 所得区分 (income category) — pure functions over facts.

eligibility.md §6 and §7. Amounts and ages come from the dated parameters
(`kokuho.rules`), read at the day being decided. Household facts are taken as of the first
day of the month: a change of composition or income is re-decided "from the month after,
or from that month when the change falls on the 1st" (§6), which is exactly what a
first-of-month snapshot gives.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from kokuho.eligibility.derivation import ONE_DAY, anniversary
from kokuho.rules.params import parameters


@dataclass(frozen=True)
class IncomeFacts:
    """所得 of one person for one income year (people.Income)."""

    total_income: int
    taxable: int
    tax_exempt: bool
    revenue: int
    pension_revenue: int = 0
    pension_income: int = 0
    unreported: bool = False


@dataclass(frozen=True)
class MemberFacts:
    key: str
    birth: dt.date
    income: IncomeFacts | None  # None: no record for the year needed (未申告)


@dataclass(frozen=True)
class HouseholdFacts:
    """The subject's NHI household for the month of the day decided."""

    members: Sequence[MemberFacts]  # NHI-insured members (the subject included)
    head: MemberFacts | None  # 世帯主, insured or not (擬制世帯主)
    former_members: Sequence[MemberFacts] = ()  # 旧国保被保険者 (left for 後期), for 基準収入額
    kijun_applied_on: Sequence[dt.date] = field(default_factory=tuple)  # 基準収入額適用申請日


@dataclass(frozen=True)
class Decision:
    value: int | str
    reason: str


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def income_year_for(day: dt.date) -> int:
    """August Y – July Y+1 uses income year Y − 1 (住民税 of fiscal year Y)."""
    rule = parameters().at(day).eligibility.income_year
    switch_year = day.year if day.month >= rule["switch_month"] else day.year - 1
    return switch_year - rule["lag_years_from_switch"]


def preschool_until(birth: dt.date, day: dt.date) -> dt.date:
    """未就学の終わり: the first March 31 on or after the day the child reaches 6 — which, by
    年齢計算, is the day before the 6th birthday (国保法42条1項2号). Rules as of `day`."""
    age = parameters().at(day).copay.ages["preschool_until"]
    reached = anniversary(birth, age) - ONE_DAY
    march_31 = dt.date(reached.year, 3, 31)
    return march_31 if reached <= march_31 else dt.date(reached.year + 1, 3, 31)


def elderly_from(birth: dt.date, day: dt.date) -> dt.date:
    """高齢受給者: from the 1st of the month after the month the person reaches 70 (the day
    before the 70th birthday) — so the birthday month itself for those born on the 1st."""
    reached = anniversary(birth, parameters().at(day).copay.ages["elderly_from"]) - ONE_DAY
    return _next_month(reached)


@lru_cache(maxsize=1 << 17)
def is_elderly_on(birth: dt.date, day: dt.date) -> bool:
    """Kept per (birth, day) as `copay_rate_by_age`: an extract asks it of every record."""
    return elderly_from(birth, day) <= day


def old_tadashigaki(income: IncomeFacts, income_year: int) -> int:
    """旧ただし書き所得 = 総所得金額等 − 基礎控除 (not below 0)."""
    deduction = parameters().at(dt.date(income_year, 1, 1)).income.basic_deduction
    return max(0, income.total_income - deduction)


def _known(income: IncomeFacts | None) -> bool:
    return income is not None and not income.unreported


def _elderly_members(household: HouseholdFacts, day: dt.date) -> list[MemberFacts]:
    return [m for m in household.members if is_elderly_on(m.birth, day)]


def _high_income_lifted(
    household: HouseholdFacts, day: dt.date, elderly: list[MemberFacts], income_year: int
) -> str | None:
    """Why a household with a 現役並み member is *not* treated as 現役並み, or None."""
    rule = parameters().at(day).copay.high_income_elderly
    born_after = dt.date.fromisoformat(rule["born_on_or_after_for_tadashigaki_rule"])
    if any(m.birth >= born_after for m in elderly):
        total = sum(old_tadashigaki(m.income, income_year) for m in elderly if _known(m.income))
        limit = rule["old_tadashigaki_household_max"]
        if total <= limit:
            return f"70〜74歳の旧ただし書き所得の合計 {total:,}円 ≤ {limit:,}円"
    applied = [a for a in household.kijun_applied_on if _next_month(a) <= month_start(day)]
    if applied:
        single, multiple = rule["kijun_revenue_single_below"], rule["kijun_revenue_multiple_below"]
        revenue = sum(m.income.revenue for m in elderly if _known(m.income))
        if len(elderly) == 1 and revenue < single:
            return f"基準収入額適用（収入 {revenue:,}円 < {single:,}円）"
        if len(elderly) == 1 and household.former_members:
            revenue += sum(m.income.revenue for m in household.former_members if _known(m.income))
            if revenue < multiple:
                return f"基準収入額適用（旧国保被保険者を含む収入 {revenue:,}円 < {multiple:,}円）"
        if len(elderly) >= 2 and revenue < multiple:
            return f"基準収入額適用（収入合計 {revenue:,}円 < {multiple:,}円）"
    return None


def _max_elderly_taxable(elderly: list[MemberFacts]) -> int:
    return max((m.income.taxable for m in elderly if _known(m.income)), default=0)


@lru_cache(maxsize=1 << 17)
def copay_rate_by_age(birth: dt.date, day: dt.date) -> Decision | None:
    """The 負担割合 that age alone decides (未就学, under 70), or None for a 高齢受給者, whose
    rate depends on the household's incomes (`copay_rate`). Kept per (birth, day): the
    parameters are loaded once per process, and a city's extract asks of every birth date."""
    rates = parameters().at(day).copay.rates
    if day <= preschool_until(birth, day):
        return Decision(rates["preschool"], "未就学")
    if not is_elderly_on(birth, day):
        return Decision(rates["general"], "")
    return None


def copay_rate(subject: MemberFacts, day: dt.date, household: HouseholdFacts) -> Decision:
    """負担割合 in percent (国保法42条1項)."""
    by_age = copay_rate_by_age(subject.birth, day)
    if by_age is not None:
        return by_age
    rates = parameters().at(day).copay.rates
    income_year = income_year_for(day)
    elderly = _elderly_members(household, day)
    rule = parameters().at(day).copay.high_income_elderly
    top = _max_elderly_taxable(elderly)
    if top < rule["taxable_min"]:
        return Decision(rates["elderly"], "高齢受給者")
    lifted = _high_income_lifted(household, day, elderly, income_year)
    if lifted:
        return Decision(rates["elderly"], f"高齢受給者（{lifted}）")
    return Decision(rates["elderly_high_income"], f"現役並み所得者（課税所得 {top:,}円）")


def _is_tax_exempt_household(household: HouseholdFacts) -> bool:
    people = [*household.members, *([household.head] if household.head else [])]
    return household.head is not None and all(
        _known(m.income) and m.income.tax_exempt for m in people
    )


def _zero_income_with_pension_deduction(income: IncomeFacts, day: dt.date) -> bool:
    deduction = parameters().at(day).category.elderly["low_income_1_pension_deduction"]
    other = income.total_income - income.pension_income
    return other <= 0 and income.pension_revenue - deduction <= 0


def income_category(subject: MemberFacts, day: dt.date, household: HouseholdFacts) -> Decision:
    """高額療養費の所得区分 (国保法施行令29条の3): ア–オ under 70, 現役並みⅢ…低所得Ⅰ for 70–74."""
    income_year = income_year_for(day)
    if is_elderly_on(subject.birth, day):
        return _elderly_category(subject, day, household, income_year)
    return _under70_category(day, household, income_year)


def _under70_category(day: dt.date, household: HouseholdFacts, income_year: int) -> Decision:
    missing = [m.key for m in household.members if not _known(m.income)]
    if missing:
        return Decision("ア", f"所得未申告の被保険者がいるため（{income_year}年分）")
    if _is_tax_exempt_household(household):
        return Decision("オ", "住民税非課税世帯")
    bounds = parameters().at(day).category.under70
    total = sum(old_tadashigaki(m.income, income_year) for m in household.members)
    for category, key in (("ア", "a_above"), ("イ", "i_above"), ("ウ", "u_above")):
        if total > bounds[key]:
            return Decision(category, f"旧ただし書き所得の合計 {total:,}円（{income_year}年分）")
    return Decision("エ", f"旧ただし書き所得の合計 {total:,}円（{income_year}年分）")


def _elderly_category(
    subject: MemberFacts, day: dt.date, household: HouseholdFacts, income_year: int
) -> Decision:
    if not _known(subject.income):
        return Decision("一般", f"所得未申告（{income_year}年分）のため一般")
    elderly = _elderly_members(household, day)
    bounds = parameters().at(day).category.elderly
    top = _max_elderly_taxable(elderly)
    if top >= bounds["genekinami_1_taxable_min"]:
        lifted = _high_income_lifted(household, day, elderly, income_year)
        if lifted:
            return Decision("一般", lifted)
        for category, key in (
            ("現役並みⅢ", "genekinami_3_taxable_min"),
            ("現役並みⅡ", "genekinami_2_taxable_min"),
            ("現役並みⅠ", "genekinami_1_taxable_min"),
        ):
            if top >= bounds[key]:
                return Decision(category, f"課税所得 {top:,}円（{income_year}年分）")
    if _is_tax_exempt_household(household):
        people = [*household.members, household.head]
        if all(_zero_income_with_pension_deduction(m.income, day) for m in people if m):
            return Decision("低所得Ⅰ", "住民税非課税世帯で所得が0円（年金は80万円控除）")
        return Decision("低所得Ⅱ", "住民税非課税世帯")
    return Decision("一般", "")
