"""Staff accounts (職員アカウント): Django's User plus what the security policy needs."""

from django.conf import settings
from django.db import models


class StaffProfile(models.Model):
    """職員情報. Named accounts only; an account has a validity window (利用期間).

    `valid_until` is the end date of employment or of a contract (委託契約期間): past it the
    account cannot log in, which is how 元職員 and contractors outside their contract are
    shut out (privacy.md: 権限のない者による不正使用).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="staff_profile"
    )
    full_name = models.CharField("氏名", max_length=60)
    department = models.CharField("所属", max_length=60, blank=True)
    valid_from = models.DateField("利用開始日")
    valid_until = models.DateField("利用終了日", null=True, blank=True)
    is_contractor = models.BooleanField("委託事業者", default=False)
    # Demo accounts only (`kokuho demo`): `kokuho demo-totp` prints their current code and
    # refuses every other account, so the demo stays usable without weakening real ones.
    is_demo = models.BooleanField("デモ用アカウント", default=False)
    # When the member of staff is also a resident of the city: the self-inspection flags
    # their looking at their own household (自己点検: 自己・家族の情報の閲覧).
    resident_atena_no = models.CharField(
        "本人の宛名番号（市民である場合）", max_length=15, blank=True, db_index=True
    )

    class Meta:
        verbose_name = "職員情報"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_until__isnull=True)
                | models.Q(valid_until__gte=models.F("valid_from")),
                name="staff_validity_ordered",
            )
        ]

    def __str__(self) -> str:
        return self.full_name


class TrainingCourse(models.TextChoices):
    """研修の種類. Only 特定個人情報の取扱い研修 opens personal data (`REQUIRED_COURSE`)."""

    MY_NUMBER_HANDLING = "my_number_handling", "特定個人情報の取扱い研修"
    INFORMATION_SECURITY = "information_security", "情報セキュリティ研修"
    CONTRACTOR_BRIEFING = "contractor_briefing", "委託先従事者への取扱い説明"


# The course an account needs, valid on the day, to reach personal data (従業者教育).
REQUIRED_COURSE = TrainingCourse.MY_NUMBER_HANDLING


class TrainingRecord(models.Model):
    """研修受講記録. One row per course taken; a renewal is a new row, never an edit, so the
    history of who was trained when stays readable for the 自己点検."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="training_records"
    )
    course = models.CharField("研修", max_length=40, choices=TrainingCourse.choices)
    completed_on = models.DateField("受講日")
    expires_on = models.DateField("有効期限")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="記録者",
    )
    recorded_at = models.DateTimeField("記録日時", auto_now_add=True)

    class Meta:
        verbose_name = "研修受講記録"
        indexes = [models.Index(fields=["user", "course", "expires_on"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_on__gte=models.F("completed_on")),
                name="training_expiry_after_completion",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.get_course_display()} {self.completed_on}"
