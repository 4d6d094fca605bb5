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
