"""高額介護合算療養費: the 介護 side's certificates and the yearly run's results.

`CareCostCertificate` (自己負担額証明書) is what the 介護保険 side reports of a person's year
(自己負担額 after 高額介護サービス費), one per 証明書番号. `GassanRun` computes every household
that has both sides for one 計算期間; `GassanResult` keeps each household's outcome with
the members' amounts and the explanation as computed (the newest finished run of a year is
its current one; earlier runs stay as they were).
"""

from django.db import models

from kokuho.people.models import Household, Person


class CareCostCertificate(models.Model):
    """自己負担額証明書 (介護保険): one person's care co-payments of one 計算期間."""

    certificate_no = models.CharField("証明書番号", max_length=20, unique=True)
    year = models.PositiveSmallIntegerField("計算期間（開始年）")
    person = models.ForeignKey(
        Person, verbose_name="被保険者", on_delete=models.PROTECT, related_name="+"
    )
    care_insurer_no = models.CharField("介護保険者番号", max_length=6)
    care_amount = models.PositiveIntegerField("介護の自己負担額（高額介護サービス費の後）")
    file_name = models.CharField("取込ファイル", max_length=200)
    file_sha256 = models.CharField("取込ファイルのSHA-256", max_length=64)
    recorded_at = models.DateTimeField("記録日時")

    class Meta:
        verbose_name = "自己負担額証明書（介護）"
        indexes = [models.Index(fields=["year", "person"], name="care_cert_year_person")]

    def __str__(self) -> str:
        return f"{self.certificate_no} {self.year} {self.care_amount}"


class GassanRun(models.Model):
    """高額介護合算 年次計算: one 計算期間, every household with both sides."""

    year = models.PositiveSmallIntegerField("計算期間（開始年）")
    counts = models.JSONField("件数", default=dict)
    parameters = models.JSONField("適用した法令パラメータ", default=list)
    created_at = models.DateTimeField("実行日時")

    class Meta:
        verbose_name = "高額介護合算 年次計算"

    def __str__(self) -> str:
        return f"{self.year} ({self.pk})"


class GassanResult(models.Model):
    run = models.ForeignKey(
        GassanRun, verbose_name="年次計算", on_delete=models.PROTECT, related_name="results"
    )
    household = models.ForeignKey(
        Household, verbose_name="世帯", on_delete=models.PROTECT, related_name="+"
    )
    excess_70_74 = models.PositiveIntegerField("70〜74歳の超過額")
    excess = models.PositiveIntegerField("超過額")
    paid = models.BooleanField("支給対象（500円超）")
    medical_share = models.PositiveIntegerField("医療保険の負担分")
    care_share = models.PositiveIntegerField("介護保険の負担分")
    members = models.JSONField("世帯員の医療・介護の自己負担額")
    explanation = models.JSONField("計算の説明")

    class Meta:
        verbose_name = "高額介護合算 計算結果"
        constraints = [
            models.UniqueConstraint(fields=["run", "household"], name="gassan_result_once"),
            models.CheckConstraint(
                condition=models.Q(excess_70_74__lte=models.F("excess")),
                name="gassan_result_steps_within_excess",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.run_id}/{self.household_id} {self.excess}"
