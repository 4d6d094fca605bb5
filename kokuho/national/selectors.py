"""Reads of the outbound ledger: per feed status, and the alerts for the dashboard."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Q, Subquery
from django.utils import timezone

from kokuho.national.feeds import FEEDS
from kokuho.national.models import NationalWorkItem, OutboundFile


@dataclass(frozen=True)
class NationalAlert:
    """A feed whose last file has had no acknowledgement for `KOKUHO_NATIONAL_ACK_DAYS`
    days — the silent stop national.md warns of (a link PC that failed for months)."""

    feed: str
    label: str
    sequence: int
    file_name: str
    sent_at: dt.datetime
    days: int
    message: str


def last_files() -> dict[str, OutboundFile]:
    """Each feed's newest file (最終通番), in one query: one probe of the unique
    (feed, sequence) index per feed, however many files the years have made. The alerts are
    on every page of the staff who send the feeds, so one round trip instead of one a feed."""
    newest = Q()
    for feed in FEEDS:
        last = OutboundFile.objects.filter(feed=feed).order_by("-sequence").values("pk")[:1]
        newest |= Q(pk=Subquery(last))
    return {file.feed: file for file in OutboundFile.objects.filter(newest)}


def national_alerts(*, now: dt.datetime | None = None) -> list[NationalAlert]:
    """One alert per feed whose last file is unacknowledged past the configured days."""
    now = now or timezone.now()
    limit = dt.timedelta(days=settings.KOKUHO_NATIONAL_ACK_DAYS)
    alerts = []
    lasts = last_files()
    for feed in FEEDS:
        last = lasts.get(feed)
        if last is None or last.acknowledged_at is not None or last.sent_at is None:
            continue
        waited = now - last.sent_at
        if waited >= limit:
            alerts.append(
                NationalAlert(
                    feed.value, feed.label, last.sequence, last.file_name, last.sent_at,
                    waited.days,
                    f"{feed.label}: 通番 {last.sequence} の処理結果が"
                    f" {waited.days}日 届いていません",
                )
            )  # fmt: skip
    return alerts


def national_status(*, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """`kokuho national status`: per feed, its last file, the unacknowledged ones, alerts."""
    alerts = {a.feed: a for a in national_alerts(now=now)}
    out = []
    for feed in FEEDS:
        files = OutboundFile.objects.filter(feed=feed)
        last = files.order_by("-sequence").first()
        out.append(
            {
                "feed": feed.value,
                "label": feed.label,
                "last_sequence": last.sequence if last else None,
                "last_as_of": last.as_of.isoformat() if last else None,
                "last_sent": last.sent_at.isoformat() if last and last.sent_at else None,
                "assumed_layout": last.assumed if last else None,
                "unacknowledged": list(
                    files.filter(acknowledged_at__isnull=True)
                    .order_by("sequence")
                    .values_list("sequence", flat=True)
                ),
                "open_work_items": NationalWorkItem.objects.filter(
                    feed=feed, resolved_at__isnull=True
                ).count(),
                "alert": alerts[feed.value].message if feed.value in alerts else None,
            }
        )
    return out


@dataclass(frozen=True)
class FeedOverview:
    """One row of the 連携状況 screen."""

    feed: str
    label: str
    target: str
    last: OutboundFile | None
    unacknowledged: list[int]
    open_work_items: int
    alert: NationalAlert | None


@dataclass(frozen=True)
class NationalOverview:
    feeds: list[FeedOverview]
    recent: list[OutboundFile]
    open_items_by_kind: list[tuple[str, str, int]]  # feed label, kind label, count
    alerts: list[NationalAlert]


def national_overview(*, now: dt.datetime | None = None, recent: int = 20) -> NationalOverview:
    """The 連携状況 screen: what `national_status` says, with the last files and the open
    work items per kind. A handful of queries per feed, whatever the size of the ledger
    (the ledger is indexed by feed and sequence)."""
    from django.db.models import Count

    from kokuho.national.models import Feed, WorkItemKind

    alerts = national_alerts(now=now)
    by_feed = {a.feed: a for a in alerts}
    open_items = dict(
        NationalWorkItem.objects.filter(resolved_at__isnull=True)
        .values_list("feed")
        .annotate(n=Count("id"))
        .values_list("feed", "n")
    )
    rows = []
    for feed, spec in FEEDS.items():
        files = OutboundFile.objects.filter(feed=feed)
        rows.append(
            FeedOverview(
                feed=feed.value,
                label=feed.label,
                target=spec.target,
                last=files.order_by("-sequence").first(),
                unacknowledged=list(
                    files.filter(acknowledged_at__isnull=True)
                    .order_by("sequence")
                    .values_list("sequence", flat=True)[:50]
                ),
                open_work_items=open_items.get(feed.value, 0),
                alert=by_feed.get(feed.value),
            )
        )
    kinds = (
        NationalWorkItem.objects.filter(resolved_at__isnull=True)
        .values("feed", "kind")
        .annotate(n=Count("id"))
        .order_by("feed", "kind")
    )
    return NationalOverview(
        feeds=rows,
        recent=list(OutboundFile.objects.order_by("-created_at", "-id")[:recent]),
        open_items_by_kind=[
            (Feed(k["feed"]).label, WorkItemKind(k["kind"]).label, k["n"]) for k in kinds
        ],
        alerts=alerts,
    )
