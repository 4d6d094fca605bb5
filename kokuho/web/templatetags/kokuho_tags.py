"""Presentation filters: 和暦 with 西暦 beside (dates are `date` everywhere else)."""

from datetime import date, timedelta

from django import template

from kokuho.core.wareki import format_both, format_wareki

register = template.Library()


@register.filter
def wareki(value: date | None) -> str:
    """`昭和35年5月10日（1960-05-10）`; empty for no date."""
    return format_both(value) if value else ""


@register.filter
def wareki_only(value: date | None) -> str:
    return format_wareki(value) if value else ""


@register.filter
def reason(code: str | None) -> str:
    """取得・喪失事由の表示名."""
    from kokuho.eligibility.selectors import reason_label

    return reason_label(code)


@register.filter
def day_after(value: date | None) -> date | None:
    """喪失日 = the day after the last insured day (forms print 喪失年月日)."""
    return value + timedelta(days=1) if value else None


@register.filter
def wareki_month(value: date | None) -> str:
    """診療月 as `令和8年7月` (the month of a date, without the day)."""
    return format_wareki(value).rsplit("月", 1)[0] + "月" if value else ""
