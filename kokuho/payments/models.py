"""Payments (支払): payee accounts, what is due to whom, and the runs that send it to a bank.

Every benefit's decision that pays money hands the payments context one `Payment` (支払予定):
how much, to which account version, for which benefit and 予算科目. The payments context
knows nothing of how the amount was decided; it only guarantees that what is due is paid
once, to the account the payee gave, in a 全銀 file that reconciles with the decisions.

- `PayeeAccount` (振込先口座) is versioned per payee: a change is a new version, never an
  overwrite, and the next transfer to a new version carries 新規コード 2 (payments.md §4).
  It is a business record keyed by 宛名番号: it never touches My Number.
- `PaymentRun` (支払処理) is one 支払日: its 全銀 files (one per 依頼人口座), the 支払明細
  register, and what it carried (`PaymentTransfer`, the run's lines, with the account and
  name as written, so a repeated run writes the same bytes).
- A transfer the bank could not make (振込不能) returns its payment to the due list once the
  account is corrected; the returned line stays as it was.
- A payee is a resident (`person`) or an organisation (`PayeeOrganisation`: the 施術所 paid
  under 受領委任, the 国保連合会 paid under 直接支払制度, a 医療機関): every account and
  payment belongs to exactly one of them (check constraints), accounts versioned alike.
"""

from django.conf import settings
from django.db import models

from kokuho.people.models import Person


class Benefit(models.TextChoices):
    """給付の種類 that are paid by transfer (one 予算科目 each, a city parameter)."""

    KOGAKU = "kogaku", "高額療養費"
    RYOYOHI = "ryoyohi", "療養費"
    KAIGAI = "kaigai", "海外療養費"
    ISOUHI = "isouhi", "移送費"
    SHUSSAN = "shussan", "出産育児一時金"
    SOSAI = "sosai", "葬祭費"
    GASSAN = "gassan", "高額介護合算療養費"
    JUSEI = "jusei", "柔整・あはき療養費"


class AccountKind(models.IntegerChoices):
    """預金種目 as the 全銀 data record codes it."""

    ORDINARY = 1, "普通"
    CURRENT = 2, "当座"
    SAVINGS = 4, "貯蓄"
    OTHER = 9, "その他"


class AccountSource(models.TextChoices):
    """Where an account came from (payments.md §4)."""

    APPLICATION = "application", "申請書（世帯主の署名）"
    PROXY = "proxy", "委任状（代理受領）"
    PUBLIC = "public", "公金受取口座（情報照会）"


class OrganisationKind(models.TextChoices):
    """支払先の団体の種類."""

    PRACTITIONER = "practitioner", "施術所"
    FEDERATION = "federation", "国民健康保険団体連合会"
    MEDICAL = "medical", "医療機関"


class PayeeOrganisation(models.Model):
    """支払先の団体: a payee that is not a resident. `code` is the 施術所コード, the
    国保連合会's 保険者番号-style code or the 医療機関コード, unique per kind. Its address is
    optional (the 支払通知書 is addressed to its name; a resident's address is never used)."""

    kind = models.CharField("種類", max_length=12, choices=OrganisationKind.choices)
    code = models.CharField("コード", max_length=10)
    name = models.CharField("名称", max_length=60)
    name_kana = models.CharField("名称（カナ）", max_length=60, blank=True)
    postal_code = models.CharField("郵便番号", max_length=8, blank=True)
    address = models.CharField("所在地", max_length=200, blank=True)
    recorded_at = models.DateTimeField("記録日時")

    class Meta:
        verbose_name = "支払先の団体"
        constraints = [
            models.UniqueConstraint(fields=["kind", "code"], name="payee_organisation_code"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.code} {self.name}"


_ONE_PAYEE = models.Q(person__isnull=False, organisation__isnull=True) | models.Q(
    person__isnull=True, organisation__isnull=False
)


class PayeeAccount(models.Model):
    """振込先口座: one version of the account a payee is paid to.

    `holder_kana` is the name as given (full-width, for screens); `holder_zengin` the 全銀
    characters the file carries, shown to the clerk before the account is kept. Empty when
    the name cannot be written in the field: the account is kept and its payments are held
    as a work item, never paid to a cut name."""

    person = models.ForeignKey(
        Person,
        verbose_name="受給者",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payee_accounts",
    )
    organisation = models.ForeignKey(
        PayeeOrganisation,
        verbose_name="受給者（団体）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accounts",
    )
    version = models.PositiveIntegerField("版")
    bank_code = models.CharField("金融機関コード", max_length=4)
    bank_kana = models.CharField("金融機関名（全銀）", max_length=15)
    branch_code = models.CharField("店舗コード", max_length=3)
    branch_kana = models.CharField("店舗名（全銀）", max_length=15)
    account_type = models.PositiveSmallIntegerField("預金種目", choices=AccountKind.choices)
    account_number = models.CharField("口座番号", max_length=7)
    holder_kana = models.CharField("口座名義（カナ）", max_length=60)
    holder_zengin = models.CharField("口座名義（全銀文字）", max_length=30, blank=True)
    holder_problem = models.CharField("口座名義の問題", max_length=200, blank=True)
    source = models.CharField("口座の出所", max_length=12, choices=AccountSource.choices)
    source_ref = models.CharField(
        "出所の参照（処理通番・委任の記録など）", max_length=60, blank=True
    )
    proxy_name = models.CharField("代理受領者", max_length=60, blank=True)
    valid_from = models.DateField("適用開始日")
    superseded_at = models.DateTimeField("次の版に置き換えた日時", null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="記録者",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField("記録日時")

    class Meta:
        verbose_name = "振込先口座"
        constraints = [
            models.UniqueConstraint(fields=["person", "version"], name="payee_account_version"),
            models.UniqueConstraint(
                fields=["person"],
                condition=models.Q(superseded_at__isnull=True),
                name="payee_account_one_current",
            ),
            models.UniqueConstraint(
                fields=["organisation", "version"], name="payee_org_account_version"
            ),
            models.UniqueConstraint(
                fields=["organisation"],
                condition=models.Q(superseded_at__isnull=True),
                name="payee_org_account_one_current",
            ),
            models.CheckConstraint(condition=_ONE_PAYEE, name="payee_account_one_payee"),
            models.CheckConstraint(
                condition=~models.Q(source=AccountSource.PROXY) | ~models.Q(proxy_name=""),
                name="payee_account_proxy_named",
            ),
            # A name either made it into 全銀 characters or says why not.
            models.CheckConstraint(
                condition=(
                    models.Q(holder_zengin="") & ~models.Q(holder_problem="")
                    | ~models.Q(holder_zengin="") & models.Q(holder_problem="")
                ),
                name="payee_account_name_or_problem",
            ),
        ]

    def __str__(self) -> str:
        return f"第{self.version}版 {self.masked()}"

    def masked(self) -> str:
        return (
            f"{self.bank_code}-{self.branch_code} {self.get_account_type_display()} "
            f"****{self.account_number[-3:]} {self.holder_kana}"
        )


class PaymentStatus(models.TextChoices):
    DUE = "due", "支払待ち"
    HELD = "held", "保留（要対応）"
    SCHEDULED = "scheduled", "振込指定済み"
    RETURNED = "returned", "振込不能"
    SETTLED = "settled", "支払済み（振込以外で記録）"


class HoldReason(models.TextChoices):
    ACCOUNT_NAME = "account_name", "口座名義を全銀の文字で書けない"
    ACCOUNT_RETURNED = "account_returned", "振込不能（口座の確認が必要）"
    NO_ACCOUNT = "no_account", "振込先口座の届出がない"


class Payment(models.Model):
    """支払予定: an amount a decision owes to a payee, paid by one transfer.

    `source_type`/`source_id` name the decision (e.g. `kogaku_decision` 41): a decision has
    at most one payment, so deciding twice can never pay twice."""

    benefit = models.CharField("給付", max_length=10, choices=Benefit.choices)
    budget_item = models.CharField("予算科目", max_length=40)
    source_type = models.CharField("決定の種類", max_length=30)
    source_id = models.PositiveBigIntegerField("決定の番号")
    person = models.ForeignKey(
        Person,
        verbose_name="受給者",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
    )
    organisation = models.ForeignKey(
        PayeeOrganisation,
        verbose_name="受給者（団体）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
    )
    # Empty only while the payee has given no account (held, `NO_ACCOUNT`) or once settled.
    account = models.ForeignKey(
        PayeeAccount,
        verbose_name="振込先口座",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
    )
    amount = models.PositiveIntegerField("支払額")
    # What the payee reads on the 支払通知書 (e.g. 令和8年7月診療分), set by the decision.
    description = models.CharField("内容", max_length=100, blank=True)
    decided_on = models.DateField("決定日")
    payable_from = models.DateField("支払可能日")
    status = models.CharField(
        "状態", max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.DUE
    )
    hold_reason = models.CharField("保留の理由", max_length=20, blank=True)
    hold_detail = models.CharField("保留の内容", max_length=200, blank=True)
    created_at = models.DateTimeField("記録日時")

    class Meta:
        verbose_name = "支払予定"
        constraints = [
            models.UniqueConstraint(fields=["source_type", "source_id"], name="payment_once"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_positive"),
            models.CheckConstraint(
                condition=(
                    models.Q(status__in=[PaymentStatus.HELD, PaymentStatus.RETURNED])
                    & ~models.Q(hold_reason="")
                    | ~models.Q(status__in=[PaymentStatus.HELD, PaymentStatus.RETURNED])
                    & models.Q(hold_reason="")
                ),
                name="payment_held_with_reason",
            ),
            models.CheckConstraint(condition=_ONE_PAYEE, name="payment_one_payee"),
            models.CheckConstraint(
                condition=models.Q(account__isnull=False)
                | models.Q(status__in=[PaymentStatus.HELD, PaymentStatus.SETTLED]),
                name="payment_account_or_held",
            ),
        ]
        indexes = [models.Index(fields=["status", "payable_from"], name="payment_due")]

    def __str__(self) -> str:
        return f"{self.get_benefit_display()} {self.source_type}:{self.source_id} {self.amount}"

    @property
    def payee_name(self) -> str:
        """The payee as screens show it: the resident's name or the organisation's."""
        return self.person.name if self.person_id else self.organisation.name

    @property
    def payee_ref(self) -> str:
        """宛名番号, or the organisation's kind and code (what the register shows)."""
        if self.person_id:
            return self.person.atena_no
        return organisation_ref(self.organisation.kind, self.organisation.code)


# Short enough for the 支払明細書's 宛名番号 column (19 mm) with a 10-digit code.
_REF_PREFIX = {
    OrganisationKind.PRACTITIONER: "施術所",
    OrganisationKind.FEDERATION: "国保連",
    OrganisationKind.MEDICAL: "医療",
}


def organisation_ref(kind: str, code: str) -> str:
    """How registers and screens name an organisation payee, e.g. 施術所:0123456."""
    return f"{_REF_PREFIX[OrganisationKind(kind)]}:{code}"


class PaymentRunStatus(models.TextChoices):
    DONE = "done", "作成済み"
    STOPPED = "stopped", "停止（照合不一致）"


class PaymentRun(models.Model):
    """支払処理: one 支払日 (振込指定日), its files and what they carried.

    `payers` and `profile` keep the 依頼人 and the bank profile as the run used them, so a
    repeated run writes the same bytes even after the configuration changed."""

    pay_date = models.DateField("支払日（振込指定日）")
    sent_on = models.DateField("ファイル送付日")
    status = models.CharField("状態", max_length=10, choices=PaymentRunStatus.choices)
    profile = models.JSONField("銀行別仕様")
    payers = models.JSONField("振込依頼人")
    files = models.JSONField("作成したファイル", default=list)
    prints = models.JSONField("印刷物（支払明細書・支払通知書）", default=list)
    count = models.PositiveIntegerField("件数", default=0)
    total = models.PositiveBigIntegerField("合計金額", default=0)
    totals = models.JSONField("給付・予算科目別の合計", default=dict)
    error_message = models.TextField("停止の理由", blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="実行者",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("実行日時")

    class Meta:
        verbose_name = "支払処理"
        constraints = [
            models.UniqueConstraint(
                fields=["pay_date"],
                condition=models.Q(status="done"),
                name="payment_run_one_per_day",
            )
        ]

    def __str__(self) -> str:
        return f"{self.pay_date} ({self.get_status_display()})"


class TransferStatus(models.TextChoices):
    SENT = "sent", "振込指定"
    RETURNED = "returned", "振込不能"


class PaymentTransfer(models.Model):
    """One data record of a run's 全銀 file: the payment, and the account as written."""

    run = models.ForeignKey(
        PaymentRun, verbose_name="支払処理", on_delete=models.PROTECT, related_name="transfers"
    )
    payment = models.ForeignKey(
        Payment, verbose_name="支払予定", on_delete=models.PROTECT, related_name="transfers"
    )
    # The account version written (the payment may move to a corrected one later).
    account = models.ForeignKey(
        PayeeAccount, verbose_name="振込先口座", on_delete=models.PROTECT, related_name="+"
    )
    payer = models.CharField("振込依頼人", max_length=20)
    seq = models.PositiveIntegerField("ファイル内の順番")
    customer_code = models.CharField("顧客コード", max_length=10)
    bank_code = models.CharField("被仕向銀行番号", max_length=4)
    bank_kana = models.CharField("被仕向銀行名", max_length=15)
    branch_code = models.CharField("被仕向支店番号", max_length=3)
    branch_kana = models.CharField("被仕向支店名", max_length=15)
    account_type = models.PositiveSmallIntegerField("預金種目", choices=AccountKind.choices)
    account_number = models.CharField("口座番号", max_length=7)
    holder_zengin = models.CharField("受取人名", max_length=30)
    amount = models.PositiveIntegerField("振込金額")
    new_code = models.PositiveSmallIntegerField("新規コード")
    status = models.CharField(
        "状態", max_length=10, choices=TransferStatus.choices, default=TransferStatus.SENT
    )
    return_reason = models.CharField("振込不能の理由", max_length=100, blank=True)

    class Meta:
        verbose_name = "支払処理の明細"
        constraints = [
            models.UniqueConstraint(fields=["run", "payer", "seq"], name="transfer_seq"),
            models.UniqueConstraint(fields=["run", "customer_code"], name="transfer_customer"),
            # A payment stands in at most one transfer that was not returned: never paid twice.
            models.UniqueConstraint(
                fields=["payment"],
                condition=models.Q(status="sent"),
                name="transfer_payment_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.run_id}/{self.payer}/{self.seq} {self.amount}"
