"""未照合レセプトの解消: the append-only record of how a claim left the unmatched list.

A claim the import could not match (番号不明, 資格喪失後受診・資格なし) leaves the list once,
in one of three ways: the same matching code run again after the cause was fixed (再照合),
a clerk naming the insured person (被保険者を指定), or a clerk sending it back to the
国保連合会 (返戻). Each is one row here — who, when, what the claim was before, whom it was
matched to or why it was returned — written in the same transaction as the change to the
claim and its audit event. Rows are never updated; they go only with their claim, when
the claims' retention ends.
"""

from django.conf import settings
from django.db import models

from kokuho.eligibility.models import HouseholdNumber
from kokuho.people.models import Person


class ClaimResolutionKind(models.TextChoices):
    REMATCHED = "rematched", "再照合で照合"
    ASSIGNED = "assigned", "被保険者を指定"
    RETURNED = "returned", "返戻（国保連合会へ返送）"


class ClaimResolution(models.Model):
    """未照合レセプトの解消: one claim, how it left the unmatched list."""

    # Part of the claim's record: erased with it when its retention ends (the claims rule).
    claim = models.OneToOneField(
        "benefits.Claim",
        verbose_name="レセプト",
        on_delete=models.CASCADE,
        related_name="resolution",
    )
    kind = models.CharField("解消の方法", max_length=10, choices=ClaimResolutionKind.choices)
    # The claim's 照合結果 before (番号不明 or 資格喪失後受診・資格なし).
    match_before = models.CharField("解消前の照合結果", max_length=20)
    person = models.ForeignKey(
        Person,
        verbose_name="照合した被保険者",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    household_number = models.ForeignKey(
        HouseholdNumber,
        verbose_name="照合した記号・番号",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField("理由・備考", max_length=200, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="処理者",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    resolved_at = models.DateTimeField("処理日時")

    class Meta:
        verbose_name = "未照合レセプトの解消"
        constraints = [
            # Matched (再照合・指定) names the person and number; 返戻 names no one and says why.
            models.CheckConstraint(
                condition=(
                    models.Q(
                        kind__in=["rematched", "assigned"],
                        person__isnull=False,
                        household_number__isnull=False,
                    )
                    | (
                        models.Q(kind="returned", person__isnull=True)
                        & models.Q(household_number__isnull=True)
                        & ~models.Q(reason="")
                    )
                ),
                name="claim_resolution_kind_fields",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.claim_id} {self.get_kind_display()}"
