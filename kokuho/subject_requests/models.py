"""Requests by a person about their own data (開示・訂正・利用停止請求).

個人情報の保護に関する法律 (第5章第4節) gives a resident the right to see what the city
holds about them (開示, 76条), to have it corrected (訂正, 90条) and to have its use stopped
(利用停止, 98条); for specific personal information 番号法30条 reads those rules in.
Each request is recorded here with who received it, how the requester's identity was
checked, and the decision; the deadlines are computed from dated parameters, never stored.

The person is kept by 宛名番号 (not a foreign key): the request record is the city's own
document and outlives the records it was about.
"""

from django.conf import settings
from django.db import models


class RequestKind(models.TextChoices):
    DISCLOSURE = "disclosure", "開示請求"
    CORRECTION = "correction", "訂正請求"
    SUSPENSION = "suspension", "利用停止請求"


class RequesterKind(models.TextChoices):
    """請求者の区分."""

    SELF = "self", "本人"
    LEGAL_REPRESENTATIVE = "legal_representative", "法定代理人"
    # 任意代理人 (本人の委任による代理人): 個人情報保護法76条2項 since the 令和3年 amendment;
    # for 特定個人情報 番号法30条 already allowed it.
    APPOINTED_REPRESENTATIVE = "appointed_representative", "任意代理人"


class RequestStatus(models.TextChoices):
    RECEIVED = "received", "受付"
    DECIDED = "decided", "決定済み"
    WITHDRAWN = "withdrawn", "取下げ"


class Outcome(models.TextChoices):
    """決定の内容. Which outcomes fit which kind: `OUTCOMES_BY_KIND`."""

    DISCLOSED = "disclosed", "全部開示"
    PARTLY_DISCLOSED = "partly_disclosed", "一部開示"
    NOT_DISCLOSED = "not_disclosed", "不開示"
    NOT_HELD = "not_held", "不存在（保有していない）"
    CORRECTED = "corrected", "訂正する"
    NOT_CORRECTED = "not_corrected", "訂正しない"
    SUSPENDED = "suspended", "利用停止する"
    NOT_SUSPENDED = "not_suspended", "利用停止しない"


OUTCOMES_BY_KIND: dict[str, frozenset[str]] = {
    RequestKind.DISCLOSURE: frozenset(
        {Outcome.DISCLOSED, Outcome.PARTLY_DISCLOSED, Outcome.NOT_DISCLOSED, Outcome.NOT_HELD}
    ),
    RequestKind.CORRECTION: frozenset({Outcome.CORRECTED, Outcome.NOT_CORRECTED}),
    RequestKind.SUSPENSION: frozenset({Outcome.SUSPENDED, Outcome.NOT_SUSPENDED}),
}

# Outcomes that grant the request in full; any other outcome needs its reasons written
# down (行政手続 理由の提示).
GRANTED_IN_FULL = frozenset({Outcome.DISCLOSED, Outcome.CORRECTED, Outcome.SUSPENDED})


class SubjectRequest(models.Model):
    """開示等請求 — one request, from receipt to decision."""

    kind = models.CharField("請求の種類", max_length=20, choices=RequestKind.choices)
    atena_no = models.CharField("対象者の宛名番号", max_length=15, db_index=True)
    received_on = models.DateField("請求日（受付日）")
    received_at = models.DateTimeField("受付記録日時")
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="受付者", on_delete=models.PROTECT, related_name="+"
    )
    requester = models.CharField("請求者", max_length=30, choices=RequesterKind.choices)
    identity_documents = models.CharField(
        "本人確認の方法（書類の種類）",
        max_length=200,
        help_text="書類の種類だけを記録し、書類の番号は記録しない",
    )
    details = models.TextField("請求の内容")
    status = models.CharField(
        "状態", max_length=12, choices=RequestStatus.choices, default=RequestStatus.RECEIVED
    )
    outcome = models.CharField("決定", max_length=20, choices=Outcome.choices, blank=True)
    decided_on = models.DateField("決定日", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="決定の記録者",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decision_reason = models.TextField("決定の理由", blank=True)

    class Meta:
        verbose_name = "開示等請求"
        ordering = ["-received_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(decided_on__isnull=True)
                | models.Q(decided_on__gte=models.F("received_on")),
                name="subject_request_decided_after_received",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="decided")
                | (models.Q(decided_on__isnull=False) & ~models.Q(outcome="")),
                name="subject_request_decision_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk}"
