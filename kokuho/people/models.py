"""Residents and households mirrored from the resident registry (住民基本台帳).

The live tables hold the current state only. Every change appends a row to
`PersonHistory` / `HouseholdHistory` (append-only by database trigger), which is where
"what did the registry say on day D" is answered.
"""

from django.db import models
from django.db.models.fields.json import KeyTransform


class Sex(models.IntegerChoices):
    """性別 — the registry's codes (1 男, 2 女)."""

    MALE = 1, "男"
    FEMALE = 2, "女"


class Relation(models.TextChoices):
    """続柄 (relationship to the head of household), as the registry file spells them."""

    HEAD = "世帯主", "世帯主"
    WIFE = "妻", "妻"
    HUSBAND = "夫", "夫"
    CHILD = "子", "子"
    FATHER = "父", "父"
    MOTHER = "母", "母"
    GRANDCHILD = "孫", "孫"
    ELDER_BROTHER = "兄", "兄"
    ELDER_SISTER = "姉", "姉"
    YOUNGER_BROTHER = "弟", "弟"
    YOUNGER_SISTER = "妹", "妹"
    GRANDFATHER = "祖父", "祖父"
    GRANDMOTHER = "祖母", "祖母"
    LODGER = "同居人", "同居人"
    OTHER = "その他", "その他"


class Household(models.Model):
    """世帯. `head` is the registry's 世帯主 (who may not be NHI-insured: 擬制世帯主)."""

    household_no = models.CharField("世帯番号", max_length=15, unique=True)
    head = models.ForeignKey(
        "people.Person",
        verbose_name="世帯主",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    formed_on = models.DateField("世帯設定日")
    dissolved_on = models.DateField("世帯消除日", null=True, blank=True)

    class Meta:
        verbose_name = "世帯"

    def __str__(self) -> str:
        return self.household_no


class Person(models.Model):
    """住民 (a resident as the registry knows them, including former residents)."""

    atena_no = models.CharField("宛名番号", max_length=15, unique=True)
    name = models.CharField("氏名", max_length=60)
    name_kana = models.CharField("氏名カナ", max_length=120)
    kana_key = models.CharField(
        "カナ検索キー", max_length=120, db_index=True, help_text="kokuho.core.kana.kana_search_key"
    )
    birth_date = models.DateField("生年月日", db_index=True)
    sex = models.PositiveSmallIntegerField("性別", choices=Sex.choices)
    postal_code = models.CharField("郵便番号", max_length=8, blank=True)
    address = models.CharField("住所", max_length=200)
    household = models.ForeignKey(
        Household, verbose_name="世帯", on_delete=models.PROTECT, related_name="members"
    )
    relation = models.CharField("続柄", max_length=10, choices=Relation.choices)
    resident_from = models.DateField("住民となった日")
    resident_until = models.DateField("住民でなくなった日", null=True, blank=True)
    is_foreign = models.BooleanField("外国人住民", default=False)
    residence_status = models.CharField("在留資格", max_length=40, blank=True)
    residence_until = models.DateField("在留期間の満了日", null=True, blank=True)

    class Meta:
        verbose_name = "住民"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(resident_until__isnull=True)
                | models.Q(resident_until__gte=models.F("resident_from")),
                name="person_residence_ordered",
            ),
            models.CheckConstraint(
                condition=models.Q(is_foreign=True) | models.Q(residence_until__isnull=True),
                name="person_residence_period_only_for_foreigners",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.atena_no}）"


class ChangeCode(models.TextChoices):
    """異動事由 — the registry change codes of interfaces.md §1, plus the initial load."""

    INITIAL_LOAD = "INIT", "初期移行"
    MOVE_IN = "A01", "転入"
    BIRTH = "A02", "出生"
    OFFICIAL_ENTRY = "A03", "職権記載等"
    MOVE_OUT = "B01", "転出"
    DEATH = "B02", "死亡"
    OFFICIAL_DELETION = "B03", "職権消除"
    RELOCATION = "C01", "転居"
    HEAD_CHANGE = "C02", "世帯主変更"
    HOUSEHOLD_SPLIT = "C03", "世帯分離"
    HOUSEHOLD_JOIN = "C04", "世帯合併"
    NAME_CHANGE = "C05", "氏名・カナ変更"


class PersonHistory(models.Model):
    """住民記録の履歴 (append-only): the person's registry data after each change."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="history")
    change_code = models.CharField("異動事由", max_length=4, choices=ChangeCode.choices)
    change_date = models.DateField("異動日")
    reported_on = models.DateField("届出日")
    recorded_at = models.DateTimeField("記録日時")
    source = models.CharField("記録元", max_length=100)
    snapshot = models.JSONField("異動後の内容")

    class Meta:
        verbose_name = "住民記録の履歴"
        indexes = [
            models.Index(fields=["person", "change_date"]),
            # Who was ever in a household (`snapshot__household_no__in`, the burden decision's
            # candidate members): without it every household look-up scans the history.
            models.Index(KeyTransform("household_no", "snapshot"), name="person_history_household"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.change_code} {self.change_date}"


class HouseholdHistory(models.Model):
    """世帯の履歴 (append-only): head and state after each change."""

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="history")
    change_code = models.CharField("異動事由", max_length=4, choices=ChangeCode.choices)
    change_date = models.DateField("異動日")
    recorded_at = models.DateTimeField("記録日時")
    source = models.CharField("記録元", max_length=100)
    snapshot = models.JSONField("異動後の内容")

    class Meta:
        verbose_name = "世帯の履歴"
        indexes = [models.Index(fields=["household", "change_date"])]

    def __str__(self) -> str:
        return f"{self.household_id} {self.change_code} {self.change_date}"


class CoverageKind(models.TextChoices):
    """他制度の加入状況・適用除外事由 — the facts that exclude a resident from NHI (国保法6条)."""

    EMPLOYEE_INSURANCE = "employee_insurance", "被用者保険（本人・被扶養者）"
    UNION = "union", "国民健康保険組合"
    WELFARE = "welfare", "生活保護"
    LATE_ELDERLY_DISABILITY = "late_elderly_disability", "後期高齢者医療（障害認定）"
    OTHER_MUNICIPALITY = "other_municipality", "他市町村国保（住所地特例による転入）"
    SHORT_STAY = "short_stay", "在留期間3月以下等の外国人（適用除外）"


class OtherCoverage(models.Model):
    """他制度加入状況: a period in which the person is covered by something other than NHI.

    Kept from notifications (社保加入・喪失届, 生活保護 開始・廃止 通知 …); eligibility is
    derived from these facts and the registry, never typed in directly.
    """

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="coverages")
    kind = models.CharField("種別", max_length=30, choices=CoverageKind.choices)
    start = models.DateField("開始日")
    end = models.DateField("終了日", null=True, blank=True)
    recorded_at = models.DateTimeField("記録日時")

    class Meta:
        verbose_name = "他制度加入状況"
        indexes = [models.Index(fields=["person", "start"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__isnull=True) | models.Q(end__gte=models.F("start")),
                name="coverage_period_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.kind} {self.start}–{self.end or ''}"


class Income(models.Model):
    """所得 (住民税の課税情報) per person and income year (所得年), from the tax system.

    The first record of a year applies from August 1 of the next year, when that income
    year starts being used (eligibility.md §6). A 更正 adds a record that applies from the
    month after it was reported (or that month, when reported on the 1st): the months
    already decided keep the figures they were decided on.
    """

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="incomes")
    income_year = models.PositiveSmallIntegerField("所得年")
    total_income = models.BigIntegerField("総所得金額等")
    taxable = models.BigIntegerField("課税標準額")
    tax_exempt = models.BooleanField("住民税非課税")
    revenue = models.BigIntegerField("収入額")
    pension_revenue = models.BigIntegerField("公的年金等収入", default=0)
    pension_income = models.BigIntegerField("公的年金等所得", default=0)
    unreported = models.BooleanField("未申告", default=False)
    applies_from = models.DateField("適用開始日")
    recorded_at = models.DateTimeField("記録日時", null=True)

    class Meta:
        verbose_name = "所得"
        constraints = [
            models.UniqueConstraint(
                fields=["person", "income_year", "applies_from"], name="income_once_per_start"
            ),
            models.CheckConstraint(
                condition=models.Q(total_income__gte=0, taxable__gte=0, revenue__gte=0),
                name="income_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.income_year}"
