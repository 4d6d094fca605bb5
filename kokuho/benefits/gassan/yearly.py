"""The yearly 高額介護合算 run: the 介護 side's certificates in, every household out.

1. `care_certificates_import(path=…)` reads the 介護保険 side's 自己負担額証明書 file (CSV,
   UTF-8 or CP932, the columns of `LAYOUT`, read by `interfaces.layout`), checked whole
   before anything is kept: each bad line is named with its field and reason and the file
   is refused. A person is found by 宛名番号 and 生年月日 (the city's systems share the
   宛名番号); a 証明書番号 already kept with the same content is skipped, with other
   content refused (a correction comes with a new number).
2. `gassan_year_run(year=…)` takes every household with a certificate of the year: its
   members on the 基準日 (7/31) insured here and not yet 75, each member's 医療 自己負担額
   of the year from the matched claims (units counted as 高額療養費 counts them: every
   co-payment in a 70–74 month, units of at least the 21,000-yen threshold otherwise) less
   the 高額療養費 the month's current run paid them, the 介護 amount from the certificates,
   and the household's 所得区分 on the 基準日; then the same `gassan_compute` as
   `kokuho gassan calc`. Households with only one side are not computed (the benefit
   needs both). Claims are read in fixed queries per chunk of 500 persons.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from kokuho.benefits.gassan.engine import (
    ELDERLY,
    UNDER70,
    HouseholdInvalid,
    HouseholdYear,
    MemberYear,
    age_on,
    gassan_compute,
    is_late_elderly,
    period_of,
    year_rules,
)
from kokuho.benefits.gassan.explain import outcome_explanation
from kokuho.benefits.gassan.models import CareCostCertificate, GassanResult, GassanRun
from kokuho.benefits.kogaku.workflow import kogaku_current_runs
from kokuho.benefits.models import Claim, ClaimKind, ClaimMatch, ClaimSetting, KogakuPersonResult
from kokuho.eligibility.burden import is_elderly_on
from kokuho.eligibility.selectors import (
    burden_bases_load,
    household_members_on,
    person_state_from,
)
from kokuho.interfaces.layout import (
    Column,
    FieldInvalid,
    ImportRejected,
    Layout,
    date_value,
    digits,
    identifier,
    integer_upto,
    layout_read,
    nfkc,
    year,
)
from kokuho.people.models import Household, Person
from kokuho.rules.params import parameters

CHUNK = 500


class CertificateFileError(ValueError):
    def __init__(self, path: Path, problems: list[str]) -> None:
        super().__init__(f"{path.name}: " + " / ".join(problems[:20]))
        self.problems = problems


@dataclass(frozen=True)
class CertificatesSummary:
    kept: int
    already: int

    def format(self) -> str:
        return f"自己負担額証明書 {self.kept:,}件を記録しました（記録済み {self.already:,}件）"


def _six_digits(value: str) -> str:
    code = nfkc(value)
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        raise FieldInvalid(f"6桁の数字ではありません: '{value}'")
    return code


LAYOUT = Layout(
    title="自己負担額証明書（介護）",
    id_column="証明書番号",
    columns=(
        Column("証明書番号", "証明書番号", identifier(20), required=True),
        Column("宛名番号", "宛名番号", digits(15), required=True),
        Column("生年月日", "生年月日", date_value, required=True),
        Column("計算期間開始年", "計算期間開始年", year, required=True),
        Column("介護保険者番号", "介護保険者番号", _six_digits, required=True),
        # 9 digits: the column is an INTEGER (a larger amount is the line's mistake).
        Column("介護自己負担額", "介護自己負担額", integer_upto(9), required=True),
    ),
)


CERT_HEADER = tuple(c.name for c in LAYOUT.columns)


def care_certificates_import(*, path: Path) -> CertificatesSummary:
    """The 介護 side's certificates (see the module docstring)."""
    try:
        source, rows = layout_read(path, LAYOUT)
        read = list(rows)
    except ImportRejected as error:
        raise CertificateFileError(path, [error.reason]) from None
    problems = [
        f"{e.line}行目" + (f" {e.field}" if e.field else "") + f": {e.reason}"
        for row in read
        for e in row.errors
    ]
    parsed = [
        (row.line, *(r[c.name] for c in LAYOUT.columns))
        for row in read
        if (r := row.record) is not None
    ]
    people = {p.atena_no: p for p in Person.objects.filter(atena_no__in={row[2] for row in parsed})}
    kept_before = {
        c.certificate_no: c
        for c in CareCostCertificate.objects.filter(certificate_no__in={r[1] for r in parsed})
    }
    fresh, already, seen = [], 0, set()
    sha = source.sha256
    now = timezone.now()
    for number, cert, atena, birth, period_year, insurer, amount in parsed:
        person = people.get(atena)
        if person is None or person.birth_date != birth:
            problems.append(f"{number}行目 宛名番号: {atena} の住民（生年月日 {birth}）がいません")
            continue
        if cert in seen:
            problems.append(f"{number}行目 証明書番号: ファイル内で重複しています: {cert}")
            continue
        seen.add(cert)
        before = kept_before.get(cert)
        if before is not None:
            same = (before.person_id, before.year, before.care_insurer_no, before.care_amount)
            if same != (person.pk, period_year, insurer, amount):
                problems.append(
                    f"{number}行目 証明書番号: {cert} は内容の異なるものが記録済みです"
                    "（訂正は新しい証明書番号で送ってください）"
                )
            else:
                already += 1
            continue
        fresh.append(
            CareCostCertificate(
                certificate_no=cert,
                year=period_year,
                person=person,
                care_insurer_no=insurer,
                care_amount=amount,
                file_name=path.name,
                file_sha256=sha,
                recorded_at=now,
            )
        )
    if problems:
        raise CertificateFileError(path, problems)
    CareCostCertificate.objects.bulk_create(fresh, batch_size=2000)
    return CertificatesSummary(len(fresh), already)


def _months(year: int) -> list[dt.date]:
    start, _ = period_of(year)
    first = start.year * 12 + start.month - 1
    return [dt.date((first + i) // 12, (first + i) % 12 + 1, 1) for i in range(12)]


def medical_year(*, persons: list[Person], year: int) -> dict[int, int]:
    """Each person's 医療 自己負担額 of the year after 高額療養費 (see the module docstring)."""
    months = _months(year)
    births = {p.pk: p.birth_date for p in persons}
    threshold = {m: parameters().at(m).kogaku.aggregation_threshold for m in months}
    cap = {m: parameters().at(m).kogaku.specific_disease["standard"] for m in months}
    units: dict[tuple, int] = defaultdict(int)
    ids = sorted(births)
    for start in range(0, len(ids), CHUNK):
        for pid, month, provider, prescriber, setting, kind, copay, special in Claim.objects.filter(
            person_id__in=ids[start : start + CHUNK],
            match=ClaimMatch.MATCHED,
            service_month__range=(months[0], months[-1]),
        ).values_list(
            "person_id", "service_month", "provider", "prescribed_by", "setting", "kind",
            "copay", "specific_disease",
        ):  # fmt: skip
            pharmacy = kind == ClaimKind.PHARMACY
            key = (
                pid,
                month,
                prescriber if pharmacy else provider,
                setting == ClaimSetting.INPATIENT
                and kind not in (ClaimKind.PHARMACY, ClaimKind.HOME_NURSING),
                kind == ClaimKind.DENTAL or (pharmacy and prescriber[2:3] == "3"),
            )
            units[key] += min(copay, cap[month]) if special else copay
    counted: dict[int, int] = defaultdict(int)
    for (pid, month, *_), copay in units.items():
        if is_elderly_on(births[pid], month) or copay >= threshold[month]:
            counted[pid] += copay
    current = kogaku_current_runs(first=months[0], last=months[-1])
    for start in range(0, len(ids), CHUNK):
        for pid, benefit in KogakuPersonResult.objects.filter(
            result__run_id__in=list(current.values()), person_id__in=ids[start : start + CHUNK]
        ).values_list("person_id", "benefit"):
            counted[pid] -= benefit
    return {pid: max(0, counted.get(pid, 0)) for pid in births}


def _members_and_categories(
    households: list[Household], rules: Any
) -> dict[int, tuple[list[Person], str | None, str | None]]:
    """Each household's members on the 基準日 (insured here, not yet 75) and its under-70 and
    70–74 所得区分 keys, with one load of every member's eligibility and income basis."""
    day = rules.reference_day
    registry = {h.pk: household_members_on(household=h, on=day) for h in households}
    everyone = [p for people in registry.values() for p in people]
    bases = burden_bases_load(persons=everyone, day=day)
    found: dict[int, tuple[list[Person], str | None, str | None]] = {}
    for household_id, people in registry.items():
        members, category, category_70 = [], None, None
        for person in people:
            state = person_state_from(basis=bases[person.pk], on=day)
            if not state.insured or is_late_elderly(person.birth_date, rules):
                continue
            members.append(person)
            elderly = age_on(person.birth_date, day) >= rules.elderly_age
            label = state.category.value if state.category is not None else None
            band = (
                rules.band_for_label(ELDERLY if elderly else UNDER70, str(label)) if label else None
            )
            if band is not None and elderly:
                category_70 = category_70 or band.key
            elif band is not None:
                category = category or band.key
        found[household_id] = (members, category, category_70)
    return found


def gassan_year_run(*, year: int) -> GassanRun:
    """The year's run (see the module docstring)."""
    rules = year_rules(year)
    care: dict[int, int] = defaultdict(int)
    households: dict[int, Household] = {}
    for cert in CareCostCertificate.objects.filter(year=year).select_related("person__household"):
        care[cert.person_id] += cert.care_amount
        households[cert.person.household_id] = cert.person.household
    counts = {"households": len(households), "computed": 0, "paid": 0, "one_side_only": 0}
    results = []
    with transaction.atomic():
        run = GassanRun.objects.create(
            year=year,
            parameters=[
                {"name": u.name, "since": u.start.isoformat(), "reference": u.reference}
                for u in rules.used
            ],
            created_at=timezone.now(),
        )
        found = _members_and_categories(list(households.values()), rules)
        medical = medical_year(
            persons=[p for members, _, _ in found.values() for p in members], year=year
        )
        for household in households.values():
            members, category, category_70 = found[household.pk]
            if not members:
                continue
            household_year = HouseholdYear(
                year,
                category,
                category_70,
                tuple(
                    MemberYear(p.atena_no, p.birth_date, medical[p.pk], care.get(p.pk, 0))
                    for p in members
                ),
            )
            if not any(m.medical for m in household_year.members) or not any(
                m.care for m in household_year.members
            ):
                counts["one_side_only"] += 1
                continue
            try:
                outcome = gassan_compute(household_year, rules)
            except HouseholdInvalid:  # a 所得区分 that could not be decided on the 基準日
                counts["category_unknown"] = counts.get("category_unknown", 0) + 1
                continue
            counts["computed"] += 1
            counts["paid"] += outcome.paid
            results.append(
                GassanResult(
                    run=run,
                    household=household,
                    excess_70_74=outcome.excess_70_74,
                    excess=outcome.excess,
                    paid=outcome.paid,
                    medical_share=outcome.medical_share,
                    care_share=outcome.care_share,
                    members=[
                        {"atena_no": m.id, "medical": m.medical, "care": m.care}
                        for m in household_year.members
                    ],
                    explanation=outcome_explanation(outcome),
                )
            )
        GassanResult.objects.bulk_create(results, batch_size=1000)
        counts["medical_share_total"] = sum(r.medical_share for r in results if r.paid)
        run.counts = counts
        run.save(update_fields=["counts"])
    return run


def gassan_application_register(
    *,
    result: GassanResult,
    received_on: dt.date,
    account: Any,
    actor: Any,
    attachments: dict[str, bool] | None = None,
) -> Any:
    """The head's application for a computed household-year, through the benefits life
    cycle: the result's figures are kept on the application as it stood when applied for."""
    from kokuho.benefits.lifecycle.models import ApplicationStatus, BenefitApplication
    from kokuho.benefits.lifecycle.services import BenefitError, benefit_application_register
    from kokuho.payments.models import Benefit

    _, reference_day = period_of(result.run.year)
    household = result.household
    # One application per household and year: a second would be paid twice.
    if (
        BenefitApplication.objects.filter(
            benefit=Benefit.GASSAN, household=household, facts__year=result.run.year
        )
        .exclude(status=ApplicationStatus.WITHDRAWN)
        .exists()
    ):
        raise BenefitError(
            f"この世帯の{result.run.year}年8月〜{result.run.year + 1}年7月分の"
            "高額介護合算療養費は申請済みです"
        )
    members = {m["atena_no"] for m in result.members}
    subject = household.head if household.head and household.head.atena_no in members else None
    subject = subject or Person.objects.get(atena_no=sorted(members)[0])
    facts = {
        "year": result.run.year,
        "gassan_result": result.pk,
        "result_paid": result.paid,
        "result_excess": result.excess,
        "result_medical_share": result.medical_share,
        "result_care_share": result.care_share,
        "result_steps": [step.get("text", "") for step in result.explanation],
    }
    return benefit_application_register(
        benefit=Benefit.GASSAN,
        subject=subject,
        applicant=household.head or subject,
        received_on=received_on,
        event_date=reference_day,
        facts=facts,
        attachments=attachments,
        account=account,
        actor=actor,
    )
