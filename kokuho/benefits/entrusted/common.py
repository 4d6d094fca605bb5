"""What the two 国保連 files share: reading a file whole, matching 記号・番号・枝番, the
organisations they name, and keeping many life-cycle decisions at once.

Every read is set-based: the numbers, 枝番, current eligibility periods, organisations and
accounts of a whole file in a fixed number of queries; applications, decisions, lines and
payments written with `bulk_create`; the audit events appended in one call.
"""

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import models
from django.db.models import F
from django.utils import timezone

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import AuditEntry, audit_events_record
from kokuho.benefits.lifecycle.models import (
    ApplicationStatus,
    BenefitApplication,
    BenefitDecision,
    DecisionKind,
)
from kokuho.benefits.lifecycle.rules import RuleOutcome
from kokuho.core.purposes import Purpose
from kokuho.eligibility.derivation import Period
from kokuho.eligibility.models import BranchNumber, HouseholdNumber
from kokuho.eligibility.selectors import current_periods_by_person
from kokuho.interfaces.layout import (
    FieldInvalid,
    ImportRejected,
    Layout,
    Parser,
    ReadRow,
    SourceFile,
    layout_read,
    nfkc,
)
from kokuho.interfaces.models import ImportErrorCode
from kokuho.payments.models import OrganisationKind, PayeeAccount, PayeeOrganisation

DAY = dt.timedelta(days=1)
MONTHS_MIXED = "処理年月: ファイルに複数の処理年月があります（1ファイル1か月）"


class BatchFileError(ValueError):
    """A file refused whole: `problems` names each bad line (line, field, reason)."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        super().__init__(f"{path.name}: " + " / ".join(problems[:20]))
        self.problems = problems


def month_value(value: str) -> dt.date:
    """YYYYMM (as the 国保連 sends it) or YYYY-MM: the month's first day."""
    normalized = nfkc(value)
    if len(normalized) == 7 and normalized[4] in "-/":
        normalized = normalized[:4] + normalized[5:]
    if len(normalized) == 6 and normalized.isascii() and normalized.isdigit():
        year, month = int(normalized[:4]), int(normalized[4:])
        if year >= 1900 and 1 <= month <= 12:
            return dt.date(year, month, 1)
    raise FieldInvalid(
        f"YYYYMM（例: 202610）で入力してください: '{value}'", ImportErrorCode.INVALID_DATE
    )


def branch_value(value: str) -> str:
    """枝番: 2 digits (a single digit is zero-padded, as typed by hand)."""
    normalized = nfkc(value)
    if normalized.isascii() and normalized.isdigit() and 1 <= len(normalized) <= 2:
        return normalized.rjust(2, "0")
    raise FieldInvalid(f"2桁の数字ではありません: '{value}'")


def amount_value(width: int) -> Parser:
    def parse(value: str) -> int:
        normalized = nfkc(value).replace(",", "")
        if not (normalized.isascii() and normalized.isdigit()) or len(normalized) > width:
            raise FieldInvalid(
                f"{width}桁以内の0以上の整数（円）で入力してください: '{value}'",
                ImportErrorCode.INVALID_NUMBER,
            )
        return int(normalized)

    return parse


def code_value(value: str) -> str:
    code = nfkc(value)
    if not (code.isascii() and code.isalnum() and 1 <= len(code) <= 10):
        raise FieldInvalid(f"10桁以内の英数字ではありません: '{value}'")
    return code


def month_end(month: dt.date) -> dt.date:
    return (month.replace(day=28) + 4 * DAY).replace(day=1) - DAY


def file_read(path: Path, layout: Layout, model: type[models.Model]) -> tuple[SourceFile, list]:
    """The file's rows, refused whole on any unreadable line; a file already imported (the
    same SHA-256) is refused naming the earlier import."""
    try:
        source, rows = layout_read(path, layout)
        read: list[ReadRow] = list(rows)
    except ImportRejected as error:
        raise BatchFileError(path, [error.reason]) from None
    before = model.objects.filter(file_sha256=source.sha256).first()
    if before is not None:
        raise BatchFileError(
            path,
            [
                f"このファイルは取込済みです（取込番号 {before.pk}、{before.file_name}、"
                f"{timezone.localtime(before.imported_at):%Y-%m-%d %H:%M}）"
            ],
        )
    problems = [
        f"{e.line}行目" + (f" {e.field}" if e.field else "") + f": {e.reason}"
        for row in read
        for e in row.errors
    ]
    if not read:
        problems.append("明細がありません")
    if problems:
        raise BatchFileError(path, problems)
    return source, read


def insured_match(numbers: Iterable[tuple[str, str, str]]) -> dict[tuple[str, str, str], int]:
    """記号・番号・枝番 → person id, in two queries (as the claims import matches)."""
    wanted = set(numbers)
    pairs = {(s, n) for s, n, _ in wanted}
    if not pairs:
        return {}
    found = {
        (s, n): pk
        for s, n, pk in HouseholdNumber.objects.filter(
            symbol__in=sorted({s for s, _ in pairs}), number__in=sorted({n for _, n in pairs})
        ).values_list("symbol", "number", "pk")
        if (s, n) in pairs
    }
    by_number = {pk: key for key, pk in found.items()}
    out = {}
    for number_id, branch, person_id in BranchNumber.objects.filter(
        household_number_id__in=sorted(by_number)
    ).values_list("household_number_id", "branch", "person_id"):
        key = (*by_number[number_id], branch)
        if key in wanted:
            out[key] = person_id
    return out


def insured_periods(person_ids: Iterable[int]) -> dict[int, list[Period]]:
    ids = sorted(set(person_ids))
    return current_periods_by_person(person_ids=ids) if ids else {}


def insured_day(periods: Sequence[Period], day: dt.date) -> bool:
    return any(p.start <= day and (p.end is None or p.end >= day) for p in periods)


def first_insured_day(periods: Sequence[Period], month: dt.date) -> dt.date | None:
    """The month's first day on which the person was insured here, if any."""
    last = month_end(month)
    days = [
        max(p.start, month)
        for p in periods
        if p.start <= last and (p.end is None or p.end >= month)
    ]
    return min(days) if days else None


def organisations_get(
    kind: OrganisationKind, names: dict[str, str], *, now: dt.datetime
) -> dict[str, PayeeOrganisation]:
    """The organisations of these codes; those not known yet are created with the file's
    name (their account comes later: their payments wait for it)."""
    found = {o.code: o for o in PayeeOrganisation.objects.filter(kind=kind, code__in=names)}
    missing = [
        PayeeOrganisation(kind=kind, code=code, name=name[:60], recorded_at=now)
        for code, name in sorted(names.items())
        if code not in found
    ]
    if missing:
        PayeeOrganisation.objects.bulk_create(missing)
        found |= {o.code: o for o in PayeeOrganisation.objects.filter(kind=kind, code__in=names)}
    return found


def current_accounts(**owner_in: Iterable[int]) -> dict[int, PayeeAccount]:
    """Current accounts by owner id: `person_id__in=…` or `organisation_id__in=…`."""
    ((key, ids),) = owner_in.items()
    field = key.removesuffix("__in")
    return {
        getattr(a, field): a
        for a in PayeeAccount.objects.filter(**{key: sorted(set(ids))}, superseded_at__isnull=True)
    }


@dataclass
class Decided:
    """One application and its first decision, before they are kept."""

    application: BenefitApplication
    outcome: RuleOutcome
    facts: dict[str, Any]
    existing: bool = False  # an application received before (at the counter)


def decisions_keep(
    items: list[Decided], *, decided_on: dt.date, actor: Any, batch_label: str
) -> list[BenefitDecision]:
    """Keep the applications (new ones inserted, earlier ones marked decided) and their
    first decisions, in bulk; the household's part is the caller's to schedule. One
    `benefit_decided` audit event per decision, as the counter writes."""
    now = timezone.now()
    fresh = [item.application for item in items if not item.existing]
    BenefitApplication.objects.bulk_create(fresh, batch_size=1000)
    earlier = [item.application for item in items if item.existing]
    for application in earlier:
        application.status = ApplicationStatus.DECIDED
        application.version = F("version") + 1  # a clerk's page of it is out of date
    BenefitApplication.objects.bulk_update(earlier, ["status", "facts", "version"], batch_size=1000)
    decisions = [
        BenefitDecision(
            application=item.application,
            kind=DecisionKind.INITIAL,
            outcome=item.outcome.outcome,
            reason=item.outcome.reason,
            amount=item.outcome.amount,
            difference=item.outcome.amount - item.outcome.institution_amount,
            institution_amount=item.outcome.institution_amount,
            inputs={
                "facts": item.facts,
                "event_date": item.application.event_date.isoformat(),
                "batch": batch_label,
            },
            parameters=item.outcome.parameters,
            explanation=item.outcome.steps,
            decided_on=decided_on,
            decided_by=actor,
            created_at=now,
        )
        for item in items
    ]
    BenefitDecision.objects.bulk_create(decisions, batch_size=1000)
    audit_events_record(
        [
            AuditEntry(
                EventType.BENEFIT_DECIDED,
                SubjectType.PERSON,
                item.application.subject.atena_no,
                Purpose.NHI_BENEFITS,
                {
                    "benefit": item.application.benefit,
                    "decision": decision.pk,
                    "outcome": decision.outcome,
                    "amount": decision.amount,
                    "difference": decision.difference,
                    "batch": batch_label,
                },
            )
            for item, decision in zip(items, decisions, strict=True)
        ],
        actor=actor,
    )
    return decisions
