"""Payee accounts and payments due: what a decision hands to the payments context.

- `payee_account_preview` checks an account as typed (bank and branch against the
  `zengin-code` data, ゆうちょ 記号・番号 converted, the name in 全銀 characters) and says
  what will be kept, for the clerk to see before saving.
- `payee_account_record` keeps it as the payee's current account: the same account again
  changes nothing; another one is a new version, the old one superseded, never overwritten.
- `payment_schedule` records what a decision owes (one payment per decision); a payment to
  an account whose name cannot be written in the file is held as a work item, and so is a
  payment to a payee who has given no account yet (released when one is recorded).
- `payee_organisation_record` / `organisation_account_record`: the 施術所, 国保連合会 or
  医療機関 paid instead of a resident, and its account (versioned like a person's).
"""

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.core.kana import KanaError, normalize_kana_name
from kokuho.core.purposes import Purpose
from kokuho.payments.banks import (
    YUCHO_BANK_CODE,
    BankError,
    bank_branch_lookup,
    digits_typed,
    yucho_convert,
)
from kokuho.payments.charset import ZenginCharError, zengin_field
from kokuho.payments.models import (
    AccountKind,
    AccountSource,
    Benefit,
    HoldReason,
    OrganisationKind,
    PayeeAccount,
    PayeeOrganisation,
    Payment,
    PaymentStatus,
)
from kokuho.people.models import Person
from kokuho.rules.params import parameters

PAYEE_NAME_WIDTH = 30  # 受取人名 C30


class AccountError(ValueError):
    """An account that cannot be kept: `field` names the input, the message says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class AccountInput:
    """振込先 as typed. For ゆうちょ, `yucho_symbol`/`yucho_number` instead of the codes."""

    bank_code: str = ""
    branch_code: str = ""
    account_type: int = 1
    account_number: str = ""
    holder_kana: str = ""
    yucho_symbol: str = ""
    yucho_number: str = ""


@dataclass(frozen=True)
class AccountPreview:
    bank_code: str
    bank_name: str
    bank_kana: str
    branch_code: str
    branch_name: str
    branch_kana: str
    account_type: int
    account_number: str
    holder_kana: str  # full-width, as screens show it
    holder_zengin: str  # as the file will carry it ("" when it cannot)
    holder_problem: str  # why it cannot (a work item), "" when fine


def payee_account_preview(account: AccountInput) -> AccountPreview:
    """The account as it would be kept; `AccountError` when it cannot be kept at all."""
    if account.yucho_symbol or account.yucho_number:
        try:
            yucho = yucho_convert(account.yucho_symbol, account.yucho_number)
        except BankError as error:
            raise AccountError("yucho_number", str(error)) from None
        bank_code, branch_code = YUCHO_BANK_CODE, yucho.branch_code
        account_type, number = yucho.account_type, yucho.account_number
    else:
        bank_code, branch_code = digits_typed(account.bank_code), digits_typed(account.branch_code)
        account_type, number = account.account_type, digits_typed(account.account_number)
        if bank_code == YUCHO_BANK_CODE and not re.fullmatch(r"\d{3}", branch_code):
            raise AccountError("yucho_symbol", "ゆうちょ銀行は記号・番号で入力してください")
        if not re.fullmatch(r"\d{1,7}", number):
            raise AccountError("account_number", "口座番号は7桁以内の数字です")
        number = number.rjust(7, "0")
        if account_type not in AccountKind.values:
            raise AccountError("account_type", "預金種目は普通・当座・貯蓄・その他のいずれかです")
    try:
        branch = bank_branch_lookup(bank_code, branch_code)
    except BankError as error:
        field = "branch_code" if error.code == "unknown_branch" else "bank_code"
        raise AccountError(field, str(error)) from None
    try:
        holder = normalize_kana_name(account.holder_kana)
    except KanaError as error:
        raise AccountError("holder_kana", f"口座名義: {error}") from None
    if not holder:
        raise AccountError("holder_kana", "口座名義（カナ）を入力してください")
    zengin, problem = "", ""
    try:
        zengin = zengin_field(holder, width=PAYEE_NAME_WIDTH)
    except ZenginCharError as error:
        problem = str(error)
    return AccountPreview(
        bank_code=bank_code,
        bank_name=branch.bank_name,
        bank_kana=_name15(branch.bank_kana),
        branch_code=branch_code,
        branch_name=branch.branch_name,
        branch_kana=_name15(branch.branch_kana),
        account_type=account_type,
        account_number=number,
        holder_kana=holder,
        holder_zengin=zengin,
        holder_problem=problem,
    )


def _name15(kana: str) -> str:
    # Banks route by number; the names are for reading. A name longer than the 15-character
    # field (none in today's zengin-code data) is left blank rather than cut mid-character.
    return kana if len(kana) <= 15 else ""


_SAME = ("bank_code", "branch_code", "account_type", "account_number", "holder_kana")


def payee_current_account(*, person: Person) -> PayeeAccount | None:
    return PayeeAccount.objects.filter(person=person, superseded_at__isnull=True).first()


def organisation_current_account(*, organisation: PayeeOrganisation) -> PayeeAccount | None:
    return PayeeAccount.objects.filter(
        organisation=organisation, superseded_at__isnull=True
    ).first()


def payee_account_record(
    *,
    person: Person,
    account: AccountInput | AccountPreview,
    source: AccountSource,
    valid_from: dt.date,
    actor: Any | None,
    source_ref: str = "",
    proxy_name: str = "",
) -> PayeeAccount:
    """The payee's current account after this one was given (see the module docstring)."""
    if source == AccountSource.PROXY and not proxy_name.strip():
        raise AccountError("proxy_name", "代理受領には委任を受けた人の氏名が必要です")
    return _account_record(
        owner={"person": person},
        account=account,
        source=source,
        valid_from=valid_from,
        actor=actor,
        source_ref=source_ref,
        proxy_name=proxy_name,
        audit=(SubjectType.PERSON, person.atena_no),
    )


def _account_record(
    *,
    owner: dict[str, Any],
    account: AccountInput | AccountPreview,
    source: AccountSource,
    valid_from: dt.date,
    actor: Any | None,
    source_ref: str,
    proxy_name: str,
    audit: tuple[SubjectType, str],
) -> PayeeAccount:
    preview = account if isinstance(account, AccountPreview) else payee_account_preview(account)
    with transaction.atomic():
        current = (
            PayeeAccount.objects.select_for_update()
            .filter(**owner, superseded_at__isnull=True)
            .first()
        )
        if (
            current is not None
            and all(getattr(current, f) == getattr(preview, f) for f in _SAME)
            and current.source == source
            and current.proxy_name == proxy_name.strip()
        ):
            return current
        now = timezone.now()
        version = 1
        if current is not None:
            current.superseded_at = now
            current.save(update_fields=["superseded_at"])
            version = current.version + 1
        kept = PayeeAccount.objects.create(
            **owner,
            version=version,
            bank_code=preview.bank_code,
            bank_kana=preview.bank_kana,
            branch_code=preview.branch_code,
            branch_kana=preview.branch_kana,
            account_type=preview.account_type,
            account_number=preview.account_number,
            holder_kana=preview.holder_kana,
            holder_zengin=preview.holder_zengin,
            holder_problem=preview.holder_problem,
            source=source,
            source_ref=source_ref,
            proxy_name=proxy_name.strip(),
            valid_from=valid_from,
            recorded_by=actor,
            recorded_at=now,
        )
        # Payments that waited for the payee's first account are due (or held by name) now.
        _release(Payment.objects.filter(**owner, hold_reason=HoldReason.NO_ACCOUNT), kept)
        audit_event_record(
            actor=actor,
            event_type=EventType.PAYEE_ACCOUNT_RECORDED,
            purpose=Purpose.NHI_BENEFITS,
            subject_type=audit[0],
            subject_id=audit[1],
            extra={"version": version, "source": str(source), "bank": preview.bank_code},
        )
    return kept


def payee_organisation_record(
    *,
    kind: OrganisationKind,
    code: str,
    name: str,
    name_kana: str = "",
    postal_code: str = "",
    address: str = "",
    actor: Any | None,
) -> PayeeOrganisation:
    """支払先の団体 by kind and code: created, or its name and address brought up to date
    (the latest file or form names it). The same values again change nothing."""
    code, name = code.strip(), name.strip()
    if not re.fullmatch(r"[0-9A-Za-z]{1,10}", code):
        raise AccountError("code", f"団体のコードは10桁以内の英数字です: '{code}'")
    if not name:
        raise AccountError("name", "団体の名称を入力してください")
    kana = ""
    if name_kana.strip():
        try:
            kana = normalize_kana_name(name_kana)
        except KanaError as error:
            raise AccountError("name_kana", f"名称（カナ）: {error}") from None
    values = {
        "name": name[:60],
        "name_kana": kana[:60],
        "postal_code": postal_code.strip(),
        "address": address.strip(),
    }
    with transaction.atomic():
        found = PayeeOrganisation.objects.select_for_update().filter(kind=kind, code=code).first()
        if found is not None and all(getattr(found, k) == v for k, v in values.items()):
            return found
        if found is None:
            found = PayeeOrganisation.objects.create(
                kind=kind, code=code, recorded_at=timezone.now(), **values
            )
        else:
            for key, value in values.items():
                setattr(found, key, value)
            found.save(update_fields=list(values))
        audit_event_record(
            actor=actor,
            event_type=EventType.PAYEE_ORGANISATION_RECORDED,
            purpose=Purpose.NHI_BENEFITS,
            subject_type=SubjectType.SYSTEM,
            subject_id=f"payee-organisation:{found.pk}",
            extra={"kind": str(kind), "code": code, "name": values["name"]},
        )
    return found


def organisation_account_record(
    *,
    organisation: PayeeOrganisation,
    account: AccountInput | AccountPreview,
    valid_from: dt.date,
    actor: Any | None,
    source_ref: str = "",
) -> PayeeAccount:
    """The organisation's current account after this one was given (受領委任の届出, the
    国保連合会's 指定口座): zengin-code checked and the 全銀 name kept as for a person."""
    return _account_record(
        owner={"organisation": organisation},
        account=account,
        source=AccountSource.APPLICATION,
        valid_from=valid_from,
        actor=actor,
        source_ref=source_ref,
        proxy_name="",
        audit=(SubjectType.SYSTEM, f"payee-organisation:{organisation.pk}"),
    )


def budget_item(benefit: str, on: dt.date) -> str:
    """The 予算科目 a benefit is paid from (a city parameter)."""
    return parameters().at(on).payments.budget_items[benefit]


def payment_build(
    *,
    benefit: Benefit,
    source_type: str,
    source_id: int,
    account: PayeeAccount | None,
    amount: int,
    decided_on: dt.date,
    person: Person | None = None,
    organisation: PayeeOrganisation | None = None,
    payable_from: dt.date | None = None,
    description: str = "",
) -> Payment:
    """An unsaved 支払予定 (batches create many at once with `bulk_create`): held (work
    item) when the account's name cannot be written, or when the payee has no account yet
    (`account=None`, named by `person` or `organisation`)."""
    if amount <= 0:
        raise ValueError("支払額は1円以上です")
    payee = (person.pk if person else None, organisation.pk if organisation else None)
    if account is not None:
        if payee == (None, None):
            payee = (account.person_id, account.organisation_id)
        if (account.person_id, account.organisation_id) != payee:
            raise ValueError("振込先口座が受給者のものではありません")
    elif (person is None) == (organisation is None):
        raise ValueError("受給者（住民または団体のどちらか一方）を指定してください")
    if account is None:
        hold, detail = HoldReason.NO_ACCOUNT, "振込先口座の届出を待っています（届出後に支払います）"
    elif account.holder_problem:
        hold, detail = HoldReason.ACCOUNT_NAME, account.holder_problem[:200]
    else:
        hold, detail = "", ""
    return Payment(
        benefit=benefit,
        budget_item=budget_item(benefit, decided_on),
        source_type=source_type,
        source_id=source_id,
        person_id=payee[0],
        organisation_id=payee[1],
        account=account,
        amount=amount,
        description=description,
        decided_on=decided_on,
        payable_from=payable_from or decided_on,
        status=PaymentStatus.HELD if hold else PaymentStatus.DUE,
        hold_reason=hold,
        hold_detail=detail,
        created_at=timezone.now(),
    )


def payment_schedule(
    *,
    benefit: Benefit,
    source_type: str,
    source_id: int,
    account: PayeeAccount | None,
    amount: int,
    decided_on: dt.date,
    person: Person | None = None,
    organisation: PayeeOrganisation | None = None,
    payable_from: dt.date | None = None,
    description: str = "",
) -> Payment:
    """支払予定 for one decision (see `payment_build`)."""
    payment = payment_build(
        benefit=benefit,
        source_type=source_type,
        source_id=source_id,
        account=account,
        amount=amount,
        decided_on=decided_on,
        person=person,
        organisation=organisation,
        payable_from=payable_from,
        description=description,
    )
    payment.save(force_insert=True)
    return payment


def _release(payments: Any, account: PayeeAccount) -> int:
    return payments.update(
        account=account,
        status=PaymentStatus.HELD if account.holder_problem else PaymentStatus.DUE,
        hold_reason=HoldReason.ACCOUNT_NAME if account.holder_problem else "",
        hold_detail=account.holder_problem[:200],
    )


def payments_account_replace(
    *,
    account: PayeeAccount,
    person: Person | None = None,
    organisation: PayeeOrganisation | None = None,
) -> int:
    """A corrected account releases the payee's held and returned payments to it."""
    owner = (
        {"person": person}
        if person is not None
        else {"organisation": organisation}
        if organisation is not None
        else {"person_id": account.person_id, "organisation_id": account.organisation_id}
    )
    return _release(
        Payment.objects.filter(**owner, status__in=[PaymentStatus.HELD, PaymentStatus.RETURNED]),
        account,
    )


def payments_settle(*, source_type: str, source_ids: list[int]) -> int:
    """Payments recorded as made some other way (窓口払い, an earlier manual record): never
    in a run afterwards."""
    return Payment.objects.filter(
        source_type=source_type,
        source_id__in=source_ids,
        status__in=[PaymentStatus.DUE, PaymentStatus.HELD, PaymentStatus.RETURNED],
    ).update(status=PaymentStatus.SETTLED, hold_reason="", hold_detail="")


def payment_account_correct(
    *, payment: Payment, account: AccountInput, actor: Any
) -> tuple[PayeeAccount, int]:
    """A held or returned payment's work item resolved with a corrected account: a new
    version of the payee's account, and every held or returned payment of the payee moved
    to it (due again, or still held if its name cannot be written either)."""
    if payment.status not in (PaymentStatus.HELD, PaymentStatus.RETURNED):
        raise AccountError("account", "保留・振込不能の支払だけ口座を訂正できます")
    owner = (
        {"organisation_id": payment.organisation_id}
        if payment.organisation_id is not None
        else {"person_id": payment.person_id}
    )
    with transaction.atomic():
        # Payments waiting for a first account are released by recording it.
        waiting = Payment.objects.filter(**owner, hold_reason=HoldReason.NO_ACCOUNT).count()
        if payment.organisation_id is not None:
            kept = organisation_account_record(
                organisation=payment.organisation,
                account=account,
                valid_from=timezone.localdate(),
                actor=actor,
                source_ref=f"payment:{payment.pk} 口座の訂正",
            )
            released = payments_account_replace(organisation=payment.organisation, account=kept)
        else:
            previous = payment.account
            kept = payee_account_record(
                person=payment.person,
                account=account,
                source=previous.source if previous else AccountSource.APPLICATION,
                valid_from=timezone.localdate(),
                actor=actor,
                source_ref=f"payment:{payment.pk} 口座の訂正",
                proxy_name=previous.proxy_name if previous else "",
            )
            released = payments_account_replace(person=payment.person, account=kept)
    return kept, waiting + released
