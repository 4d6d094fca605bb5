"""A run's printed forms: the 支払明細書 (register PDF) and the 支払通知書 to each payee.

Printed after the run, not inside it (a run of 200,000 transfers must not wait for 200,000
pages): `payment_run_print(run=…)` writes `register.pdf` and the notices in files of at most
`KOKUHO_MAILING_BATCH_SIZE` payees (`notices-001.pdf` …), sorted by postal code for the
post, next to the run's 全銀 files, and records them on the run with one audit event. The
data comes from the run's lines as written (the amounts and accounts the bank received);
names and addresses as the registry has them on the day of printing, with 代替字 for
characters outside the font.
"""

import datetime as dt
import hashlib
from collections import defaultdict
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.certificates.glyphs import printable
from kokuho.core.purposes import Purpose
from kokuho.payments.banks import BankError, bank_branch_lookup
from kokuho.payments.models import AccountKind, Benefit, PaymentRun, PaymentTransfer
from kokuho.payments.pdf import (
    NoticeItem,
    PaymentNoticeData,
    RegisterData,
    RegisterLine,
    payment_notices_pdf,
    register_pdf,
)
from kokuho.payments.run import write_atomic
from kokuho.payments.sources import payment_source

ITEMS_PER_NOTICE = 14  # what one A4 notice holds; more items continue on another notice


def _lines(run: PaymentRun) -> list[PaymentTransfer]:
    return list(
        PaymentTransfer.objects.filter(run=run)
        .select_related("payment__person", "payment__organisation", "account")
        .order_by("payer", "seq")
    )


def register_data(run: PaymentRun, lines: list[PaymentTransfer]) -> RegisterData:
    labels = dict(Benefit.choices)
    payers = "・".join(sorted({run.payers[x.payer]["name"] for x in lines}))
    return RegisterData(
        run_id=run.pk,
        pay_date=run.pay_date,
        sent_on=run.sent_on,
        payer_label=payers,
        lines=[
            RegisterLine(
                customer_code=x.customer_code,
                benefit=labels[x.payment.benefit],
                budget_item=x.payment.budget_item,
                atena_no=x.payment.payee_ref,
                decision=f"{x.payment.source_type}:{x.payment.source_id}",
                bank_code=x.bank_code,
                branch_code=x.branch_code,
                account_type=x.account_type,
                account_number=x.account_number,
                payee_name=x.holder_zengin,
                new_code=x.new_code,
                amount=x.amount,
            )
            for x in lines
        ],
    )


def _bank_names(bank_code: str, branch_code: str) -> tuple[str, str]:
    try:
        found = bank_branch_lookup(bank_code, branch_code)
    except BankError:  # a bank merged away since: the codes still identify it
        return f"金融機関 {bank_code}", f"店舗 {branch_code}"
    return found.bank_name, found.branch_name


def notices_data(run: PaymentRun, lines: list[PaymentTransfer]) -> list[PaymentNoticeData]:
    """One notice per payee (and per 14 items), sorted by postal code, then address."""
    labels = dict(Benefit.choices)
    by_payee: dict[tuple[str, int], list[PaymentTransfer]] = defaultdict(list)
    for line in lines:
        payment = line.payment
        key = ("p", payment.person_id) if payment.person_id else ("o", payment.organisation_id)
        by_payee[key].append(line)
    today = timezone.localdate()
    notices = []
    for person_lines in by_payee.values():
        first = person_lines[0]
        account = first.account
        # An organisation is written to by its name (御中), at its own address if known.
        addressee = first.payment.person or first.payment.organisation
        bank, branch = _bank_names(first.bank_code, first.branch_code)
        items = []
        for line in person_lines:
            source = payment_source(line.payment.source_type)
            label = " ".join(
                part for part in (line.payment.description, labels[line.payment.benefit]) if part
            )
            items.append(
                NoticeItem(
                    benefit=labels[line.payment.benefit],
                    decision_label=label or (source.label if source else ""),
                    amount=line.amount,
                )
            )
        for start in range(0, len(items), ITEMS_PER_NOTICE):
            notices.append(
                PaymentNoticeData(
                    postal_code=addressee.postal_code,
                    address=printable(addressee.address)[0],
                    name=printable(addressee.name)[0],
                    pay_date=run.pay_date,
                    bank_name=bank,
                    branch_name=branch,
                    account_type_label=AccountKind(first.account_type).label,
                    account_masked=f"****{first.account_number[-3:]}",
                    holder=printable(account.holder_kana)[0],
                    items=items[start : start + ITEMS_PER_NOTICE],
                    notice_no=f"SH{run.pay_date:%Y%m%d}-{first.customer_code}",
                    issued_on=today,
                    payer_name=run.payers[first.payer]["name"],
                    honorific="様" if first.payment.person_id else "御中",
                )
            )
    notices.sort(key=lambda n: (n.postal_code, n.address, n.notice_no))
    return notices


def _write(path: Path, data: bytes) -> dict[str, Any]:
    write_atomic(path, data)
    return {"name": path.name, "path": str(path), "sha256": hashlib.sha256(data).hexdigest()}


def payment_run_print(
    *, run: PaymentRun, actor: Any | None, out_dir: Path | None = None
) -> list[dict[str, Any]]:
    """Write the run's register and notices (see the module docstring)."""
    # Beside the run's 全銀 files, wherever the run wrote them.
    directory = out_dir or (
        Path(run.files[0]["path"]).parent
        if run.files
        else Path(settings.KOKUHO_PAYMENT_DIR) / f"{run.pay_date:%Y%m%d}"
    )
    lines = _lines(run)
    if not lines:
        raise ValueError(f"支払処理 {run.pk} に明細がありません")
    printed = [_write(directory / "register.pdf", register_pdf(register_data(run, lines)))]
    notices = notices_data(run, lines)
    size = max(1, int(settings.KOKUHO_MAILING_BATCH_SIZE))
    for number, start in enumerate(range(0, len(notices), size), start=1):
        data = payment_notices_pdf(notices[start : start + size])
        printed.append(_write(directory / f"notices-{number:03d}.pdf", data))
    run.prints = [{**entry, "printed_at": dt.datetime.now(dt.UTC).isoformat()} for entry in printed]
    run.save(update_fields=["prints"])
    audit_event_record(
        actor=actor,
        event_type=EventType.PAYMENT_PRINTED,
        purpose=Purpose.NHI_BENEFITS,
        subject_type=SubjectType.SYSTEM,
        subject_id=f"payment-run:{run.pk}",
        extra={"notices": len(notices), "files": len(printed)},
    )
    return run.prints
