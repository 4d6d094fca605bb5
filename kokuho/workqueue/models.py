"""作業キュー (work queues): who works an open item of a list, and by when.

Every list of things to do (保留行, 未照合レセプト, 給付の申請, 連携の作業項目, 返還未済の証) is a
queue (`queues.QUEUES`). The items stay in their own tables and leave a queue by their own
life cycle (a 保留行 re-submitted, a claim re-matched); an assignment only says who has the
item and, when a clerk set one, its 期限 instead of the queue's 標準処理期間. It is one row
per item, changed in place: the history of who had what is in the audit trail
(`work_assigned` events), as every other action of staff is.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Queue(models.TextChoices):
    QUARANTINE = "quarantine", "取込の保留行"
    CLAIMS_UNMATCHED = "claims_unmatched", "未照合レセプト"
    APPLICATIONS = "applications", "審査中の給付の申請"
    NATIONAL_ITEMS = "national_items", "連携の作業項目"
    DOCUMENT_RETURNS = "document_returns", "返還未済の証"
    CASES = "cases", "調査・求償の案件"


class WorkAssignment(models.Model):
    """担当の割当て: the clerk who works one item of a queue, and its 期限 when one was set."""

    queue = models.CharField("作業キュー", max_length=30, choices=Queue.choices)
    item_id = models.BigIntegerField("対象のID")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="担当者",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="work_assignments",
    )
    due_on = models.DateField("期限", null=True, blank=True)
    updated_at = models.DateTimeField("更新日時")
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="更新者",
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["queue", "item_id"], name="workqueue_one_per_item")
        ]
        indexes = [models.Index(fields=["queue", "assignee"], name="workqueue_by_assignee")]

    def __str__(self) -> str:
        return f"{self.queue}:{self.item_id}"
