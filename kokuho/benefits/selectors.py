"""Reads of the benefits app. Claims (レセプト) first."""

import datetime as dt

from django.db.models import Count, QuerySet

from kokuho.benefits.models import UNMATCHED, Claim, ClaimMatch


def claims_unmatched(*, month: dt.date) -> QuerySet[Claim]:
    """照合できなかったレセプト of a 診療月 (any day of it): 番号不明 and 資格喪失後受診・資格なし,
    by reason then レセプト管理番号 — the list staff work through (返戻・資格確認)."""
    return (
        Claim.objects.filter(service_month=month.replace(day=1), match__in=UNMATCHED)
        .select_related("person", "household_number")
        .order_by("match", "claim_id")
    )


def claims_unmatched_counts(
    *, month: dt.date | None = None, import_file_id: int | None = None
) -> dict[ClaimMatch, int]:
    """How many claims of a 診療月 (or of one imported file) matched no insured person, by
    reason; reasons without claims are left out."""
    claims = Claim.objects.filter(match__in=UNMATCHED)
    if month is not None:
        claims = claims.filter(service_month=month.replace(day=1))
    if import_file_id is not None:
        claims = claims.filter(import_file_id=import_file_id)
    rows = claims.values("match").annotate(n=Count("pk")).order_by("match")
    return {ClaimMatch(row["match"]): row["n"] for row in rows}
