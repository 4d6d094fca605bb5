"""Presentation filters: 和暦 with 西暦 beside (dates are `date` everywhere else)."""

from datetime import date

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
