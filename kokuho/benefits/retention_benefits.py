"""The benefit decisions (給付の申請・決定) in the retention job: `RecordSource` of
`retention.rules` for `benefits.decision.<n>y_after_fiscal_year`.

A decision record is kept `n` years (the dated parameter `retention.benefit_decision_years`)
counted from the last day of the fiscal year (年度末) of the last decision of its chain: a
変更決定 may create a 返還請求 (公法上の債権, 地方自治法236条: 5 years), so a chain goes only
as a whole, when its newest decision is past, and never half (decisions are erased newest
first inside one transaction, so every PROTECT link points at a row still there). The
units, each erased whole with what rests on it:

- a 高額療養費 month of a household: its first decision and every 変更決定 (`replaces`),
  and the applications they decided (the results stay for the claims rule, which runs next);
- a 給付の申請 (療養費, 出産育児一時金, 葬祭費, 高額介護合算 …) once decided or withdrawn, with
  its decisions (`changes`);
- a 一部負担金減免 application once decided, with its decisions and 延長 (`extends`): its
  newest decision or period end counts;
- a 外来年間合算 of a person and year with its settlements made again (`replaces`);
- a 高額介護合算 yearly run's household results (from the run's date), then the run, and the
  介護 side's 自己負担額証明書 once no run of its year is kept.

A pending 開示等請求 (decision 63) of the person a unit is about (the subject, the applicant,
a member of the household) holds it; so does a relation from a model this module does not
know. `decisions_count` counts what `decisions_erase` erases, unit by unit.
"""

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator
from functools import reduce
from operator import or_

from django.db import transaction
from django.db.models import Exists, Model, OuterRef, Q, QuerySet

from kokuho.benefits.gassan.models import CareCostCertificate, GassanResult, GassanRun
from kokuho.benefits.lifecycle.models import (
    ApplicationStatus,
    BenefitApplication,
    BenefitDecision,
)
from kokuho.benefits.models import (
    KogakuApplication,
    KogakuDecision,
    KogakuOutpatientYear,
    KogakuPersonResult,
)
from kokuho.benefits.reduction.models import CopayReductionApplication, CopayReductionDecision
from kokuho.people.models import Person
from kokuho.retention.erasure import pk_windows, retention_erasure_declare
from kokuho.retention.rules import fiscal_years_ended_before, local_day_start
from kokuho.retention.selectors import unknown_references
from kokuho.subject_requests.models import RequestStatus, SubjectRequest

Erased = tuple[int, dict[str, int]]


def _pending(atena: str) -> Exists:
    """A 開示等請求 not yet decided of the person whose 宛名番号 is at `atena` (OuterRef)."""
    return Exists(
        SubjectRequest.objects.filter(status=RequestStatus.RECEIVED, atena_no=OuterRef(atena))
    )


def _household_held(household: str = "household") -> Exists:
    """A member of the household (OuterRef `household`) has a pending 開示等請求."""
    return Exists(Person.objects.filter(household=OuterRef(household)).filter(_pending("atena_no")))


def _referenced(model: type[Model], known: frozenset[type[Model]], **chain: OuterRef) -> Q:
    """On any row: a row of `model` in the same chain (`chain` lookups) is referred to from a
    model outside `known` — such a chain is kept whole."""
    found = unknown_references(model, known)
    if not found:
        return Q(pk__in=[])
    rows = model._base_manager.filter(**chain).filter(reduce(or_, found))
    return Q(Exists(rows))


def _bounds(cutoff: dt.date) -> tuple[dt.date, dt.datetime]:
    """Dates before the first returned, and timestamps before the second, are of a fiscal
    year whose last day lies before `cutoff`. Decisions and applications count by their
    business dates (決定日, 支払日, 受付日, 期間), not by when the row was written (a decision
    entered late is of the year it was made); a yearly run and a certificate have only the
    time they were made or recorded."""
    first_kept = fiscal_years_ended_before(cutoff)
    return first_kept, local_day_start(first_kept)


# --- the units due ------------------------------------------------------------------------------


def kogaku_chains_due(cutoff: dt.date) -> QuerySet[KogakuDecision]:
    """The first decisions (one per household and 診療月) of 高額療養費 chains past the rule."""
    day, _ = _bounds(cutoff)
    same = {"household": OuterRef("household"), "month": OuterRef("month")}
    young = KogakuDecision.objects.filter(**same).filter(
        Q(decided_on__gte=day) | Q(paid_on__gte=day)
    )
    # Held by a member of the household now, a member counted in a result of the chain
    # (who may have moved to another household since), or the applicant.
    shares = KogakuPersonResult.objects.filter(
        result__decisions__household=OuterRef("household"),
        result__decisions__month=OuterRef("month"),
    ).filter(_pending("person__atena_no"))
    applicants = KogakuApplication.objects.filter(
        household=OuterRef("household"), month=OuterRef("month")
    ).filter(_pending("applicant__atena_no"))
    return (
        KogakuDecision.objects.filter(replaces__isnull=True)
        .exclude(Exists(young))
        .exclude(_household_held())
        .exclude(Exists(shares))
        .exclude(Exists(applicants))
        .exclude(_referenced(KogakuDecision, frozenset({KogakuDecision}), **same))
    )


def benefit_applications_due(cutoff: dt.date) -> QuerySet[BenefitApplication]:
    """給付の申請 decided or withdrawn whose every decision is past the rule (used by
    `payments.retention` too: such an application no longer keeps its account)."""
    day, _ = _bounds(cutoff)
    young = BenefitDecision.objects.filter(application=OuterRef("pk"), decided_on__gte=day)
    known = frozenset({BenefitDecision})
    return (
        BenefitApplication.objects.exclude(status=ApplicationStatus.RECEIVED)
        .filter(received_on__lt=day, event_date__lt=day)
        .exclude(Exists(young))
        .exclude(_pending("subject__atena_no"))
        .exclude(_pending("applicant__atena_no"))
        .exclude(_referenced(BenefitApplication, known, pk=OuterRef("pk")))
        .exclude(_referenced(BenefitDecision, known, application=OuterRef("pk")))
    )


def reduction_applications_due(cutoff: dt.date) -> QuerySet[CopayReductionApplication]:
    """減免の申請 with at least one decision, whose every decision (and period, 延長 included)
    is past the rule. An application never decided is work still to do: kept."""
    day, _ = _bounds(cutoff)
    decisions = CopayReductionDecision.objects.filter(application=OuterRef("pk"))
    young = decisions.filter(Q(decided_on__gte=day) | Q(period_end__gte=day))
    known = frozenset({CopayReductionDecision})
    return (
        CopayReductionApplication.objects.filter(received_on__lt=day)
        .filter(Exists(decisions))
        .exclude(Exists(young))
        .exclude(_pending("subject__atena_no"))
        .exclude(_pending("applicant__atena_no"))
        .exclude(_referenced(CopayReductionApplication, known, pk=OuterRef("pk")))
        .exclude(_referenced(CopayReductionDecision, known, application=OuterRef("pk")))
    )


def outpatient_chains_due(cutoff: dt.date) -> QuerySet[KogakuOutpatientYear]:
    """The first settlements (one per person and year) of 外来年間合算 chains past the rule."""
    day, _ = _bounds(cutoff)
    same = {"person": OuterRef("person"), "year": OuterRef("year")}
    young = KogakuOutpatientYear.objects.filter(**same, decided_on__gte=day)
    return (
        KogakuOutpatientYear.objects.filter(replaces__isnull=True)
        .exclude(Exists(young))
        .exclude(_pending("person__atena_no"))
        .exclude(_pending("head__atena_no"))
        .exclude(_referenced(KogakuOutpatientYear, frozenset({KogakuOutpatientYear}), **same))
    )


def gassan_results_due(cutoff: dt.date) -> QuerySet[GassanResult]:
    """Household results of yearly 高額介護合算 runs made in a fiscal year past the rule."""
    _, moment = _bounds(cutoff)
    return (
        GassanResult.objects.filter(run__created_at__lt=moment)
        .exclude(_household_held())
        .exclude(_referenced(GassanResult, frozenset(), pk=OuterRef("pk")))
    )


def _gassan_runs_empty(cutoff: dt.date) -> QuerySet[GassanRun]:
    _, moment = _bounds(cutoff)
    return (
        GassanRun.objects.filter(created_at__lt=moment)
        .exclude(Exists(GassanResult.objects.filter(run=OuterRef("pk"))))
        .exclude(_referenced(GassanRun, frozenset({GassanResult}), pk=OuterRef("pk")))
    )


def care_certificates_due(cutoff: dt.date) -> QuerySet[CareCostCertificate]:
    """自己負担額証明書 recorded in a fiscal year past the rule, of a year no kept run used."""
    _, moment = _bounds(cutoff)
    kept_run = GassanRun.objects.filter(year=OuterRef("year"), created_at__gte=moment)
    return (
        CareCostCertificate.objects.filter(recorded_at__lt=moment)
        .exclude(Exists(kept_run))
        .exclude(_pending("person__atena_no"))
        .exclude(_referenced(CareCostCertificate, frozenset(), pk=OuterRef("pk")))
    )


UNITS: tuple[Callable[[dt.date], QuerySet], ...] = (
    kogaku_chains_due,
    benefit_applications_due,
    reduction_applications_due,
    outpatient_chains_due,
    gassan_results_due,
    care_certificates_due,
)


def decisions_count(*, cutoff: dt.date, as_of: dt.date) -> int:
    """Units past the rule: chains, applications, yearly results and certificates."""
    return sum(due(cutoff).count() for due in UNITS)


# --- erasing ------------------------------------------------------------------------------------


def _chain_delete(model: type[Model], link: str, ids: list[int], removed: Counter[str]) -> None:
    """Delete the rows `ids` of a self-referring chain newest first: each round deletes the
    rows no other row refers to. A row referred to from outside `ids` would be left: then
    the whole transaction is refused, never half a chain."""
    rows = model._base_manager.filter(pk__in=ids)
    while True:
        leaves = rows.exclude(Exists(model._base_manager.filter(**{link: OuterRef("pk")})))
        deleted, per_model = leaves.delete()
        removed.update({label: n for label, n in per_model.items() if n})
        if not deleted:
            break
    if rows.exists():
        raise RuntimeError(f"{model._meta.label}: 変更の連鎖の一部だけは消去しません")


def _kogaku_erase(heads: list[int]) -> Counter[str]:
    removed: Counter[str] = Counter()
    keys = list(KogakuDecision.objects.filter(pk__in=heads).values_list("household_id", "month"))
    chains = KogakuDecision.objects.filter(
        reduce(or_, (Q(household_id=h, month=m) for h, m in keys))
    )
    rows = list(chains.values_list("pk", "application_id"))
    _chain_delete(KogakuDecision, "replaces", [pk for pk, _ in rows], removed)
    applications = [a for _, a in rows if a is not None]
    removed.update(KogakuApplication.objects.filter(pk__in=applications).delete()[1])
    return removed


def _applications_erase(
    application_model: type[Model], decision_model: type[Model], link: str
) -> Callable[[list[int]], Counter[str]]:
    def erase(ids: list[int]) -> Counter[str]:
        removed: Counter[str] = Counter()
        decisions = decision_model._base_manager.filter(application_id__in=ids)
        _chain_delete(decision_model, link, list(decisions.values_list("pk", flat=True)), removed)
        removed.update(application_model._base_manager.filter(pk__in=ids).delete()[1])
        return removed

    return erase


def _outpatient_erase(heads: list[int]) -> Counter[str]:
    removed: Counter[str] = Counter()
    keys = list(KogakuOutpatientYear.objects.filter(pk__in=heads).values_list("person_id", "year"))
    chains = KogakuOutpatientYear.objects.filter(
        reduce(or_, (Q(person_id=p, year=y) for p, y in keys))
    )
    _chain_delete(
        KogakuOutpatientYear, "replaces", list(chains.values_list("pk", flat=True)), removed
    )
    return removed


def _rows_erase(model: type[Model]) -> Callable[[list[int]], Counter[str]]:
    def erase(ids: list[int]) -> Counter[str]:
        return Counter(model._base_manager.filter(pk__in=ids).delete()[1])

    return erase


def _in_chunks(
    due: Callable[[], QuerySet], chunk: int, erase: Callable[[list[int]], Counter[str]]
) -> Iterator[Erased]:
    """The units due, one id range of `chunk` at a time (`retention.erasure.pk_windows`),
    chosen again inside the transaction that erases them, so a change committed meanwhile
    keeps its unit; erase them and yield inside the transaction, so the job's deletion
    record commits with the chunk (`retention.rules.RecordSource`)."""
    for start, end in pk_windows(due().model, chunk):
        with transaction.atomic():
            retention_erasure_declare()
            ids = list(due().filter(pk__gte=start, pk__lt=end).values_list("pk", flat=True))
            if not ids:
                continue
            removed = erase(ids)
            yield len(ids), {label: n for label, n in removed.items() if n}


def decisions_erase(*, cutoff: dt.date, as_of: dt.date, chunk: int) -> Iterator[Erased]:
    """Erase the units past the rule, `chunk` units per transaction; after each commit yield
    the units erased and the rows per table. Empty yearly runs follow their results (rows
    only, no unit)."""
    work: list[tuple[Callable[[], QuerySet], Callable[[list[int]], Counter[str]]]] = [
        (lambda: kogaku_chains_due(cutoff), _kogaku_erase),
        (
            lambda: benefit_applications_due(cutoff),
            _applications_erase(BenefitApplication, BenefitDecision, "changes"),
        ),
        (
            lambda: reduction_applications_due(cutoff),
            _applications_erase(CopayReductionApplication, CopayReductionDecision, "extends"),
        ),
        (lambda: outpatient_chains_due(cutoff), _outpatient_erase),
        (lambda: gassan_results_due(cutoff), _rows_erase(GassanResult)),
    ]
    for due, erase in work:
        yield from _in_chunks(due, chunk, erase)
    for _erased, tables in _in_chunks(
        lambda: _gassan_runs_empty(cutoff), chunk, _rows_erase(GassanRun)
    ):
        yield 0, tables
    yield from _in_chunks(
        lambda: care_certificates_due(cutoff), chunk, _rows_erase(CareCostCertificate)
    )
