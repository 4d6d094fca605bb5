"""The payment run (支払処理, payments.md §5): what is due on a 支払日 goes to the bank.

`payment_run(pay_date=…)` takes every payment due by that day (not held), groups it per
振込依頼人 (the account each benefit is paid from), and writes for the day:
- one 全銀 総合振込 file per 依頼人 (`zengin-<payer>.txt`, the bank's profile),
- the 支払明細 register for the 会計課 (`register.csv`: every line, then the totals per
  benefit and 予算科目),
and then reconciles three ways: the payments' sum in the database, each file's trailer read
back from its bytes, and the register's lines read back from its text. Any difference stops
the run: nothing is marked, nothing is kept, the payments stay due.

Everything happens in one transaction, the files written last: a run that dies half-way
leaves the payments due and the next run takes them (files of a run that never committed
are overwritten). A finished 支払日 is never run again: asking for it writes its files once
more from what it carried, byte for byte the same, and takes nothing new.
"""

import csv
import datetime as dt
import hashlib
import io
import os
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.core.bulkwrite import row_writer
from kokuho.core.purposes import Purpose
from kokuho.interfaces.exports import export_register
from kokuho.interfaces.models import ExportKind
from kokuho.payments.calendar import pay_date_check
from kokuho.payments.config import BankProfile, PaymentConfig, payment_config_load
from kokuho.payments.models import (
    Benefit,
    Payment,
    PaymentRun,
    PaymentRunStatus,
    PaymentStatus,
    PaymentTransfer,
    TransferStatus,
    organisation_ref,
)
from kokuho.payments.sources import sources_notify_scheduled
from kokuho.payments.zengin_file import Header, Transfer, zengin_file_bytes

REGISTER_NAME = "register.csv"
EXPORT_BASIS = "地方自治法第232条の5第2項・同法施行令第165条の2（口座振替の方法による支出）"
REGISTER_COLUMNS = (
    "支払日",
    "振込依頼人",
    "顧客コード",
    "給付",
    "予算科目",
    "受給者宛名番号",
    "決定",
    "決定日",
    "金融機関コード",
    "店舗コード",
    "預金種目",
    "口座番号",
    "受取人名",
    "新規コード",
    "金額",
)
TOTAL_MARK = "合計"


class PaymentRunError(ValueError):
    """A run that cannot be made (a 支払日 the bank cannot take, a bad configuration)."""


class ReconciliationError(PaymentRunError):
    """Decisions, file trailers and register disagree: the run is stopped."""


@dataclass(frozen=True)
class RunOutcome:
    run: PaymentRun
    repeated: bool  # the 支払日 had been run before: its files were written again


@dataclass(frozen=True, slots=True)
class Line:
    """One transfer as written: the run's line and what the register says of its payment.
    Plain data, so a run of 200,000 builds no model instances."""

    payment_id: int
    payer: str
    seq: int
    customer_code: str
    bank_code: str
    bank_kana: str
    branch_code: str
    branch_kana: str
    account_type: int
    account_number: str
    holder_zengin: str
    amount: int
    new_code: int
    account_id: int
    benefit: str
    budget_item: str
    atena_no: str  # 宛名番号, or an organisation payee's kind and code (`organisation_ref`)
    source_type: str
    source_id: int
    decided_on: dt.date


_STORED = (
    "payment_id",
    "payer",
    "seq",
    "customer_code",
    "bank_code",
    "bank_kana",
    "branch_code",
    "branch_kana",
    "account_type",
    "account_number",
    "holder_zengin",
    "amount",
    "new_code",
    "account_id",
    "payment__benefit",
    "payment__budget_item",
    "payment__person__atena_no",
    "payment__source_type",
    "payment__source_id",
    "payment__decided_on",
    "payment__organisation__kind",
    "payment__organisation__code",
)
_TRANSFER_FIELDS = (
    "run",
    "payment",
    "account",
    "payer",
    "seq",
    "customer_code",
    "bank_code",
    "bank_kana",
    "branch_code",
    "branch_kana",
    "account_type",
    "account_number",
    "holder_zengin",
    "amount",
    "new_code",
    "status",
    "return_reason",
)


def _run_dir(pay_date: dt.date, out_dir: Path | None) -> Path:
    base = out_dir or Path(settings.KOKUHO_PAYMENT_DIR)
    return base / f"{pay_date:%Y%m%d}"


def write_atomic(path: Path, data: bytes) -> None:
    """A temporary name, then renamed: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def _header(payer: dict[str, Any], pay_date: dt.date) -> Header:
    return Header(
        requester_code=payer["code"],
        requester_name=payer["name"],
        pay_date=pay_date,
        bank_code=payer["bank_code"],
        bank_name=payer["bank_name"],
        branch_code=payer["branch_code"],
        branch_name=payer["branch_name"],
        account_type=payer["account_type"],
        account_number=payer["account_number"],
    )


def _transfer(line: Line) -> Transfer:
    return Transfer(
        bank_code=line.bank_code,
        bank_name=line.bank_kana,
        branch_code=line.branch_code,
        branch_name=line.branch_kana,
        account_type=line.account_type,
        account_number=line.account_number,
        payee_name=line.holder_zengin,
        amount=line.amount,
        new_code=line.new_code,
        customer_code=line.customer_code,
    )


def _register_csv(run: PaymentRun, lines: list[Line]) -> bytes:
    """支払明細: one row per transfer, then totals per benefit, per 予算科目 and in all."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(REGISTER_COLUMNS)
    labels = dict(Benefit.choices)
    for line in lines:
        writer.writerow(
            (
                run.pay_date.isoformat(),
                line.payer,
                line.customer_code,
                labels[line.benefit],
                line.budget_item,
                line.atena_no,
                f"{line.source_type}:{line.source_id}",
                line.decided_on.isoformat(),
                line.bank_code,
                line.branch_code,
                line.account_type,
                line.account_number,
                line.holder_zengin,
                line.new_code,
                line.amount,
            )
        )
    writer.writerow(())
    writer.writerow((TOTAL_MARK, "区分", "名称", "件数", "金額"))
    totals = _totals(lines)
    for heading, table in (("給付", totals["benefits"]), ("予算科目", totals["budget_items"])):
        for name, entry in sorted(table.items()):
            writer.writerow((TOTAL_MARK, heading, name, entry["count"], entry["total"]))
    writer.writerow((TOTAL_MARK, "総計", "", len(lines), sum(x.amount for x in lines)))
    # UTF-8 with BOM: the 会計課 opens it in a spreadsheet, which then reads it as UTF-8.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def register_read_total(data: bytes) -> tuple[int, int]:
    """Count and sum of the register's lines, read back from its text (not its totals)."""
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    amounts = [int(row[-1]) for row in rows[1:] if row and row[0] != TOTAL_MARK]
    return len(amounts), sum(amounts)


def zengin_read_trailer(data: bytes, profile: BankProfile) -> tuple[int, int]:
    """合計件数 and 合計金額 of a file's trailer, read back from its bytes."""
    body = data[:-1] if profile.eof else data
    step = 122 if profile.line_break == "crlf" else 120
    records = [body[i : i + 120] for i in range(0, len(body), step)]
    trailer = records[-2]
    if trailer[:1] != b"8":
        raise ReconciliationError("トレーラ・レコードが最後から2番目にありません")
    return int(trailer[1:7]), int(trailer[7:19])


def _files(run: PaymentRun, lines: list[Line]) -> dict[str, bytes]:
    profile = BankProfile(**run.profile)
    by_payer: dict[str, list[Line]] = defaultdict(list)
    for line in lines:
        by_payer[line.payer].append(line)
    files = {}
    for payer, payer_lines in sorted(by_payer.items()):
        header = _header(run.payers[payer], run.pay_date)
        files[f"zengin-{payer}.txt"] = zengin_file_bytes(
            header, (_transfer(x) for x in payer_lines), profile
        )
    files[REGISTER_NAME] = _register_csv(run, lines)
    return files


def _reconcile(run: PaymentRun, files: dict[str, bytes]) -> None:
    decided = Payment.objects.filter(transfers__run=run).aggregate(
        count=Count("pk"), total=Sum("amount")
    )
    decided_count, decided_total = decided["count"], decided["total"] or 0
    profile = BankProfile(**run.profile)
    trailer_count = trailer_total = 0
    for name, data in files.items():
        if name.startswith("zengin-"):
            count, total = zengin_read_trailer(data, profile)
            trailer_count += count
            trailer_total += total
    register_count, register_total = register_read_total(files[REGISTER_NAME])
    if not (decided_count == trailer_count == register_count) or not (
        decided_total == trailer_total == register_total
    ):
        raise ReconciliationError(
            "照合不一致のため停止しました: "
            f"決定 {decided_count}件 {decided_total:,}円 / "
            f"全銀トレーラ {trailer_count}件 {trailer_total:,}円 / "
            f"支払明細 {register_count}件 {register_total:,}円"
        )


def _new_codes(pay_date: dt.date) -> tuple[set[int], set[tuple[str, int]]]:
    """The accounts already written to and the payees already paid, among the payees of
    what is due (新規コード: 1 for a payee's first transfer, 2 for the first to a changed
    account, 0 for an account paid before; returned transfers count as sent). A payee is
    ("p", person id) or ("o", organisation id)."""
    due = payments_due(pay_date=pay_date)
    used_accounts: set[int] = set()
    paid: set[tuple[str, int]] = set()
    for account_id, person_id in PaymentTransfer.objects.filter(
        payment__person_id__in=due.filter(person__isnull=False).values("person_id")
    ).values_list("account_id", "payment__person_id"):
        used_accounts.add(account_id)
        paid.add(("p", person_id))
    for account_id, organisation_id in PaymentTransfer.objects.filter(
        payment__organisation_id__in=due.filter(organisation__isnull=False).values(
            "organisation_id"
        )
    ).values_list("account_id", "payment__organisation_id"):
        used_accounts.add(account_id)
        paid.add(("o", organisation_id))
    return used_accounts, paid


def payments_due(*, pay_date: dt.date) -> QuerySet[Payment]:
    return Payment.objects.filter(status=PaymentStatus.DUE, payable_from__lte=pay_date)


def _carried(run: PaymentRun) -> list[Line]:
    """A finished run's lines as stored, in file order."""
    return [
        Line(*row[:16], row[16] or organisation_ref(row[-2], row[-1]), *row[17:-2])
        for row in PaymentTransfer.objects.filter(run=run)
        .order_by("payer", "seq")
        .values_list(*_STORED)
        .iterator(chunk_size=10000)
    ]


def _totals(lines: list[Line]) -> dict[str, Any]:
    labels = dict(Benefit.choices)
    per_benefit: dict[str, dict[str, int]] = {}
    per_item: dict[str, dict[str, int]] = {}
    for line in lines:
        for table, key in ((per_benefit, labels[line.benefit]), (per_item, line.budget_item)):
            entry = table.setdefault(key, {"count": 0, "total": 0})
            entry["count"] += 1
            entry["total"] += line.amount
    return {"benefits": per_benefit, "budget_items": per_item}


def payment_run(
    *,
    pay_date: dt.date,
    actor: Any | None,
    sent_at: dt.datetime | None = None,
    config: PaymentConfig | None = None,
    out_dir: Path | None = None,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> RunOutcome:
    """The run of `pay_date` (see the module docstring)."""
    directory = _run_dir(pay_date, out_dir)
    done = PaymentRun.objects.filter(pay_date=pay_date, status=PaymentRunStatus.DONE).first()
    if done is not None:
        for name, data in _files(done, _carried(done)).items():
            write_atomic(directory / name, data)
        return RunOutcome(done, repeated=True)
    config = config or payment_config_load()
    sent_at = sent_at or timezone.localtime()
    try:
        pay_date_check(pay_date=pay_date, profile=config.profile, sent_at=sent_at)
    except ValueError as error:
        raise PaymentRunError(str(error)) from None
    progress = on_progress or (lambda stage, done, total: None)
    try:
        with transaction.atomic():
            return RunOutcome(
                _run_in_transaction(pay_date, actor, sent_at, config, directory, progress),
                repeated=False,
            )
    except ReconciliationError as error:
        stopped = PaymentRun.objects.create(
            pay_date=pay_date,
            sent_on=sent_at.date(),
            status=PaymentRunStatus.STOPPED,
            profile=config.profile.as_dict(),
            payers={k: p.as_dict() for k, p in config.payers.items()},
            error_message=str(error),
            requested_by=actor,
            created_at=timezone.now(),
        )
        audit_event_record(
            actor=actor,
            event_type=EventType.PAYMENT_RUN,
            purpose=Purpose.NHI_BENEFITS,
            subject_type=SubjectType.SYSTEM,
            subject_id=f"payment-run:{stopped.pk}",
            extra={"pay_date": pay_date.isoformat(), "status": "stopped"},
        )
        raise


def _run_in_transaction(
    pay_date: dt.date,
    actor: Any | None,
    sent_at: dt.datetime,
    config: PaymentConfig,
    directory: Path,
    progress: Callable[[str, int, int], None],
) -> PaymentRun:
    due = payments_due(pay_date=pay_date)
    if connection.features.has_select_for_update:
        due = due.select_for_update(of=("self",))
    rows = list(
        due.values_list(
            "pk",
            "benefit",
            "budget_item",
            "person_id",
            "person__atena_no",
            "organisation_id",
            "organisation__kind",
            "organisation__code",
            "source_type",
            "source_id",
            "decided_on",
            "amount",
            "account_id",
            "account__bank_code",
            "account__bank_kana",
            "account__branch_code",
            "account__branch_kana",
            "account__account_type",
            "account__account_number",
            "account__holder_zengin",
        ).iterator(chunk_size=10000)
    )
    # File order: per 依頼人, then bank, branch and account (the bank sorts the same way).
    rows.sort(key=lambda r: (config.benefit_payer[r[1]], r[13], r[15], r[18], r[0]))
    progress("支払予定の選択", len(rows), len(rows))
    if not rows:
        # No run is recorded: a 支払日 without payments stays free for later decisions.
        raise PaymentRunError(f"{pay_date} までに支払う支払予定はありません")
    run = PaymentRun.objects.create(
        pay_date=pay_date,
        sent_on=sent_at.date(),
        status=PaymentRunStatus.DONE,
        profile=config.profile.as_dict(),
        payers={k: p.as_dict() for k, p in config.payers.items()},
        requested_by=actor,
        created_at=timezone.now(),
    )
    used_accounts, paid = _new_codes(pay_date)
    seqs: dict[str, int] = defaultdict(int)
    carried = []
    for (
        pk, benefit, item, person, atena, organisation, kind, code, stype, sid, decided, amount,
        account, *bank,
    ) in rows:  # fmt: skip
        payer = config.benefit_payer[benefit]
        seqs[payer] += 1
        payee = ("p", person) if person is not None else ("o", organisation)
        new_code = 0 if account in used_accounts else 2 if payee in paid else 1
        if person is None:
            atena = organisation_ref(kind, code)
        carried.append(
            Line(
                pk, payer, seqs[payer], f"{pk:010d}", bank[0], bank[1], bank[2], bank[3],
                bank[4], bank[5], bank[6], amount, new_code, account, benefit, item, atena,
                stype, sid, decided,
            )
        )  # fmt: skip
    row_writer(connection).insert(
        PaymentTransfer,
        _TRANSFER_FIELDS,
        [
            (
                run.pk, x.payment_id, x.account_id, x.payer, x.seq, x.customer_code,
                x.bank_code, x.bank_kana, x.branch_code, x.branch_kana, x.account_type,
                x.account_number, x.holder_zengin, x.amount, x.new_code,
                TransferStatus.SENT.value, "",
            )
            for x in carried
        ],
    )  # fmt: skip
    progress("明細の記録", len(carried), len(carried))
    Payment.objects.filter(
        pk__in=PaymentTransfer.objects.filter(run=run).values("payment_id")
    ).update(status=PaymentStatus.SCHEDULED)
    sources_notify_scheduled(((x.source_type, x.source_id) for x in carried), pay_date)
    files = _files(run, carried)
    progress("ファイルの作成", len(files), len(files))
    _reconcile(run, files)
    totals = _totals(carried)
    run.count = len(carried)
    run.total = sum(x.amount for x in carried)
    run.totals = totals
    for name, data in files.items():
        write_atomic(directory / name, data)
    run.files = [
        {
            "name": name,
            "path": str(directory / name),
            "sha256": hashlib.sha256(data).hexdigest(),
            "bytes": len(data),
        }
        for name, data in files.items()
    ]
    run.save(update_fields=["count", "total", "totals", "files"])
    for name, data in files.items():
        if name.startswith("zengin-"):
            # The file that leaves for the bank is in the export register (外部出力記録).
            payer = run.payers[name.removeprefix("zengin-").removesuffix(".txt")]
            export_register(
                kind=ExportKind.PAYMENT_TRANSFER,
                content=data,
                file_name=name,
                content_type="text/plain",
                record_count=sum(1 for x in carried if f"zengin-{x.payer}.txt" == name),
                legal_basis=EXPORT_BASIS,
                recipient=f"指定金融機関（{payer['bank_code']} {payer['bank_name']}）",
                actor=None,
                purpose=Purpose.NHI_BENEFITS,
                reference=f"payment-run:{run.pk}",
            )
    audit_event_record(
        actor=actor,
        event_type=EventType.PAYMENT_RUN,
        purpose=Purpose.NHI_BENEFITS,
        subject_type=SubjectType.SYSTEM,
        subject_id=f"payment-run:{run.pk}",
        extra={"pay_date": pay_date.isoformat(), "count": run.count, "total": run.total},
    )
    progress("完了", run.count, run.count)
    return run


def payment_run_json(run: PaymentRun) -> dict[str, Any]:
    """What `kokuho payments list --json` prints per run."""
    return {
        "id": run.pk,
        "date": run.pay_date.isoformat(),
        "sent_on": run.sent_on.isoformat(),
        "status": run.status,
        "files": [f["path"] for f in run.files],
        "prints": [f["path"] for f in run.prints],
        "count": run.count,
        "total_yen": run.total,
        "totals": {k: v["total"] for k, v in run.totals.get("benefits", {}).items()},
        "counts": {k: v["count"] for k, v in run.totals.get("benefits", {}).items()},
        "budget_items": run.totals.get("budget_items", {}),
        "error": run.error_message,
    }


def payment_run_file(*, run: PaymentRun, name: str, actor: Any) -> Path:
    """One of the run's files (全銀 file, register, printed forms) for a download, recorded
    in the audit trail with its SHA-256; `FileNotFoundError` for a name the run does not
    list or a file no longer on disk."""
    entry = next((e for e in [*run.files, *run.prints] if e.get("name") == name), None)
    if entry is None:
        raise FileNotFoundError(f"支払処理 {run.pk} のファイルではありません: {name}")
    path = Path(entry["path"])
    if not path.is_file():
        raise FileNotFoundError("ファイルがありません（支払処理をもう一度実行すると作成されます）")
    audit_event_record(
        actor=actor,
        event_type=EventType.PAYMENT_FILE_FETCHED,
        purpose=Purpose.NHI_BENEFITS,
        subject_type=SubjectType.SYSTEM,
        subject_id=f"payment-run:{run.pk}",
        extra={"file": name, "sha256": entry.get("sha256", "")},
    )
    return path
