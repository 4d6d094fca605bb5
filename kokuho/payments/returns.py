"""振込不能 (transfers the bank could not make), from the bank's result file or typed in.

Each returned transfer keeps its line as written (status 振込不能, with the reason); its
payment becomes a work item (`RETURNED`, reason given) and its decision forgets its 支払日.
Once the account is corrected (`payments_account_replace`) or confirmed as it was
(`payment_reissue`), the payment is due again and a later run pays it, under the same
顧客コード: never lost, never paid twice (one transfer not returned per payment).

The result file (CSV, UTF-8 or CP932, read by `interfaces.layout`) has the header
`支払日,顧客コード,不能理由` and a line per returned transfer; 不能理由 is a code of
`ReturnReason`. The file is checked whole
before anything changes: any bad line (file, line, field, reason) refuses the file.
"""

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import models, transaction

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.core.purposes import Purpose
from kokuho.interfaces.layout import (
    Column,
    FieldError,
    FieldInvalid,
    ImportRejected,
    Layout,
    choice,
    date_value,
    layout_read,
    nfkc,
)
from kokuho.payments.models import (
    HoldReason,
    Payment,
    PaymentRun,
    PaymentRunStatus,
    PaymentStatus,
    PaymentTransfer,
    TransferStatus,
)
from kokuho.payments.sources import sources_notify_returned


class ReturnReason(models.TextChoices):
    """振込不能の理由 (the codes the result file carries)."""

    NO_ACCOUNT = "1", "口座なし（口座番号相違）"
    NAME_MISMATCH = "2", "受取人名相違"
    CLOSED = "3", "口座解約済み"
    OTHER = "9", "その他"


class ReturnFileError(ValueError):
    """A result file refused whole: `problems` lists each bad line (line, field, reason)."""

    def __init__(self, path: str, problems: list[str]) -> None:
        super().__init__(f"{path}: " + " / ".join(problems[:20]))
        self.problems = problems


@dataclass(frozen=True)
class ReturnsSummary:
    returned: int
    already: int  # lines recorded by an earlier import of the same result
    amount: int

    def format(self) -> str:
        return (
            f"振込不能 {self.returned:,}件 {self.amount:,}円を記録しました"
            f"（記録済み {self.already:,}件）。口座を確認し、再振込の対象にしてください。"
        )


def _customer_code(value: str) -> str:
    code = nfkc(value)
    if not (code.isascii() and code.isdigit() and len(code) == 10):
        raise FieldInvalid(f"10桁の数字ではありません: '{value}'")
    return code


LAYOUT = Layout(
    title="振込不能の結果",
    id_column="customer_code",
    columns=(
        Column("支払日", "支払日", date_value, required=True),
        Column("顧客コード", "顧客コード", _customer_code, required=True),
        Column(
            "不能理由",
            "不能理由",
            choice({r.value: r for r in ReturnReason}),
            required=True,
        ),
    ),
)


def _problem(error: FieldError) -> str:
    return f"{error.line}行目" + (f" {error.field}" if error.field else "") + f": {error.reason}"


def _parse(path: Path) -> list[tuple[int, dt.date, str, ReturnReason]]:
    """The file's lines through the project's layout reader (encoding, header, fields)."""
    try:
        _, rows = layout_read(path, LAYOUT)
        read = list(rows)
    except ImportRejected as error:
        raise ReturnFileError(path.name, [error.reason]) from None
    problems = [_problem(e) for row in read for e in row.errors]
    # The same transfer twice with different reasons: which one the bank meant is not ours
    # to guess.
    reasons: dict[tuple[dt.date, str], tuple[int, ReturnReason]] = {}
    for row in read:
        if row.record is None:
            continue
        key = (row.record["支払日"], row.record["顧客コード"])
        first = reasons.setdefault(key, (row.line, row.record["不能理由"]))
        if first[1] != row.record["不能理由"]:
            problems.append(
                f"{row.line}行目 不能理由: {first[0]}行目と同じ振込（顧客コード {key[1]}）で"
                "不能理由が違います"
            )
    if problems:
        raise ReturnFileError(path.name, problems)
    return [
        (row.line, row.record["支払日"], row.record["顧客コード"], row.record["不能理由"])
        for row in read
        if row.record is not None
    ]


def _returned(lines: list[PaymentTransfer], reasons: dict[int, ReturnReason]) -> None:
    for line in lines:
        line.status = TransferStatus.RETURNED
        line.return_reason = reasons[line.pk].label
    PaymentTransfer.objects.bulk_update(lines, ["status", "return_reason"], batch_size=2000)
    payments = [line.payment for line in lines]
    for line, payment in zip(lines, payments, strict=True):
        payment.status = PaymentStatus.RETURNED
        payment.hold_reason = HoldReason.ACCOUNT_RETURNED
        payment.hold_detail = f"{line.run.pay_date} 振込不能: {reasons[line.pk].label}"
    Payment.objects.bulk_update(payments, ["status", "hold_reason", "hold_detail"], 2000)
    sources_notify_returned((p.source_type, p.source_id) for p in payments)


def payment_returns_import(*, path: Path, actor: Any | None) -> ReturnsSummary:
    """The bank's 振込不能 result (see the module docstring)."""
    parsed = _parse(path)
    runs = {
        r.pay_date: r
        for r in PaymentRun.objects.filter(
            status=PaymentRunStatus.DONE, pay_date__in={day for _, day, _, _ in parsed}
        )
    }
    wanted = {(day, code) for _, day, code, _ in parsed}
    found = {
        (line.run.pay_date, line.customer_code): line
        for line in PaymentTransfer.objects.filter(
            run__in=runs.values(), customer_code__in={c for _, c in wanted}
        ).select_related("run", "payment")
    }
    problems = []
    for number, day, code, _ in parsed:
        if day not in runs:
            problems.append(f"{number}行目 支払日: {day} の支払処理はありません")
        elif (day, code) not in found:
            problems.append(f"{number}行目 顧客コード: {day} の振込に {code} はありません")
    if problems:
        raise ReturnFileError(path.name, problems)
    fresh, reasons, already = [], {}, 0
    for _, day, code, reason in parsed:
        line = found[(day, code)]
        if line.status == TransferStatus.RETURNED or line.pk in reasons:
            already += 1
            continue
        fresh.append(line)
        reasons[line.pk] = reason
    with transaction.atomic():
        _returned(fresh, reasons)
        audit_event_record(
            actor=actor,
            event_type=EventType.PAYMENT_RETURNED,
            purpose=Purpose.NHI_BENEFITS,
            subject_type=SubjectType.SYSTEM,
            subject_id=f"payment-returns:{path.name}",
            extra={"returned": len(fresh), "already": already},
        )
    return ReturnsSummary(len(fresh), already, sum(x.amount for x in fresh))


def payment_return_record(
    *, run: PaymentRun, customer_code: str, reason: ReturnReason, actor: Any | None
) -> PaymentTransfer:
    """One 振込不能 typed in from the bank's notice."""
    line = (
        PaymentTransfer.objects.select_related("run", "payment__person", "payment__organisation")
        .filter(run=run, customer_code=customer_code)
        .first()
    )
    if line is None:
        raise ValueError(f"{run.pay_date} の振込に顧客コード {customer_code} はありません")
    if line.status == TransferStatus.RETURNED:
        return line
    with transaction.atomic():
        _returned([line], {line.pk: reason})
        audit_event_record(
            actor=actor,
            event_type=EventType.PAYMENT_RETURNED,
            purpose=Purpose.NHI_BENEFITS,
            subject_type=SubjectType.PERSON if line.payment.person_id else SubjectType.SYSTEM,
            subject_id=(
                line.payment.person.atena_no
                if line.payment.person_id
                else f"payee-organisation:{line.payment.organisation_id}"
            ),
            extra={"run": run.pk, "customer_code": customer_code, "reason": reason.value},
        )
    return line


def payment_reissue(*, payment: Payment) -> Payment:
    """A returned payment whose account was confirmed as it was: due again."""
    if payment.status != PaymentStatus.RETURNED:
        raise ValueError("振込不能の支払だけを再振込の対象にできます")
    payment.status, payment.hold_reason, payment.hold_detail = PaymentStatus.DUE, "", ""
    payment.save(update_fields=["status", "hold_reason", "hold_detail"])
    return payment
