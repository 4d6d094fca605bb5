"""Reads of the benefits life cycle for the screens and the work queues."""

from __future__ import annotations

from django.db.models import QuerySet

from kokuho.benefits.lifecycle.models import ApplicationStatus, BenefitApplication
from kokuho.benefits.lifecycle.services import attachments_for


def benefit_application_shown(application: BenefitApplication) -> dict[str, str]:
    """What the detail page shows of the application's state, by label: a conflicting save
    (`kokuho.core.concurrency`) lists the ones that differ."""
    received = [a.label for a in attachments_for(application.benefit)
                if application.attachments.get(a.code)]  # fmt: skip
    latest = application.decisions.order_by("-pk").first()
    decided = f"{latest.get_outcome_display()} {latest.amount:,}円" if latest else "未決定"
    return {
        "状態": ApplicationStatus(application.status).label,
        "受領済みの添付書類": "、".join(received) or "なし",
        "決定": decided,
    }


def benefit_applications_in_review() -> QuerySet[BenefitApplication]:
    """審査中 (received, not yet decided) applications, oldest 受付 first."""
    return (
        BenefitApplication.objects.filter(status=ApplicationStatus.RECEIVED)
        .select_related("subject", "household")
        .order_by("received_on", "pk")
    )
