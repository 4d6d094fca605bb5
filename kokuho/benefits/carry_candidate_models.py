"""高額該当引継 候補: a pair of households the 国保情報集約システム proposes after a move within
the prefecture, and the clerk's decision on the household's continuity (世帯の継続性).

`KogakuCarryCandidateFile` is one imported candidate file (its SHA-256 refuses a repeat);
`KogakuCarryCandidate` one candidate: the former city's household key, this city's household,
the former city's 高額該当 months with whether each counts for 多数回, the evidence (members
on both sides, as the file states them), and the decision — 候補 → 確認（継続）, which records
the counted months as `KogakuCarriedMonth`, or 非該当, which records nothing.
"""

from django.conf import settings
from django.db import models

from kokuho.people.models import Household


class KogakuCarryCandidateFile(models.Model):
    """高額該当引継 候補ファイル: one imported file."""

    file_name = models.CharField("ファイル名", max_length=255)
    sha256 = models.CharField("SHA-256", max_length=64, unique=True)
    imported_at = models.DateTimeField("取込日時")
    counts = models.JSONField("件数", default=dict)
    problems = models.JSONField("反映しなかった候補", default=list)

    class Meta:
        verbose_name = "高額該当引継 候補ファイル"

    def __str__(self) -> str:
        return self.file_name


class CarryStatus(models.TextChoices):
    CANDIDATE = "candidate", "候補"
    CONTINUED = "continued", "確認（継続）"
    NOT_APPLICABLE = "not_applicable", "非該当"


class KogakuCarryCandidate(models.Model):
    """高額該当引継 候補: one pair of households and the clerk's decision (who, when, why)."""

    file = models.ForeignKey(
        KogakuCarryCandidateFile,
        verbose_name="候補ファイル",
        on_delete=models.PROTECT,
        related_name="candidates",
    )
    candidate_no = models.CharField("候補番号", max_length=20, unique=True)
    former_insurer_number = models.CharField("転出元の保険者番号", max_length=8)
    former_symbol = models.CharField("転出元の記号", max_length=20)
    former_number = models.CharField("転出元の番号", max_length=20)
    household = models.ForeignKey(
        Household, verbose_name="当市の世帯", on_delete=models.PROTECT, related_name="+"
    )
    symbol = models.CharField("記号", max_length=20)
    number = models.CharField("番号", max_length=20)
    # [{"month": "YYYY-MM-01", "counts": bool}] — the former city's 高額該当 months.
    months = models.JSONField("転出元の高額該当月", default=list)
    # {"former": [member…], "ours": [member…]}, member = name, kana, birth_date, sex, relation.
    evidence = models.JSONField("根拠（両側の世帯員）", default=dict)
    status = models.CharField(
        "状態", max_length=20, choices=CarryStatus.choices, default=CarryStatus.CANDIDATE
    )
    created_at = models.DateTimeField("取込日時")
    decided_at = models.DateTimeField("確認日時", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="確認した職員",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField("理由・メモ", max_length=300, blank=True)
    carried_months = models.PositiveSmallIntegerField("引き継いだ月数", default=0)

    class Meta:
        verbose_name = "高額該当引継 候補"
        indexes = [models.Index(fields=["status", "created_at"], name="kogaku_carry_status")]
        constraints = [
            # A decision says who and when; a candidate has neither.
            models.CheckConstraint(
                condition=(
                    models.Q(status="candidate", decided_at__isnull=True)
                    | (~models.Q(status="candidate") & models.Q(decided_at__isnull=False))
                ),
                name="kogaku_carry_decided_when",
            ),
            # 非該当 always says why.
            models.CheckConstraint(
                condition=~models.Q(status="not_applicable") | ~models.Q(reason=""),
                name="kogaku_carry_not_applicable_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.candidate_no} {self.get_status_display()}"
