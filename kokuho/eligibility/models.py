"""Eligibility (資格) records: bitemporal periods, numbers, and the facts only NHI keeps.

Bitemporal: `EligibilityPeriod` rows belong to an `EligibilityVersion`, which records when
we learned them (`recorded_at`). A later fact — a late report, a correction — adds a new
version; nothing is overwritten. `CurrentEligibility` points at each person's newest version
so that "insured on D?" is one indexed join; "what did we believe on K about D?" reads the
newest version recorded by K.
"""

from django.conf import settings
from django.db import models

from kokuho.people.models import Household, Person


class EligibilityVersion(models.Model):
    """資格履歴の版: the person's whole set of periods as known from `recorded_at`."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="elig_versions")
    seq = models.PositiveIntegerField("版")
    recorded_at = models.DateTimeField("記録日時")
    cause = models.CharField("原因", max_length=40)
    fact_date = models.DateField("事実発生日", null=True)
    reported_on = models.DateField("届出日", null=True)
    changed_from = models.DateField("変更が及ぶ最初の日", null=True)
    is_retroactive = models.BooleanField("遡及", default=False)

    class Meta:
        verbose_name = "資格履歴の版"
        constraints = [
            models.UniqueConstraint(fields=["person", "seq"], name="elig_version_seq_unique")
        ]
        indexes = [models.Index(fields=["person", "recorded_at"])]

    def __str__(self) -> str:
        return f"{self.person_id} v{self.seq}"


class EligibilityPeriod(models.Model):
    """資格期間: 取得日 `start`, last insured day `end` (喪失日 − 1), with their reasons."""

    version = models.ForeignKey(
        EligibilityVersion, on_delete=models.PROTECT, related_name="periods"
    )
    start = models.DateField("資格取得日")
    end = models.DateField("資格の最終日", null=True)
    acquired = models.CharField("取得事由", max_length=40)
    lost = models.CharField("喪失事由", max_length=40, blank=True)

    class Meta:
        verbose_name = "資格期間"
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__isnull=True) | models.Q(end__gte=models.F("start")),
                name="elig_period_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"{self.start}–{self.end or ''}"


class CurrentEligibility(models.Model):
    """Pointer to the person's newest version (the only row here that is updated)."""

    person = models.OneToOneField(
        Person, on_delete=models.PROTECT, primary_key=True, related_name="current_eligibility"
    )
    version = models.OneToOneField(EligibilityVersion, on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        return f"{self.person_id} → {self.version_id}"


class HouseholdNumber(models.Model):
    """被保険者証等の記号・番号 of an NHI household (the city numbers per household)."""

    household = models.OneToOneField(Household, on_delete=models.PROTECT, related_name="nhi_number")
    symbol = models.CharField("記号", max_length=20)
    number = models.CharField("番号", max_length=20)
    assigned_on = models.DateField("付番日")

    class Meta:
        verbose_name = "記号・番号"
        constraints = [
            models.UniqueConstraint(fields=["symbol", "number"], name="household_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.symbol}-{self.number}"


class BranchNumber(models.Model):
    """枝番 (個人単位被保険者番号の2桁): per person within a 記号・番号, never reused."""

    household_number = models.ForeignKey(
        HouseholdNumber, on_delete=models.PROTECT, related_name="branches"
    )
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="branch_numbers")
    branch = models.CharField("枝番", max_length=2)
    assigned_on = models.DateField("付番日")

    class Meta:
        verbose_name = "枝番"
        constraints = [
            models.UniqueConstraint(
                fields=["household_number", "branch"], name="branch_unique_in_number"
            ),
            models.UniqueConstraint(
                fields=["household_number", "person"], name="one_branch_per_person_in_number"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household_number_id}/{self.branch}"


class KeptKind(models.TextChoices):
    FACILITY = "facility", "住所地特例（施設入所による転出）"
    STUDENT = "student", "修学中の特例"


class KeptInsured(models.Model):
    """住所地特例・修学中の特例: insured here while living in another municipality."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="kept_cases")
    kind = models.CharField("種別", max_length=20, choices=KeptKind.choices)
    start = models.DateField("適用開始日")
    end = models.DateField("適用終了日", null=True, blank=True)
    recorded_at = models.DateTimeField("記録日時")

    class Meta:
        verbose_name = "住所地特例・修学中特例"

    def __str__(self) -> str:
        return f"{self.person_id} {self.kind} {self.start}"


class KijunApplication(models.Model):
    """基準収入額適用申請 (70–74): lifts 現役並み from the month after, if revenue qualifies."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="kijun_applications")
    applied_on = models.DateField("申請日")
    recorded_at = models.DateTimeField("記録日時")

    class Meta:
        verbose_name = "基準収入額適用申請"

    def __str__(self) -> str:
        return f"{self.person_id} {self.applied_on}"


class NoticeCode(models.TextChoices):
    LATE_REPORT = "late_report", "届出期限（14日）超過"
    RETROACTIVE = "retroactive_change", "遡及による資格の変更"
    COVERAGE_START_INFERRED = "coverage_start_inferred", "他制度の開始日を推定"


class EligibilityNotice(models.Model):
    """Warnings for the worklist (届出遅延, 遡及), kept with the fact that raised them."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="elig_notices")
    code = models.CharField(max_length=30, choices=NoticeCode.choices)
    message = models.CharField(max_length=200)
    fact_date = models.DateField()
    reported_on = models.DateField()
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "資格の警告"

    def __str__(self) -> str:
        return f"{self.person_id} {self.code}"


class ContinuityResultFile(models.Model):
    """資格継続チェック結果ファイル: one imported file of the 国保情報集約システム's continuity
    check (kept so that the same file, by SHA-256, is refused when it comes again)."""

    file_name = models.CharField("ファイル名", max_length=255)
    sha256 = models.CharField("SHA-256", max_length=64, unique=True)
    imported_at = models.DateTimeField("取込日時")
    counts = models.JSONField("件数", default=dict)
    problems = models.JSONField("反映しなかったレコード", default=list)

    class Meta:
        verbose_name = "資格継続チェック結果ファイル"

    def __str__(self) -> str:
        return self.file_name


class ContinuityCarriedDates(models.Model):
    """資格継続で引き継いだ日付: after a move within the prefecture the 資格 continues, so
    the 資格取得年月日 (or 喪失年月日) the prefecture holds differs from this city's 適用開始
    (適用終了). A row names the period by this city's 適用開始 `applied_from`; the newest row
    of a person and `applied_from` is in force (append-only: a later acceptance adds a row).

    `acquired_on`: the carried 資格取得年月日 (None: this city's 適用開始 is the 取得日).
    `carries_loss`: the carried 喪失年月日 `lost_on` replaces this city's (None = the 資格
    did not end at the move out)."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="carried_dates")
    applied_from = models.DateField("当市の適用開始年月日")
    acquired_on = models.DateField("引継ぎの資格取得年月日", null=True, blank=True)
    carries_loss = models.BooleanField("喪失年月日を引き継ぐ", default=False)
    lost_on = models.DateField("引継ぎの資格喪失年月日", null=True, blank=True)
    basis = models.CharField("根拠", max_length=300)
    recorded_at = models.DateTimeField("記録日時")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="記録した職員",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = "資格継続で引き継いだ日付"
        indexes = [models.Index(fields=["person", "applied_from"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(acquired_on__isnull=True)
                | models.Q(acquired_on__lte=models.F("applied_from")),
                name="carried_acquired_not_after_applied",
            ),
            models.CheckConstraint(
                condition=models.Q(carries_loss=True) | models.Q(lost_on__isnull=True),
                name="carried_lost_only_when_carried",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.applied_from} ← {self.acquired_on or ''}"
