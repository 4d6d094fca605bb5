"""Benefits (給付) records. First: the monthly claims (レセプト) the 国保連合会 sends.

A `Claim` is one 診療報酬明細書 as the claims file states it (interfaces.md §3), with what
the import found when it looked the insured number up: the person and their 記号・番号
(when known) and the match (照合結果). A claim that matches no insured person of its month is
kept all the same, marked 番号不明 or 資格喪失後受診・資格なし, and reported — never dropped.

Amounts are integers: 総点数 in points (1 point = 10 yen), 一部負担金 in yen.
"""

from django.conf import settings
from django.db import models

from kokuho.eligibility.models import HouseholdNumber
from kokuho.interfaces.models import ImportFile
from kokuho.people.models import Household, Person


class ClaimSetting(models.IntegerChoices):
    """入院・入院外 (the 入外区分 of the claim)."""

    INPATIENT = 1, "入院"
    OUTPATIENT = 2, "入院外"


class ClaimKind(models.IntegerChoices):
    """レセプトの種別 (医科・歯科・調剤・訪問看護). 訪問看護 counts as medical outpatient."""

    MEDICAL = 1, "医科"
    DENTAL = 3, "歯科"
    PHARMACY = 4, "調剤"
    HOME_NURSING = 5, "訪問看護"


class ClaimMatch(models.TextChoices):
    """照合結果: whom the insured number on the claim belongs to, and whether they were
    insured here in the month of service."""

    MATCHED = "matched", "照合済み"
    UNKNOWN_NUMBER = "unknown_number", "番号不明"
    NOT_INSURED = "not_insured", "資格喪失後受診・資格なし"


UNMATCHED = (ClaimMatch.UNKNOWN_NUMBER, ClaimMatch.NOT_INSURED)


class Claim(models.Model):
    """レセプト (診療報酬明細書): one claim of one person at one provider for one 診療月."""

    claim_id = models.CharField("レセプト管理番号", max_length=40, unique=True)
    service_month = models.DateField("診療年月")  # the first day of the month
    insurer_no = models.CharField("保険者番号", max_length=8)
    symbol = models.CharField("記号", max_length=20)
    number = models.CharField("番号", max_length=20)
    branch = models.CharField("枝番", max_length=2)
    provider = models.CharField("医療機関コード", max_length=10)
    setting = models.PositiveSmallIntegerField("入院・入院外", choices=ClaimSetting.choices)
    kind = models.PositiveSmallIntegerField("種別", choices=ClaimKind.choices)
    prescribed_by = models.CharField("処方元医療機関コード", max_length=10, blank=True)
    points = models.PositiveIntegerField("総点数")
    copay = models.PositiveIntegerField("一部負担金額")
    public_payer = models.CharField("公費負担者番号", max_length=8, blank=True)
    specific_disease = models.BooleanField("特定疾病", default=False)
    limit_applied = models.BooleanField("限度額適用済み", default=False)
    import_file = models.ForeignKey(
        ImportFile,
        verbose_name="取込ファイル",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    person = models.ForeignKey(
        Person,
        verbose_name="被保険者",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="claims",
    )
    household_number = models.ForeignKey(
        HouseholdNumber,
        verbose_name="記号・番号",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="claims",
    )
    match = models.CharField("照合結果", max_length=20, choices=ClaimMatch.choices)
    recorded_at = models.DateTimeField("記録日時")

    class Meta:
        verbose_name = "レセプト"
        indexes = [
            # The 高額療養費 engine reads a month's claims per person, and the unmatched ones.
            models.Index(fields=["service_month", "person"], name="claim_month_person"),
            models.Index(fields=["service_month", "match"], name="claim_month_match"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(service_month__day=1), name="claim_month_first_day"
            ),
            models.CheckConstraint(
                condition=models.Q(copay__lte=models.F("points") * 10),
                name="claim_copay_within_cost",
            ),
            # 処方元 exactly on 調剤 claims.
            models.CheckConstraint(
                condition=(
                    models.Q(kind=ClaimKind.PHARMACY) & ~models.Q(prescribed_by="")
                    | ~models.Q(kind=ClaimKind.PHARMACY) & models.Q(prescribed_by="")
                ),
                name="claim_prescriber_on_pharmacy",
            ),
            # A person is named exactly when the number was found; 番号不明 names no one.
            models.CheckConstraint(
                condition=(
                    models.Q(match=ClaimMatch.UNKNOWN_NUMBER, person__isnull=True)
                    | models.Q(
                        match__in=[ClaimMatch.MATCHED, ClaimMatch.NOT_INSURED],
                        person__isnull=False,
                        household_number__isnull=False,
                    )
                ),
                name="claim_person_when_matched",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.claim_id} {self.service_month:%Y-%m} {self.get_match_display()}"


class KogakuRunStatus(models.TextChoices):
    QUEUED = "queued", "待機中"
    RUNNING = "running", "計算中"
    DONE = "done", "完了"
    REFUSED = "refused", "計算せず（限度額が未確定）"
    FAILED = "failed", "失敗"


KOGAKU_RUN_OPEN = (KogakuRunStatus.QUEUED, KogakuRunStatus.RUNNING)


class KogakuRun(models.Model):
    """高額療養費 月次計算: one computation of one 診療月 for every household with claims.

    The newest finished run of a month is its current one; earlier runs stay as they were
    (what was computed, with which parameter values), and `stage`/`done`/`total` follow the
    work for the screen and the command."""

    month = models.DateField("診療月")  # the first day of the month
    status = models.CharField(
        "状態", max_length=10, choices=KogakuRunStatus.choices, default=KogakuRunStatus.QUEUED
    )
    stage = models.CharField("処理段階", max_length=40, blank=True)
    done = models.PositiveIntegerField("処理済み", default=0)
    total = models.PositiveIntegerField("全体", default=0)
    parameters = models.JSONField("適用した法令パラメータ", default=list)
    counts = models.JSONField("件数", default=dict)
    error_message = models.TextField("理由・エラー内容", blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="依頼者",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("依頼日時")
    started_at = models.DateTimeField("開始日時", null=True, blank=True)
    finished_at = models.DateTimeField("終了日時", null=True, blank=True)
    task_id = models.CharField("タスクID", max_length=64, blank=True)
    # The process computing it and its last sign of life (`kokuho.core.liveness`): a run
    # whose process died is closed as failed by the next run or screen of the month.
    worker = models.CharField("実行プロセス", max_length=80, blank=True)
    heartbeat_at = models.DateTimeField("最終進捗日時", null=True, blank=True)

    class Meta:
        verbose_name = "高額療養費 月次計算"
        indexes = [models.Index(fields=["month", "status"], name="kogaku_run_month")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(month__day=1), name="kogaku_run_month_first_day"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(status__in=KOGAKU_RUN_OPEN, finished_at__isnull=True)
                    | (~models.Q(status__in=KOGAKU_RUN_OPEN) & models.Q(finished_at__isnull=False))
                ),
                name="kogaku_run_finished_when_closed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in KOGAKU_RUN_OPEN


class KogakuResult(models.Model):
    """高額療養費 計算結果: one household's outcome for one 診療月 in one run.

    `household_step_benefit` is what the household steps paid (steps 2, 3 and the 75歳
    personal step): a month counts for 多数回 when it is above 0. `main_step` is the step
    that paid most (the reason shown in summaries)."""

    run = models.ForeignKey(
        KogakuRun, verbose_name="月次計算", on_delete=models.PROTECT, related_name="results"
    )
    month = models.DateField("診療月")
    household = models.ForeignKey(
        Household, verbose_name="世帯", on_delete=models.PROTECT, related_name="kogaku_results"
    )
    benefit = models.PositiveIntegerField("支給額")
    household_step_benefit = models.PositiveIntegerField("世帯単位の支給額")
    many_times = models.BooleanField("多数回該当")
    household_limit = models.PositiveIntegerField("世帯の自己負担限度額", null=True)
    main_step = models.CharField("主な理由（手順）", max_length=4, blank=True)
    # 計算明細 of a paid household as the engine left it (members, units, steps, shares, the
    # 多数回 months): what notices and screens word, without computing again.
    explanation = models.JSONField("計算の内訳", null=True, blank=True)

    class Meta:
        verbose_name = "高額療養費 計算結果"
        constraints = [
            models.UniqueConstraint(fields=["run", "household"], name="kogaku_result_once"),
            models.CheckConstraint(
                condition=models.Q(household_step_benefit__lte=models.F("benefit")),
                name="kogaku_result_steps_within_benefit",
            ),
        ]
        indexes = [models.Index(fields=["household", "month"], name="kogaku_result_household")]

    def __str__(self) -> str:
        return f"{self.household_id} {self.month:%Y-%m} {self.benefit}"


class KogakuPersonResult(models.Model):
    """按分: a member's counted co-payment and share of the household's benefit."""

    result = models.ForeignKey(
        KogakuResult, verbose_name="計算結果", on_delete=models.CASCADE, related_name="persons"
    )
    person = models.ForeignKey(
        Person, verbose_name="被保険者", on_delete=models.PROTECT, related_name="kogaku_shares"
    )
    counted_copay = models.PositiveIntegerField("合算対象の一部負担金")
    benefit = models.PositiveIntegerField("支給額（按分）")

    class Meta:
        verbose_name = "高額療養費 計算結果（個人）"
        constraints = [
            models.UniqueConstraint(fields=["result", "person"], name="kogaku_person_once"),
            models.CheckConstraint(
                condition=models.Q(benefit__lte=models.F("counted_copay")),
                name="kogaku_person_within_copay",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.result_id}/{self.person_id} {self.benefit}"


class AccountType(models.IntegerChoices):
    ORDINARY = 1, "普通"
    CURRENT = 2, "当座"


class BankAccount(models.Model):
    """振込先口座 (bank transfer) as the application or consent gives it."""

    bank_code = models.CharField("金融機関コード", max_length=4)
    branch_code = models.CharField("店舗コード", max_length=3)
    account_type = models.PositiveSmallIntegerField("預金種目", choices=AccountType.choices)
    account_number = models.CharField("口座番号", max_length=7)
    holder_kana = models.CharField("口座名義（カナ）", max_length=60)

    class Meta:
        abstract = True

    def masked_account(self) -> str:
        """The account as notices and lists show it: the number's last three digits only."""
        return (
            f"{self.bank_code}-{self.branch_code} {self.get_account_type_display()} "
            f"****{self.account_number[-3:]} {self.holder_kana}"
        )


class KogakuSimplification(BankAccount):
    """申請簡素化: the 世帯主's consent that later 高額療養費 of the household is decided and
    paid to this account without a new application, until withdrawn."""

    household = models.ForeignKey(
        Household, verbose_name="世帯", on_delete=models.PROTECT, related_name="+"
    )
    head = models.ForeignKey(
        Person, verbose_name="届出者（世帯主）", on_delete=models.PROTECT, related_name="+"
    )
    consented_on = models.DateField("届出日")
    withdrawn_on = models.DateField("取下げ日", null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="受付者", on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField("記録日時")

    class Meta:
        verbose_name = "高額療養費 申請簡素化"
        constraints = [
            models.UniqueConstraint(
                fields=["household"],
                condition=models.Q(withdrawn_on__isnull=True),
                name="kogaku_one_open_simplification",
            )
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.consented_on}"


class KogakuApplication(BankAccount):
    """高額療養費支給申請: the head's application for one household and 診療月."""

    household = models.ForeignKey(
        Household, verbose_name="世帯", on_delete=models.PROTECT, related_name="+"
    )
    month = models.DateField("診療月")
    applicant = models.ForeignKey(
        Person, verbose_name="申請者（世帯主）", on_delete=models.PROTECT, related_name="+"
    )
    received_on = models.DateField("受付日")
    simplification = models.ForeignKey(
        KogakuSimplification,
        verbose_name="同時に届け出た申請簡素化",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="受付者", on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField("記録日時")

    class Meta:
        verbose_name = "高額療養費 支給申請"
        constraints = [
            models.UniqueConstraint(fields=["household", "month"], name="kogaku_one_application"),
            models.CheckConstraint(
                condition=models.Q(month__day=1), name="kogaku_application_month_first_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.month:%Y-%m}"


class KogakuInvitation(models.Model):
    """申請勧奨: a household the run found owed something, asked to apply."""

    result = models.OneToOneField(
        KogakuResult, verbose_name="計算結果", on_delete=models.PROTECT, related_name="invitation"
    )
    household = models.ForeignKey(
        Household, verbose_name="世帯", on_delete=models.PROTECT, related_name="+"
    )
    month = models.DateField("診療月")
    first_time = models.BooleanField("初回（申請簡素化の案内あり）")
    created_at = models.DateTimeField("作成日時")
    printed_at = models.DateTimeField("通知書の印刷日時", null=True, blank=True)

    class Meta:
        verbose_name = "高額療養費 申請勧奨"
        constraints = [
            models.UniqueConstraint(fields=["household", "month"], name="kogaku_one_invitation")
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.month:%Y-%m}"


class DecisionKind(models.TextChoices):
    APPLICATION = "application", "申請による決定"
    SIMPLIFIED = "simplified", "申請簡素化による決定"
    CHANGE = "change", "変更決定（再計算による）"


class DecisionOutcome(models.TextChoices):
    PAID = "paid", "支給"
    REFUSED = "refused", "不支給"


class RecomputeCause(models.TextChoices):
    """Why a decided month was computed again (payments.md §3)."""

    LATE_CLAIM = "late_claim", "レセプトの追加（月遅れ請求）"
    CLAIM_CORRECTION = "claim_correction", "レセプトの過誤調整・再審査"
    INCOME_CORRECTION = "income_correction", "所得区分の更正（所得の修正申告等）"
    ELIGIBILITY_CHANGE = "eligibility_change", "資格の遡及異動"
    RYOYOHI = "ryoyohi", "療養費の支給（自己負担相当額の合算）"
    OTHER = "other", "その他の再計算"


class KogakuDecision(BankAccount):
    """高額療養費支給決定: the amount decided for a household and 診療月, the account it is
    paid to (copied from the application or consent), and the 計算明細 as decided."""

    household = models.ForeignKey(
        Household, verbose_name="世帯", on_delete=models.PROTECT, related_name="+"
    )
    month = models.DateField("診療月")
    # The computation decided on; none for a 不支給 of a household the run has no row for
    # (no counted co-payment at all in the month).
    result = models.ForeignKey(
        KogakuResult,
        verbose_name="計算結果",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="decisions",
    )
    kind = models.CharField("決定の種類", max_length=12, choices=DecisionKind.choices)
    outcome = models.CharField(
        "決定の内容", max_length=8, choices=DecisionOutcome.choices, default=DecisionOutcome.PAID
    )
    # 不支給の理由, or what made the month computed again (変更決定).
    reason = models.CharField("理由", max_length=200, blank=True)
    # A 変更決定 replaces the standing decision of the month, which stays as it was
    # (append-only); the chain of a month is its first decision and its changes in order.
    # CASCADE: only the retention job deletes decisions, and a chain goes whole.
    replaces = models.OneToOneField(
        "self",
        verbose_name="変更前の決定",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="replaced_by",
    )
    cause = models.CharField(
        "再計算の理由", max_length=20, choices=RecomputeCause.choices, blank=True
    )
    # amount − the replaced decision's amount: > 0 追加支給, < 0 返納 (0 for a first decision).
    difference = models.IntegerField("差額（追加支給・返納）", default=0)
    application = models.OneToOneField(
        KogakuApplication,
        verbose_name="申請",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="decision",
    )
    simplification = models.ForeignKey(
        KogakuSimplification,
        verbose_name="申請簡素化",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    amount = models.PositiveIntegerField("支給額")
    decided_on = models.DateField("決定日")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="決定者",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    steps = models.JSONField("計算明細", default=list)
    paid_on = models.DateField("支払日", null=True, blank=True)
    created_at = models.DateTimeField("記録日時")

    class Meta:
        verbose_name = "高額療養費 支給決定"
        constraints = [
            # One first decision per household and month; later ones are 変更決定 of it.
            models.UniqueConstraint(
                fields=["household", "month"],
                condition=models.Q(replaces__isnull=True),
                name="kogaku_one_first_decision",
            ),
            # 支給 pays something; 不支給 pays nothing and says why.
            models.CheckConstraint(
                condition=(
                    models.Q(outcome=DecisionOutcome.PAID, amount__gt=0)
                    | models.Q(outcome=DecisionOutcome.REFUSED, amount=0) & ~models.Q(reason="")
                ),
                name="kogaku_decision_outcome",
            ),
            # A first decision rests on an application, or on the household's consent
            # (簡素化); a 変更決定 on the decision it replaces, with its cause.
            models.CheckConstraint(
                condition=(
                    models.Q(
                        kind=DecisionKind.APPLICATION,
                        application__isnull=False,
                        simplification__isnull=True,
                        replaces__isnull=True,
                        difference=0,
                        cause="",
                    )
                    | models.Q(
                        kind=DecisionKind.SIMPLIFIED,
                        application__isnull=True,
                        simplification__isnull=False,
                        replaces__isnull=True,
                        difference=0,
                        cause="",
                    )
                    | models.Q(
                        kind=DecisionKind.CHANGE,
                        application__isnull=True,
                        simplification__isnull=True,
                        replaces__isnull=False,
                    )
                    & ~models.Q(cause="")
                ),
                name="kogaku_decision_basis",
            ),
        ]
        indexes = [models.Index(fields=["paid_on", "decided_on"], name="kogaku_decision_unpaid")]

    def __str__(self) -> str:
        return f"{self.household_id} {self.month:%Y-%m} {self.amount}"

    @property
    def additional(self) -> int:
        """追加支給額 of a 変更決定 (0 otherwise)."""
        return max(0, self.difference)

    @property
    def refund(self) -> int:
        """返納額 of a 変更決定 (0 otherwise)."""
        return max(0, -self.difference)


class KogakuCarriedMonth(models.Model):
    """高額該当の引継ぎ: a 診療月 in which a former municipality of the same prefecture paid
    the household 高額療養費 by a household step, as the 国保情報集約システム reports after a
    move within the prefecture (県内転居) when the household continues (世帯の継続性).

    It counts for 多数回 like a month this city paid (the same month once). A wrong entry is
    withdrawn with a reason (`withdrawn_at`), never deleted: results computed while it
    stood keep what they rested on. At most one standing entry per household and month."""

    household = models.ForeignKey(
        Household, verbose_name="世帯", on_delete=models.PROTECT, related_name="+"
    )
    month = models.DateField("診療月")  # the first day of the month
    former_insurer_number = models.CharField("前住所地の保険者番号", max_length=6)
    basis = models.CharField("根拠（国保情報集約システムの照会等）", max_length=200)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="記録者",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField("記録日時", auto_now_add=True)
    withdrawn_at = models.DateTimeField("取消日時", null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="取消者",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    withdrawn_reason = models.CharField("取消の理由", max_length=200, blank=True)

    class Meta:
        verbose_name = "高額療養費 該当月の引継ぎ"
        constraints = [
            models.UniqueConstraint(
                fields=["household", "month"],
                condition=models.Q(withdrawn_at__isnull=True),
                name="kogaku_carried_once",
            ),
            models.CheckConstraint(
                condition=models.Q(month__day=1), name="kogaku_carried_month_first_day"
            ),
            # A withdrawal always says why; a standing entry has no reason.
            models.CheckConstraint(
                condition=(
                    models.Q(withdrawn_at__isnull=True, withdrawn_reason="")
                    | (models.Q(withdrawn_at__isnull=False) & ~models.Q(withdrawn_reason=""))
                ),
                name="kogaku_carried_withdrawn_with_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.month:%Y-%m} {self.former_insurer_number}"


class KogakuRecomputeRequest(models.Model):
    """再計算の対象: a decided (household, 診療月) that something made out of date — a claim
    assigned after 照合, a retroactive 資格 or 所得区分 (更正), a 療養費 of the month — noted
    where it happens and taken by the month's re-computation (`kogaku.recompute`), which
    records when and by which run. Late claims of a decided month need no request: the
    re-computation finds them by their 記録日時."""

    household = models.ForeignKey(
        Household, verbose_name="世帯", on_delete=models.PROTECT, related_name="+"
    )
    month = models.DateField("診療月")
    cause = models.CharField("再計算の理由", max_length=20, choices=RecomputeCause.choices)
    detail = models.CharField("内容", max_length=200, blank=True)
    noted_at = models.DateTimeField("記録日時")
    done_at = models.DateTimeField("再計算日時", null=True, blank=True)
    done_run = models.ForeignKey(
        KogakuRun,
        verbose_name="再計算の月次計算",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = "高額療養費 再計算の対象"
        constraints = [
            models.UniqueConstraint(
                fields=["household", "month", "cause"],
                condition=models.Q(done_at__isnull=True),
                name="kogaku_recompute_open_once",
            ),
            models.CheckConstraint(
                condition=models.Q(month__day=1), name="kogaku_recompute_month_first_day"
            ),
        ]
        indexes = [models.Index(fields=["month", "done_at"], name="kogaku_recompute_open")]

    def __str__(self) -> str:
        return f"{self.household_id} {self.month:%Y-%m} {self.cause}"


class KogakuOutpatientYear(models.Model):
    """外来年間合算（年間上限）: the yearly settlement of one 70–74 member's outpatient
    co-payments over the cap year 8/1–7/31 (基準日 7/31), for a member who is 一般 or
    低所得 on the 基準日 (令第42条の2; payments.md §3).

    `months` holds each month of the year as counted — the outpatient amount left after
    that month's 外来 limit, and whether the month counts (a month as 一般 or 低所得) — so
    the notice shows the sum without recomputing. A settlement made again (a late claim,
    a 更正) replaces the standing one, which stays as it was."""

    person = models.ForeignKey(
        Person, verbose_name="被保険者", on_delete=models.PROTECT, related_name="+"
    )
    household = models.ForeignKey(
        Household, verbose_name="世帯（基準日）", on_delete=models.PROTECT, related_name="+"
    )
    head = models.ForeignKey(
        Person, verbose_name="世帯主（支払先）", on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField("計算期間の開始年")  # 8/1 of this year …
    category = models.CharField("所得区分（基準日）", max_length=20)
    months = models.JSONField("月別の外来自己負担額", default=list)
    total = models.PositiveIntegerField("年間の外来自己負担額")
    annual_limit = models.PositiveIntegerField("年間上限額")
    benefit = models.PositiveIntegerField("支給額")
    parameters = models.JSONField("適用した法令パラメータ", default=list)
    replaces = models.OneToOneField(
        "self",
        verbose_name="変更前の精算",
        null=True,
        blank=True,
        on_delete=models.CASCADE,  # as for decisions: a chain is erased whole
        related_name="replaced_by",
    )
    difference = models.IntegerField("差額（追加支給・返納）", default=0)
    decided_on = models.DateField("決定日")
    created_at = models.DateTimeField("記録日時")

    class Meta:
        verbose_name = "高額療養費 外来年間合算"
        constraints = [
            models.UniqueConstraint(
                fields=["person", "year"],
                condition=models.Q(replaces__isnull=True),
                name="kogaku_outpatient_year_once",
            ),
            models.CheckConstraint(
                condition=models.Q(benefit__gt=0) | models.Q(replaces__isnull=False),
                name="kogaku_outpatient_year_paid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.year} {self.benefit}"


# The life cycle of the other benefits lives in its own module; imported here so that Django
# finds its models in this app.
from kokuho.benefits.gassan.models import (  # noqa: E402
    CareCostCertificate,
    GassanResult,
    GassanRun,
)
from kokuho.benefits.lifecycle.models import (  # noqa: E402
    BenefitApplication,
    BenefitDecision,
)

__all__ = [
    "BenefitApplication",
    "BenefitDecision",
    "CareCostCertificate",
    "GassanResult",
    "GassanRun",
]

# 一部負担金の減額・免除・徴収猶予 (法44条), likewise in its own module.
from kokuho.benefits.reduction.models import (  # noqa: E402
    CopayReductionApplication,
    CopayReductionDecision,
)

__all__ += ["CopayReductionApplication", "CopayReductionDecision"]

# 未照合レセプトの解消 (再照合・被保険者の指定・返戻), append-only, likewise in its own module.
from kokuho.benefits.claim_resolution_models import (  # noqa: E402
    ClaimResolution,
    ClaimResolutionKind,
)

__all__ += ["ClaimResolution", "ClaimResolutionKind"]

# 国保連の受領委任（柔整・あはき）・直接支払制度（出産育児一時金）, likewise in their module.
from kokuho.benefits.entrusted.models import (  # noqa: E402
    DirectPaymentBatch,
    DirectPaymentLine,
    EntrustedBatch,
    EntrustedLine,
    EntrustedPayee,
)

__all__ += [
    "DirectPaymentBatch",
    "DirectPaymentLine",
    "EntrustedBatch",
    "EntrustedLine",
    "EntrustedPayee",
]

# 高額該当引継 候補 (国保情報集約システム) and the clerk's decision, likewise in its own module.
from kokuho.benefits.carry_candidate_models import (  # noqa: E402
    CarryStatus,
    KogakuCarryCandidate,
    KogakuCarryCandidateFile,
)

__all__ += ["CarryStatus", "KogakuCarryCandidate", "KogakuCarryCandidateFile"]
