"""Reads of the benefits life cycle for the screens and the work queues."""

from __future__ import annotations

from django.db.models import QuerySet

from kokuho.benefits.lifecycle.models import ApplicationStatus, BenefitApplication


def benefit_applications_in_review() -> QuerySet[BenefitApplication]:
    """審査中 (received, not yet decided) applications, oldest 受付 first."""
    return (
        BenefitApplication.objects.filter(status=ApplicationStatus.RECEIVED)
        .select_related("subject", "household")
        .order_by("received_on", "pk")
    )
