"""Bank business days (銀行営業日) and the checks on a 支払日 (payments.md §5).

A bank business day is not a Saturday or Sunday, not a national holiday (`jpholiday`, which
follows 国民の祝日に関する法律 including 振替休日 and 国民の休日) and not one of the year-end
days the 銀行法施行令 closes (a dated parameter). A 支払日 must be a business day at least the
profile's lead days after the file is sent (the send day counts only before the cut-off), and
no more than the parameter's days ahead: the 全銀 振込指定日 is MMDD without a year.
"""

import datetime as dt

import jpholiday

from kokuho.payments.config import BankProfile
from kokuho.rules.params import parameters


class PayDateError(ValueError):
    """A 支払日 the bank cannot take; the message says why and what would do."""


def bank_business_day(day: dt.date) -> bool:
    if day.weekday() >= 5 or jpholiday.is_holiday(day):
        return False
    closed = parameters().at(day).payments.year_end_closed_days
    return f"{day:%m-%d}" not in set(closed.values())


def next_business_day(day: dt.date) -> dt.date:
    """`day` itself when it is a business day, else the next one."""
    while not bank_business_day(day):
        day += dt.timedelta(days=1)
    return day


def earliest_pay_date(*, profile: BankProfile, sent_at: dt.datetime) -> dt.date:
    """The first 支払日 a file sent at `sent_at` can carry: `lead_days` business days after
    the day the bank takes it (the send day, or the next business day after the cut-off)."""
    taken = sent_at.date()
    if not bank_business_day(taken) or sent_at.time() > profile.cutoff_time:
        taken = next_business_day(taken + dt.timedelta(days=1))
    day = taken
    for _ in range(profile.lead_days):
        day = next_business_day(day + dt.timedelta(days=1))
    return day


def pay_date_check(*, pay_date: dt.date, profile: BankProfile, sent_at: dt.datetime) -> None:
    """Refuse a 支払日 that is not a business day, too early for the bank, or too far ahead."""
    if not bank_business_day(pay_date):
        raise PayDateError(
            f"{pay_date} は銀行の営業日ではありません（次の営業日は {next_business_day(pay_date)}）"
        )
    earliest = earliest_pay_date(profile=profile, sent_at=sent_at)
    if pay_date < earliest:
        raise PayDateError(
            f"{pay_date} は早すぎます: この銀行は送付から {profile.lead_days} 営業日"
            f"（締め {profile.cutoff}）が必要で、最も早い支払日は {earliest} です"
        )
    limit = parameters().at(sent_at.date()).payments.zengin_max_days_ahead
    if (pay_date - sent_at.date()).days > limit:
        raise PayDateError(
            f"{pay_date} は {limit} 日より先です（全銀の振込指定日は月日だけのため作れません）"
        )
