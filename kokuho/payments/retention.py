"""The payments context in the retention job: `RecordSource` of `retention.rules` for the
会計 records (`payments.accounting.<n>y_after_closing`) and the payee accounts
(`payments.payee_account.<n>y_after_superseded`).

会計 records — 支出負担行為・支払: a payment (`Payment`), the lines that carried it
(`PaymentTransfer`), the run (`PaymentRun`) and the run's files on disk (全銀 files, 支払明細,
支払通知書) — are kept `n` years (`retention.accounting_years`, the city's 財務規則) counted
from the 出納閉鎖 (5/31 of the next year, 地方自治法235条の5) of the fiscal year of the
payment's last date. A payment goes with every transfer that carried it, only when it is
paid (振込指定済み or settled otherwise: one due, held or returned is work still to do) and
no transfer of it is in a run of a year not yet past (a payment paid again in a newer run
stays). A run goes when no line is left in it, and its files with it; the export register
(外部出力記録, `interfaces.ExportRecord`, `payment-run:<id>`) keeps the record that the file
was produced, its SHA-256 and its count.

A payee account version (`PayeeAccount`) goes `n` years (`retention.payee_account_years`)
after the 出納閉鎖 of the year it was superseded in — or, for the current version, the year
its person left (転出・死亡: `resident_until`) — and only when nothing refers to it any more
but rows this run erases before it (its payments and their lines, a 給付の申請 past the
decisions rule). The payee may be a person or not (an organisation): only a person's
account is held by a pending 開示等請求 (decision 63), and only a person can leave.
"""

import datetime as dt
from collections.abc import Iterator
from functools import reduce
from operator import or_
from pathlib import Path

from django.apps import apps
from django.db import transaction
from django.db.models import Exists, Model, OuterRef, Q, QuerySet

from kokuho.payments.models import (
    PayeeAccount,
    Payment,
    PaymentRun,
    PaymentStatus,
    PaymentTransfer,
)
from kokuho.retention.erasure import pk_windows, retention_erasure_declare
from kokuho.retention.models import DataClass
from kokuho.retention.rules import accounts_closed_before, local_day_start, retention_rules
from kokuho.retention.selectors import unknown_references
from kokuho.subject_requests.models import RequestStatus, SubjectRequest

Erased = tuple[int, dict[str, int]]
PAID = (PaymentStatus.SCHEDULED, PaymentStatus.SETTLED)
FILES_TABLE = "payment run files (KOKUHO_PAYMENT_DIR)"


def _pending(atena: str) -> Exists:
    return Exists(
        SubjectRequest.objects.filter(status=RequestStatus.RECEIVED, atena_no=OuterRef(atena))
    )


def _unknown(model: type[Model], known: frozenset[type[Model]]) -> Q:
    found = unknown_references(model, known)
    return reduce(or_, (Q(f) for f in found)) if found else Q(pk__in=[])


def payments_due(cutoff: dt.date) -> QuerySet[Payment]:
    """Paid payments whose every date (decision, payable, each transfer's 支払日) lies in a
    fiscal year closed before `cutoff`, not held by a pending request of the payee."""
    day = accounts_closed_before(cutoff)
    newer = PaymentTransfer.objects.filter(payment=OuterRef("pk"), run__pay_date__gte=day)
    return (
        Payment.objects.filter(status__in=PAID)
        .filter(decided_on__lt=day, payable_from__lt=day)
        .exclude(Exists(newer))
        .exclude(_pending("person__atena_no"))
        .exclude(_unknown(Payment, frozenset({PaymentTransfer})))
    )


def _runs_empty(cutoff: dt.date) -> QuerySet[PaymentRun]:
    day = accounts_closed_before(cutoff)
    return (
        PaymentRun.objects.filter(pay_date__lt=day)
        .exclude(Exists(PaymentTransfer.objects.filter(run=OuterRef("pk"))))
        .exclude(_unknown(PaymentRun, frozenset({PaymentTransfer})))
    )


def payments_count(*, cutoff: dt.date, as_of: dt.date) -> int:
    """Payments `payments_erase` erases (runs and files follow them, counted as rows)."""
    return payments_due(cutoff).count()


def _run_files_remove(runs: list[dict]) -> int:
    """The files each run lists (全銀, 支払明細, prints), and its folder once empty."""
    removed = 0
    for run in runs:
        folders = set()
        for entry in [*run["files"], *run["prints"]]:
            if not entry.get("path"):
                continue
            path = Path(entry["path"])
            if path.is_file():
                path.unlink()
                removed += 1
            folders.add(path.parent)
        for folder in folders:
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
    return removed


def payments_erase(*, cutoff: dt.date, as_of: dt.date, chunk: int) -> Iterator[Erased]:
    """Payments past the rule with their transfers, an id range of `chunk` per transaction;
    then the runs left without lines, with their files (rows only, no payment counted).
    Each chunk is yielded inside its transaction: the job's deletion record commits with
    it (`retention.rules.RecordSource`)."""
    for start, end in pk_windows(Payment, chunk):
        with transaction.atomic():
            retention_erasure_declare()
            ids = list(
                payments_due(cutoff).filter(pk__gte=start, pk__lt=end).values_list("pk", flat=True)
            )
            if not ids:
                continue
            _, transfers = PaymentTransfer.objects.filter(payment_id__in=ids).delete()
            _, payments = Payment.objects.filter(pk__in=ids).delete()
            yield len(ids), {k: n for k, n in (transfers | payments).items() if n}
    for start, end in pk_windows(PaymentRun, chunk):
        with transaction.atomic():
            retention_erasure_declare()
            runs = list(
                _runs_empty(cutoff)
                .filter(pk__gte=start, pk__lt=end)
                .values("pk", "files", "prints")
            )
            if not runs:
                continue
            _, tables = PaymentRun.objects.filter(pk__in=[r["pk"] for r in runs]).delete()
            # Inside the transaction, after the rows: a failure before the commit leaves a
            # row naming a missing file (the download says so), never a file no row names.
            files = _run_files_remove(runs)
            removed = {k: n for k, n in tables.items() if n}
            yield 0, removed | ({FILES_TABLE: files} if files else {})


# --- payee accounts -------------------------------------------------------------------------


def _cutoffs(as_of: dt.date) -> dict[DataClass, dt.date]:
    rules = retention_rules(as_of=as_of)
    return {
        c: rules[c].cutoff(as_of=as_of) for c in (DataClass.PAYMENTS, DataClass.BENEFIT_DECISIONS)
    }


def payee_accounts_due(*, cutoff: dt.date, as_of: dt.date) -> QuerySet[PayeeAccount]:
    """Account versions past the rule that nothing refers to but rows the job erases before
    them (on `as_of`: payments past the 会計 rule, applications past the decisions rule)."""
    day = accounts_closed_before(cutoff)
    moment = local_day_start(day)
    cut = _cutoffs(as_of)
    paid = payments_due(cut[DataClass.PAYMENTS]).values("pk")
    known: set[type[Model]] = {Payment, PaymentTransfer}
    kept = [
        Exists(Payment.objects.filter(account=OuterRef("pk")).exclude(pk__in=paid)),
        Exists(PaymentTransfer.objects.filter(account=OuterRef("pk")).exclude(payment__in=paid)),
    ]
    if apps.is_installed("kokuho.benefits"):
        from kokuho.benefits.lifecycle.models import BenefitApplication
        from kokuho.benefits.retention_benefits import benefit_applications_due

        decided = benefit_applications_due(cut[DataClass.BENEFIT_DECISIONS]).values("pk")
        known.add(BenefitApplication)
        kept.append(
            Exists(
                BenefitApplication.objects.filter(account=OuterRef("pk")).exclude(pk__in=decided)
            )
        )
    ended = Q(superseded_at__lt=moment) | Q(
        superseded_at__isnull=True, person__resident_until__lt=day
    )
    queryset = PayeeAccount.objects.filter(recorded_at__lt=moment).filter(ended)
    queryset = queryset.exclude(_pending("person__atena_no"))
    for condition in kept:
        queryset = queryset.exclude(condition)
    return queryset.exclude(_unknown(PayeeAccount, frozenset(known)))


def payee_accounts_count(*, cutoff: dt.date, as_of: dt.date) -> int:
    return payee_accounts_due(cutoff=cutoff, as_of=as_of).count()


def payee_accounts_erase(*, cutoff: dt.date, as_of: dt.date, chunk: int) -> Iterator[Erased]:
    for start, end in pk_windows(PayeeAccount, chunk):
        with transaction.atomic():
            retention_erasure_declare()
            ids = list(
                payee_accounts_due(cutoff=cutoff, as_of=as_of)
                .filter(pk__gte=start, pk__lt=end)
                .values_list("pk", flat=True)
            )
            if not ids:
                continue
            _, tables = PayeeAccount.objects.filter(pk__in=ids).delete()
            yield len(ids), {k: n for k, n in tables.items() if n}
