"""The demo's money: households answer their 申請勧奨, the counter decides, the run pays.

Through the real services only: each invited household of the current 高額療養費 month
applies (most of them; some with 申請簡素化) with a synthetic account at a real bank and
branch of the `zengin-code` data (a few at ゆうちょ, by 記号・番号), is decided, and the
payment run of the first 支払日 the bank can take writes its files under
`var/demo/payments/`. Deterministic for a seed; a second demo finds the decisions made.
"""

import datetime as dt
import random
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone
from zengin_code import Bank

from kokuho.benefits.kogaku.workflow import (
    AccountIn,
    KogakuError,
    kogaku_application_register,
    kogaku_decide,
)
from kokuho.benefits.models import KogakuApplication, KogakuInvitation
from kokuho.payments.banks import YUCHO_BANK_CODE
from kokuho.payments.calendar import earliest_pay_date
from kokuho.payments.config import payment_config_load
from kokuho.payments.models import Payment, PaymentRun, PaymentRunStatus, PaymentStatus
from kokuho.payments.run import PaymentRunError, RunOutcome, payment_run
from kokuho.payments.services import AccountError, AccountInput, payee_account_preview

# Banks a みかん市 household would use: the prefecture's two regional banks, a city bank.
DEMO_BANKS = ("0174", "0576", "0001")
APPLY_SHARE = 0.8  # of invited households apply in the demo month
SIMPLIFY_SHARE = 0.3  # of those also consent to 申請簡素化


def _branches(bank_code: str, first: int = 20) -> list[str]:
    return sorted(Bank.all[bank_code].branches)[:first]


def _account(rng: random.Random, holder: str) -> AccountIn:
    """A synthetic account at a real branch (ゆうちょ converted from 記号・番号)."""
    if rng.random() < 0.15:
        # A 総合口座 記号 whose 2nd–3rd digits name an existing 店番 (…8).
        shop = rng.choice([b for b in _branches(YUCHO_BANK_CODE, 200) if b.endswith("8")])
        yucho = payee_account_preview(
            AccountInput(
                yucho_symbol=f"1{shop[:2]}{rng.randint(0, 9)}0",
                yucho_number=f"{rng.randint(1000000, 9999999)}1",
                holder_kana=holder,
            )
        )
        return AccountIn(YUCHO_BANK_CODE, yucho.branch_code, 1, yucho.account_number, holder)
    bank = rng.choice(DEMO_BANKS)
    return AccountIn(bank, rng.choice(_branches(bank)), 1, f"{rng.randint(0, 9999999):07d}", holder)


def demo_kogaku_applications(
    *, month: dt.date, seed: int, on: dt.date, actor: Any
) -> tuple[int, int, int]:
    """Applications and decisions for the month's invited households (once per household)."""
    applied = decided = refused = 0
    invitations = (
        KogakuInvitation.objects.filter(month=month)
        .exclude(household__in=KogakuApplication.objects.filter(month=month).values("household"))
        .select_related("household__head")
        .order_by("household_id")
    )
    for invitation in invitations:
        # One draw per household: a second demo makes the same choices, so it adds nothing.
        rng = random.Random(f"demo-payments-{seed}-{month:%Y%m}-{invitation.household_id}")
        if rng.random() >= APPLY_SHARE:
            continue
        head = invitation.household.head
        if head is None or head.household_id != invitation.household_id:
            continue
        try:
            account = _account(rng, head.name_kana)
            application = kogaku_application_register(
                household=invitation.household,
                month=month,
                applicant=head,
                received_on=on,
                account=account,
                simplify=rng.random() < SIMPLIFY_SHARE,
                actor=actor,
            )
            applied += 1
            kogaku_decide(application=application, actor=actor, decided_on=on)
            decided += 1
        except (KogakuError, AccountError):
            refused += 1
    return applied, decided, refused


def demo_payment_run(*, today: dt.date) -> tuple[RunOutcome | None, str]:
    """The payment run of the first 支払日 a file sent now can carry (or the last run)."""
    config = payment_config_load()
    sent_at = timezone.localtime()
    if sent_at.date() != today:
        sent_at = timezone.make_aware(dt.datetime.combine(today, dt.time(9, 0)))
    pay_date = earliest_pay_date(profile=config.profile, sent_at=sent_at)
    out_dir = Path(settings.VAR_DIR) / "demo" / "payments"
    try:
        return payment_run(
            pay_date=pay_date, actor=None, sent_at=sent_at, config=config, out_dir=out_dir
        ), ""
    except PaymentRunError as error:
        last = PaymentRun.objects.filter(status=PaymentRunStatus.DONE).order_by("-pay_date").first()
        if last is not None:
            return RunOutcome(last, repeated=True), f"{error}（直近の支払処理を表示します）"
        return None, str(error)


def demo_payments_held() -> int:
    return Payment.objects.filter(status=PaymentStatus.HELD).count()
