"""出産育児一時金 直接支払制度 (`kokuho childbirth import FILE`): the 国保連's monthly 請求
file of births whose 出産育児一時金 the hospital receives, decided per birth, the hospitals'
part paid to the 国保連 and the 差額 to the household.

The city's interface spec of the file (agreed with the 国保連; the real layout is not
public): CSV, UTF-8 (BOM or not) or CP932, a header line, one line per child born:

| column | content |
|---|---|
| 処理年月 | YYYYMM; one month per file |
| 医療機関コード, 医療機関名 | the hospital (up to 10 letters and digits; 60 characters) |
| 記号, 番号, 枝番 | the mother's 被保険者記号・番号・枝番 |
| 出産日 | YYYY-MM-DD (or YYYYMMDD, 和暦), not after the 処理年月 |
| 出産費用 | the hospital's 請求額 (yen) |
| 産科医療補償制度 | 1 加算対象, 0 対象外 |
| 妊娠週数 | completed weeks (0–45); 12 weeks is the 85th day (12週0日) |

Checked whole first (every bad line named, nothing kept; a file imported before is
refused). Each line is matched as the レセプト are; unknown numbers are kept `UNMATCHED`.
A birth already decided (at the counter, or in an earlier file) is a `DUPLICATE`. A birth
for which the household applied at the counter and is waiting (e.g. stating the former
insurer) is decided on that application with the file's facts added, so the former
insurer's exclusion (健保法106条) applies when it is known; otherwise a new application of
the 世帯主 is kept. Each is decided by the life cycle's `childbirth` rule (direct payment,
the cost as the hospital claims it): `institution_amount` (the cost up to the amount) is the
国保連's, paid in one payment per file; the 差額 is paid to the applicant's account, or,
when the 世帯主 has none yet, kept as a payment held until an account is given
(`HoldReason.NO_ACCOUNT`): never dropped.
"""

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.benefits.entrusted.common import (
    BatchFileError,
    Decided,
    amount_value,
    branch_value,
    code_value,
    current_accounts,
    decisions_keep,
    file_read,
    insured_day,
    insured_match,
    insured_periods,
    month_end,
    month_value,
    organisations_get,
)
from kokuho.benefits.entrusted.models import DirectPaymentBatch, DirectPaymentLine, LineStatus
from kokuho.benefits.lifecycle.models import ApplicationStatus, BenefitApplication
from kokuho.benefits.lifecycle.rules import RULES, Context, Params, RuleOutcome
from kokuho.benefits.lifecycle.services import PAYMENT_SOURCE as DECISION_SOURCE
from kokuho.core.purposes import Purpose
from kokuho.interfaces.layout import (
    Column,
    Layout,
    choice,
    date_value,
    identifier,
    non_negative_int,
    text,
)
from kokuho.interfaces.models import ImportErrorCode
from kokuho.payments.models import (
    Benefit,
    OrganisationKind,
    PayeeOrganisation,
    Payment,
)
from kokuho.payments.services import payment_build
from kokuho.people.models import Person

PAYMENT_SOURCE = "direct_payment_batch"
MAX_WEEKS = 45


def _checks(record: Mapping[str, Any]) -> Iterator[tuple[str, str, ImportErrorCode]]:
    if record["出産日"] > month_end(record["処理年月"]):
        yield "出産日", "出産日が処理年月より後です", ImportErrorCode.INVALID_DATE
    if record["妊娠週数"] > MAX_WEEKS:
        yield "妊娠週数", f"妊娠週数が {MAX_WEEKS} を超えています", ImportErrorCode.INVALID_NUMBER


LAYOUT = Layout(
    title="出産育児一時金 直接支払制度",
    id_column="医療機関コード",
    columns=(
        Column("処理年月", "処理年月", month_value, required=True),
        Column("医療機関コード", "医療機関コード", code_value, required=True),
        Column("医療機関名", "医療機関名", text(60), required=True),
        Column("記号", "記号", identifier(20), required=True),
        Column("番号", "番号", identifier(20), required=True),
        Column("枝番", "枝番", branch_value, required=True),
        Column("出産日", "出産日", date_value, required=True),
        Column("出産費用", "出産費用", amount_value(8), required=True),
        Column(
            "産科医療補償制度",
            "産科医療補償制度",
            choice({"1": True, "0": False, "対象": True, "対象外": False}),
            required=True,
        ),
        Column("妊娠週数", "妊娠週数", non_negative_int, required=True),
    ),
    checks=(_checks,),
)
HEADER = tuple(c.name for c in LAYOUT.columns)


@dataclass(frozen=True)
class DirectPaymentSummary:
    batch: DirectPaymentBatch
    outcomes: dict[str, int]
    unmatched: list[DirectPaymentLine]
    duplicates: list[DirectPaymentLine]
    differences: int  # 差額 payments scheduled
    differences_waiting: int  # of which wait for the head's account

    def format(self) -> str:
        b = self.batch
        parts = "、".join(f"{k} {v:,}件" for k, v in self.outcomes.items() if v)
        lines = [
            f"直接支払制度 {b.month:%Y年%m月}処理分（取込番号 {b.pk}）: 明細 {b.lines_count:,}件、"
            f"決定 {b.decided_count:,}件（{parts or 'なし'}）、"
            f"国保連合会へ {b.institution_total:,}円、"
            f"差額の支給 {self.differences:,}件"
            + (
                f"（うち {self.differences_waiting:,}件は世帯主の振込先口座の届出待ち）"
                if self.differences_waiting
                else ""
            )
        ]
        for line in [*self.unmatched, *self.duplicates]:
            lines.append(
                f"  {line.line_no}行目 {line.get_status_display()}: {line.symbol}-{line.number}"
                f"-{line.branch} 出産日 {line.birth_date} {line.reason}"
            )
        return "\n".join(lines)


def federation_payee(*, now: dt.datetime) -> PayeeOrganisation:
    """The 国保連合会 the city pays (one per prefecture): the one recorded, else created
    from the settings (its account is recorded with `organisation_account_record`)."""
    found = PayeeOrganisation.objects.filter(kind=OrganisationKind.FEDERATION).order_by("pk")
    if (first := found.first()) is not None:
        return first
    return PayeeOrganisation.objects.create(
        kind=OrganisationKind.FEDERATION,
        code=settings.KOKUHO_INSURER_NUMBER[:2],
        name=f"{settings.KOKUHO_PREFECTURE_NAME}国民健康保険団体連合会",
        recorded_at=now,
    )


def _weeks_to_days(weeks: int) -> int:
    """妊娠n週 (completed weeks) as the day of pregnancy the rule reads: n週0日 is day 7n+1
    (12週0日 = the 85th day, the first day a birth counts)."""
    return 7 * weeks + 1


def _not_copay(day: dt.date) -> int:
    raise AssertionError("出産育児一時金は負担割合を使いません")


def childbirth_import(
    *, path: Path, actor: Any, decided_on: dt.date | None = None
) -> DirectPaymentSummary:
    """The 直接支払 file (see the module docstring)."""
    source, read = file_read(path, LAYOUT, DirectPaymentBatch)
    records = [(row.line, row.record) for row in read]
    months = {r["処理年月"] for _, r in records}
    if len(months) > 1:
        raise BatchFileError(
            path, ["処理年月: ファイルに複数の処理年月があります（1ファイル1か月）"]
        )
    month = months.pop()
    decided_on = decided_on or timezone.localdate()
    now = timezone.now()
    numbers = insured_match((r["記号"], r["番号"], r["枝番"]) for _, r in records)
    persons = Person.objects.select_related("household__head").in_bulk(set(numbers.values()))
    periods = insured_periods(persons)
    earlier: dict[tuple[int, dt.date], list[BenefitApplication]] = {}
    for application in BenefitApplication.objects.filter(
        benefit=Benefit.SHUSSAN,
        subject_id__in=sorted(persons),
        event_date__in=sorted({r["出産日"] for _, r in records}),
    ).exclude(status=ApplicationStatus.WITHDRAWN):
        earlier.setdefault((application.subject_id, application.event_date), []).append(application)
    heads = {p.household.head_id for p in persons.values() if p.household_id} - {None}
    accounts = current_accounts(person_id__in=heads)
    with transaction.atomic():
        hospitals = organisations_get(
            OrganisationKind.MEDICAL,
            {r["医療機関コード"]: r["医療機関名"] for _, r in reversed(records)},
            now=now,
        )
        federation = federation_payee(now=now)
        batch = DirectPaymentBatch.objects.create(
            month=month, file_name=path.name, file_sha256=source.sha256, lines_count=len(records),
            decided_count=0, unmatched_count=0, duplicate_count=0,
            claimed_total=sum(r["出産費用"] for _, r in records), paid_total=0,
            decided_on=decided_on, imported_by=actor, imported_at=now, federation=federation,
            institution_total=0,
        )  # fmt: skip
        lines, items, decided_lines = [], [], []
        for line_no, record in records:
            number = (record["記号"], record["番号"], record["枝番"])
            pid = numbers.get(number)
            birth = record["出産日"]
            line = DirectPaymentLine(
                batch=batch, line_no=line_no, symbol=number[0], number=number[1],
                branch=number[2], person_id=pid, status=LineStatus.DECIDED,
                institution=hospitals[record["医療機関コード"]], birth_date=birth,
                cost=record["出産費用"], compensation_covered=record["産科医療補償制度"],
                gestation_weeks=record["妊娠週数"],
            )  # fmt: skip
            lines.append(line)
            if pid is None:
                line.status = LineStatus.UNMATCHED
                line.reason = "記号・番号・枝番の被保険者がいません"
                continue
            before = earlier.get((pid, birth), [])
            waiting = [a for a in before if a.status == ApplicationStatus.RECEIVED]
            if any(a.status == ApplicationStatus.DECIDED for a in before):
                line.status = LineStatus.DUPLICATE
                line.reason = "同じ出産の出産育児一時金は決定済みです"
                continue
            person = persons[pid]
            facts = {
                "gestation_days": _weeks_to_days(record["妊娠週数"]),
                "children": 1,
                "compensation_covered": record["産科医療補償制度"],
                "direct_payment": True,
                "delivery_cost": record["出産費用"],
                "institution_code": record["医療機関コード"],
                "institution_name": hospitals[record["医療機関コード"]].name,
            }
            if waiting:
                application = waiting.pop(0)
                earlier[pid, birth].remove(application)
                # The counter's statements (the former insurer) stay; the file adds the rest.
                facts = {**application.facts, **facts}
                application.facts = facts
                existing = True
            else:
                head = person.household.head if person.household_id else None
                application = BenefitApplication(
                    benefit=Benefit.SHUSSAN, subject=person, household_id=person.household_id,
                    applicant=head, applicant_name=(head or person).name, received_on=month,
                    event_date=birth, facts=facts, attachments={},
                    account=accounts.get(head.pk) if head else None,
                    status=ApplicationStatus.DECIDED, recorded_by=actor, recorded_at=now,
                )  # fmt: skip
                existing = False  # twins: one line and one application per child
            outcome = _decide(application, facts, periods.get(pid, []), decided_on)
            items.append(Decided(application, outcome, facts, existing=existing))
            decided_lines.append(line)
        decisions = decisions_keep(
            items, decided_on=decided_on, actor=actor, batch_label=f"direct-payment:{batch.pk}"
        )
        waiting_count = _differences(decided_lines, items, decisions, decided_on=decided_on)
        for line, item, decision in zip(decided_lines, items, decisions, strict=True):
            line.application, line.decision = item.application, decision
            line.institution_amount = decision.institution_amount
            line.difference_amount = decision.amount - decision.institution_amount
        DirectPaymentLine.objects.bulk_create(lines, batch_size=2000)
        batch.institution_total = sum(d.institution_amount for d in decisions)
        if batch.institution_total:
            payment = payment_build(
                benefit=Benefit.SHUSSAN,
                source_type=PAYMENT_SOURCE,
                source_id=batch.pk,
                account=current_accounts(organisation_id__in=[federation.pk]).get(federation.pk),
                organisation=federation,
                amount=batch.institution_total,
                decided_on=decided_on,
                description=f"{month:%Y年%m月}処理分 直接支払制度 {len(decisions)}件",
            )
            payment.save(force_insert=True)
            batch.payment = payment
        labels = {"paid": "支給", "partial": "一部支給", "refused": "不支給"}
        outcomes = dict.fromkeys(labels.values(), 0)
        for decision in decisions:
            outcomes[labels[decision.outcome]] += 1
        batch.decided_count = len(decisions)
        batch.unmatched_count = sum(1 for x in lines if x.status == LineStatus.UNMATCHED)
        batch.duplicate_count = sum(1 for x in lines if x.status == LineStatus.DUPLICATE)
        batch.paid_total = sum(d.amount for d in decisions)
        batch.save()
        differences = sum(1 for x in decided_lines if x.difference_amount)
        audit_event_record(
            actor=actor,
            event_type=EventType.DIRECT_PAYMENT_BATCH,
            purpose=Purpose.NHI_BENEFITS,
            subject_type=SubjectType.SYSTEM,
            subject_id=f"direct-payment-batch:{batch.pk}",
            extra={
                "file": path.name,
                "sha256": source.sha256,
                "month": f"{month:%Y-%m}",
                "lines": len(lines),
                "decided": len(decisions),
                "unmatched": batch.unmatched_count,
                "duplicates": batch.duplicate_count,
                "institution_total": batch.institution_total,
                "differences": differences,
                "differences_waiting": waiting_count,
            },
        )
    return DirectPaymentSummary(
        batch,
        outcomes,
        [x for x in lines if x.status == LineStatus.UNMATCHED],
        [x for x in lines if x.status == LineStatus.DUPLICATE],
        differences,
        waiting_count,
    )


def _decide(
    application: BenefitApplication,
    facts: dict[str, Any],
    periods: list,
    decided_on: dt.date,
) -> RuleOutcome:
    birth = application.event_date
    params = Params(birth)
    if not params.get("benefits.direct_payment_scheme"):
        reason = "直接支払制度の実施前の出産です（世帯主からの申請で支給します）"
        return RuleOutcome("refused", 0, reason, steps=[reason], parameters=params.used)
    context = Context(
        event_date=birth,
        received_on=application.received_on,
        facts=facts,
        insured_on=lambda day: insured_day(periods, day),
        copay_percent=_not_copay,
        decided_on=decided_on,
    )
    outcome = RULES[Benefit.SHUSSAN](context)
    outcome.parameters = [*params.used, *outcome.parameters]
    return outcome


def _differences(
    lines: list[DirectPaymentLine],
    items: list[Decided],
    decisions: list,
    *,
    decided_on: dt.date,
) -> int:
    """The 差額 of each decision to the applicant's account (`benefit_decision` payments, as
    the counter's); held until the 世帯主 gives one. Returns how many wait."""
    payments, owners = [], []
    for line, item, decision in zip(lines, items, decisions, strict=True):
        difference = decision.amount - decision.institution_amount
        if difference <= 0:
            continue
        application = item.application
        account = application.account
        payments.append(
            payment_build(
                benefit=Benefit.SHUSSAN,
                source_type=DECISION_SOURCE,
                source_id=decision.pk,
                account=account,
                person=None if account else (application.applicant or application.subject),
                amount=difference,
                decided_on=decided_on,
                description="差額支給（直接支払制度）",
            )
        )
        owners.append(line)
    Payment.objects.bulk_create(payments)
    for line, payment in zip(owners, payments, strict=True):
        line.difference_payment = payment
    return sum(1 for p in payments if p.account_id is None)
