"""柔整・あはき 受領委任分 (`kokuho entrusted import FILE`): the 国保連's monthly file of
療養費 claimed by the 施術所, decided line by line and paid per 施術所.

The city's interface spec of the file (the 国保連's real layout is not public; this is the
layout the city agrees with it): CSV, UTF-8 (BOM or not) or CP932, a header line, one line
per 施術所 × insured person × 施術年月 × 施術区分:

| column | content |
|---|---|
| 処理年月 | YYYYMM, the 国保連's processing month; one month per file |
| 施術区分 | 1 柔道整復, 2 はり・きゅう, 3 あん摩マッサージ |
| 施術所コード | the 施術所's 受領委任 登録記号番号, up to 10 letters and digits |
| 施術所名 | as registered (up to 60 characters) |
| 記号, 番号, 枝番 | the insured person's 被保険者記号・番号・枝番 |
| 施術年月 | YYYYMM, not after 処理年月 |
| 施術日数 | 1–31, not more than the month's days |
| 費用額 | the 料金 of the month's 施術 (yen) |
| 一部負担金 | what the 施術所 received from the patient |
| 請求額 | the insurer's share claimed (費用額 − 一部負担金) |

The file is checked whole first (`BatchFileError` names every bad line, nothing is kept)
and is refused when the same file (SHA-256) was imported before. Each line is then:
- matched by 記号・番号・枝番 as the レセプト are; unknown numbers are kept `UNMATCHED` with
  the reason and listed (so is a person whose 負担割合 cannot be decided);
- a `DUPLICATE` when the same 施術所, 施術区分, person and 施術年月 was paid in an earlier
  file (a claim 返戻 before may come again);
- otherwise decided as one 療養費 decision of the life cycle (applicant the 世帯主, subject
  the patient, `institution_amount` the whole amount: paid to the 施術所) by
  `entrusted_outcome`.

Payments are grouped: one `Payment` (benefit 柔整・あはき療養費) per 施術所 per file, the sum
of its lines decided 支給・一部支給, to the 施術所's current account (held as a work item
until it has one). A city pays a 施術所 once a month for all its claims, and the 施術所
reconciles against the 国保連's 支払額通知; a line's own amount stays on its decision.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.benefits.entrusted.common import (
    MONTHS_MIXED,
    BatchFileError,
    Decided,
    amount_value,
    branch_value,
    code_value,
    current_accounts,
    decisions_keep,
    file_read,
    first_insured_day,
    insured_match,
    insured_periods,
    month_end,
    month_value,
    organisations_get,
)
from kokuho.benefits.entrusted.models import (
    EntrustedBatch,
    EntrustedLine,
    EntrustedPayee,
    LineStatus,
    TreatmentCategory,
)
from kokuho.benefits.entrusted.rules import entrusted_outcome
from kokuho.benefits.lifecycle.models import ApplicationStatus, BenefitApplication
from kokuho.core.purposes import Purpose
from kokuho.eligibility.selectors import burden_bases_load, person_state_from
from kokuho.interfaces.layout import (
    Column,
    Layout,
    choice,
    identifier,
    non_negative_int,
    text,
)
from kokuho.interfaces.models import ImportErrorCode
from kokuho.payments.models import Benefit, OrganisationKind, PayeeOrganisation, Payment
from kokuho.payments.services import payment_build
from kokuho.people.models import Person

PAYMENT_SOURCE = "entrusted_payee"
INVALID_NUMBER = ImportErrorCode.INVALID_NUMBER
CATEGORIES = {
    "1": TreatmentCategory.JUDO,
    "2": TreatmentCategory.ACUPUNCTURE,
    "3": TreatmentCategory.MASSAGE,
    **{c.label: c for c in TreatmentCategory},
}


def _checks(record: Mapping[str, Any]) -> Iterator[tuple[str, str, ImportErrorCode]]:
    if record["施術年月"] > record["処理年月"]:
        yield "施術年月", "施術年月が処理年月より後です", ImportErrorCode.INVALID_DATE
    if not 1 <= record["施術日数"] <= month_end(record["施術年月"]).day:
        yield (
            "施術日数",
            "施術日数が 1 からその月の日数までではありません",
            INVALID_NUMBER,
        )
    if record["一部負担金"] > record["費用額"]:
        yield "一部負担金", "一部負担金が費用額を超えています", INVALID_NUMBER
    if record["請求額"] > record["費用額"]:
        yield "請求額", "請求額が費用額を超えています", INVALID_NUMBER


LAYOUT = Layout(
    title="柔整・あはき 受領委任分",
    id_column="施術所コード",
    columns=(
        Column("処理年月", "処理年月", month_value, required=True),
        Column("施術区分", "施術区分", choice(CATEGORIES), required=True),
        Column("施術所コード", "施術所コード", code_value, required=True),
        Column("施術所名", "施術所名", text(60), required=True),
        Column("記号", "記号", identifier(20), required=True),
        Column("番号", "番号", identifier(20), required=True),
        Column("枝番", "枝番", branch_value, required=True),
        Column("施術年月", "施術年月", month_value, required=True),
        Column("施術日数", "施術日数", non_negative_int, required=True),
        Column("費用額", "費用額", amount_value(8), required=True),
        Column("一部負担金", "一部負担金", amount_value(8), required=True),
        Column("請求額", "請求額", amount_value(8), required=True),
    ),
    checks=(_checks,),
)
HEADER = tuple(c.name for c in LAYOUT.columns)


@dataclass(frozen=True)
class EntrustedSummary:
    batch: EntrustedBatch
    outcomes: dict[str, int]  # 支給 / 一部支給 / 不支給 → lines
    unmatched: list[EntrustedLine]
    duplicates: list[EntrustedLine]

    def format(self) -> str:
        b = self.batch
        parts = "、".join(f"{k} {v:,}件" for k, v in self.outcomes.items() if v)
        lines = [
            f"受領委任 {b.month:%Y年%m月}処理分（取込番号 {b.pk}）: 明細 {b.lines_count:,}件、"
            f"決定 {b.decided_count:,}件（{parts or 'なし'}）、支給額 {b.paid_total:,}円、"
            f"施術所 {b.payees.count():,}か所へ支払予定"
        ]
        for line in [*self.unmatched, *self.duplicates]:
            lines.append(
                f"  {line.line_no}行目 {line.get_status_display()}: {line.symbol}-{line.number}"
                f"-{line.branch} {line.service_month:%Y-%m} {line.reason}"
            )
        return "\n".join(lines)


def _key(record: dict[str, Any]) -> tuple[str, str, tuple[str, str, str], dt.date]:
    return (
        record["施術所コード"],
        str(record["施術区分"]),
        (record["記号"], record["番号"], record["枝番"]),
        record["施術年月"],
    )


def _paid_before(codes: set[str], persons: set[int], months: set[dt.date]) -> set[tuple]:
    """(施術所コード, 区分, person, 施術年月) already paid by an earlier file."""
    return set(
        EntrustedLine.objects.filter(
            status=LineStatus.DECIDED,
            organisation__code__in=codes,
            person_id__in=persons,
            service_month__in=months,
            decision__outcome__in=["paid", "partial"],
        ).values_list("organisation__code", "category", "person_id", "service_month")
    )


def _percents(persons: dict[int, Person], days: dict[int, dt.date]) -> dict[int, int | None]:
    """負担割合 (percent) of each person on their day, loaded per distinct day in bulk."""
    by_day: dict[dt.date, list[Person]] = defaultdict(list)
    for pid, day in days.items():
        by_day[day].append(persons[pid])
    out: dict[int, int | None] = {}
    for day, people in by_day.items():
        for pid, basis in burden_bases_load(persons=people, day=day).items():
            state = person_state_from(basis=basis, on=day)
            out[pid] = int(state.copay.value) if state.copay is not None else None
    return out


def entrusted_import(
    *, path: Path, actor: Any, decided_on: dt.date | None = None
) -> EntrustedSummary:
    """The 受領委任 file (see the module docstring)."""
    source, read = file_read(path, LAYOUT, EntrustedBatch)
    records = [(row.line, row.record) for row in read]
    problems = []
    months = {r["処理年月"] for _, r in records}
    if len(months) > 1:
        problems.append(MONTHS_MIXED)
    seen: dict[tuple, int] = {}
    for line, record in records:
        if (first := seen.setdefault(_key(record), line)) != line:
            problems.append(
                f"{line}行目: {first}行目と同じ施術所・施術区分・被保険者・施術年月です"
            )
    if problems:
        raise BatchFileError(path, problems)
    month = months.pop()
    received_on = month  # the 国保連 takes a month's claims from its first day
    decided_on = decided_on or timezone.localdate()
    now = timezone.now()
    numbers = insured_match(r_key[2] for r_key in (_key(r) for _, r in records))
    persons = Person.objects.select_related("household__head").in_bulk(set(numbers.values()))
    periods = insured_periods(persons)
    days = {}
    for _, record in records:
        pid = numbers.get(_key(record)[2])
        if pid is not None:
            day = first_insured_day(periods.get(pid, []), record["施術年月"])
            if day is not None:
                days[pid, record["施術年月"]] = day
    percents: dict[tuple[int, dt.date], int | None] = {}
    for service_month in {m for _, m in days}:
        chosen = {pid: day for (pid, m), day in days.items() if m == service_month}
        for pid, percent in _percents(persons, chosen).items():
            percents[pid, service_month] = percent
    paid_before = _paid_before(
        {r["施術所コード"] for _, r in records},
        set(persons),
        {r["施術年月"] for _, r in records},
    )
    with transaction.atomic():
        organisations = organisations_get(
            OrganisationKind.PRACTITIONER,
            {r["施術所コード"]: r["施術所名"] for _, r in reversed(records)},
            now=now,
        )
        batch = EntrustedBatch.objects.create(
            month=month, file_name=path.name, file_sha256=source.sha256, lines_count=len(records),
            decided_count=0, unmatched_count=0, duplicate_count=0,
            claimed_total=sum(r["請求額"] for _, r in records), paid_total=0,
            decided_on=decided_on, imported_by=actor, imported_at=now,
        )  # fmt: skip
        lines: list[EntrustedLine] = []
        items: list[Decided] = []
        decided_lines: list[EntrustedLine] = []
        for line_no, record in records:
            code, category, number, service_month = _key(record)
            pid = numbers.get(number)
            line = EntrustedLine(
                batch=batch, line_no=line_no, category=category,
                organisation=organisations[code], service_month=service_month,
                days=record["施術日数"], cost=record["費用額"], copay=record["一部負担金"],
                claimed=record["請求額"], symbol=number[0], number=number[1], branch=number[2],
                person_id=pid, status=LineStatus.DECIDED,
            )  # fmt: skip
            lines.append(line)
            if pid is None:
                line.status, line.reason = (
                    LineStatus.UNMATCHED,
                    "記号・番号・枝番の被保険者がいません",
                )
                continue
            if (code, category, pid, service_month) in paid_before:
                line.status = LineStatus.DUPLICATE
                line.reason = "同じ施術所・施術区分・施術年月の請求は前のファイルで支給済みです"
                continue
            day = days.get((pid, service_month))
            percent = percents.get((pid, service_month)) if day else None
            if day is not None and percent is None:
                line.status = LineStatus.UNMATCHED
                line.reason = f"{day} の負担割合を判定できません（資格・所得を確認）"
                continue
            person = persons[pid]
            head = person.household.head if person.household_id else None
            outcome = entrusted_outcome(
                category=TreatmentCategory(category), service_month=service_month,
                days=line.days, cost=line.cost, copay=line.copay, claimed=line.claimed,
                received_on=received_on, insured_day=day, percent=percent,
            )  # fmt: skip
            facts = {
                # The counter's 療養費 rule reads these three (a 変更決定 decides on them).
                "service_date": (day or service_month).isoformat(),
                "fee_schedule_cost": line.cost,
                "paid_amount": line.cost,
                "entrusted": True,
                "category": str(category),
                "practitioner_code": code,
                "practitioner_name": organisations[code].name,
                "days": line.days,
                "copay_claimed": line.copay,
                "claimed": line.claimed,
            }
            application = BenefitApplication(
                benefit=Benefit.RYOYOHI, subject=person, household_id=person.household_id,
                applicant=head, applicant_name=(head or person).name, received_on=received_on,
                event_date=month_end(service_month), facts=facts, attachments={},
                status=ApplicationStatus.DECIDED, recorded_by=actor, recorded_at=now,
            )  # fmt: skip
            items.append(Decided(application, outcome, facts))
            decided_lines.append(line)
        decisions = decisions_keep(
            items, decided_on=decided_on, actor=actor, batch_label=f"entrusted:{batch.pk}"
        )
        payees = _payees(
            batch,
            decided_lines,
            decisions,
            organisations={o.pk: o for o in organisations.values()},
            decided_on=decided_on,
        )
        for line, item, decision in zip(decided_lines, items, decisions, strict=True):
            line.application, line.decision = item.application, decision
            line.payee = payees.get(line.organisation_id) if decision.amount else None
        EntrustedLine.objects.bulk_create(lines, batch_size=2000)
        outcomes = {"支給": 0, "一部支給": 0, "不支給": 0}
        labels = {"paid": "支給", "partial": "一部支給", "refused": "不支給"}
        for decision in decisions:
            outcomes[labels[decision.outcome]] += 1
        batch.decided_count = len(decisions)
        batch.unmatched_count = sum(1 for x in lines if x.status == LineStatus.UNMATCHED)
        batch.duplicate_count = sum(1 for x in lines if x.status == LineStatus.DUPLICATE)
        batch.paid_total = sum(d.amount for d in decisions)
        batch.save(
            update_fields=["decided_count", "unmatched_count", "duplicate_count", "paid_total"]
        )
        audit_event_record(
            actor=actor,
            event_type=EventType.ENTRUSTED_BATCH,
            purpose=Purpose.NHI_BENEFITS,
            subject_type=SubjectType.SYSTEM,
            subject_id=f"entrusted-batch:{batch.pk}",
            extra={
                "file": path.name,
                "sha256": source.sha256,
                "month": f"{month:%Y-%m}",
                "lines": len(lines),
                "decided": len(decisions),
                "unmatched": batch.unmatched_count,
                "duplicates": batch.duplicate_count,
                "paid_total": batch.paid_total,
                "payees": len(payees),
            },
        )
    return EntrustedSummary(
        batch,
        outcomes,
        [x for x in lines if x.status == LineStatus.UNMATCHED],
        [x for x in lines if x.status == LineStatus.DUPLICATE],
    )


def _payees(
    batch: EntrustedBatch,
    lines: list[EntrustedLine],
    decisions: list,
    *,
    organisations: dict[int, PayeeOrganisation],
    decided_on: dt.date,
) -> dict[int, EntrustedPayee]:
    """One `EntrustedPayee` and one payment per 施術所 with an amount (see the docstring)."""
    sums: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for line, decision in zip(lines, decisions, strict=True):
        if decision.amount > 0:
            sums[line.organisation_id][0] += 1
            sums[line.organisation_id][1] += decision.amount
    payees = [
        EntrustedPayee(batch=batch, organisation_id=org, lines_count=n, amount=amount)
        for org, (n, amount) in sorted(sums.items())
    ]
    EntrustedPayee.objects.bulk_create(payees)
    accounts = current_accounts(organisation_id__in=[p.organisation_id for p in payees])
    payments = [
        payment_build(
            benefit=Benefit.JUSEI,
            source_type=PAYMENT_SOURCE,
            source_id=payee.pk,
            account=accounts.get(payee.organisation_id),
            organisation=organisations[payee.organisation_id],
            amount=payee.amount,
            decided_on=decided_on,
            description=f"{batch.month:%Y年%m月}処理分 受領委任 {payee.lines_count}件",
        )
        for payee in payees
    ]
    Payment.objects.bulk_create(payments)
    for payee, payment in zip(payees, payments, strict=True):
        payee.payment = payment
    EntrustedPayee.objects.bulk_update(payees, ["payment"])
    return {p.organisation_id: p for p in payees}
