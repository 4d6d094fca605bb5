"""What the system holds about one person (保有個人情報), for a 開示請求.

`HOLDINGS` lists every business table that holds a person's data, with how to find their
rows; a test walks the models and fails when a table that refers to a person or a household
is neither listed here nor exempted with a reason (`NOT_DISCLOSED`), so a new table cannot
silently drop out of a disclosure. Rows are rendered field by field with the fields'
Japanese names, so a new column appears without touching this module.

Also disclosed: whether a My Number is held (masked — decision 55), the person's requests,
and the access record: who (職, and 氏名 unless the city turns names off), when, what and
for which 事務 — every audit event about the person or about a household screen that
showed them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, models
from django.db.models import Q
from django.utils import timezone

from kokuho.accounts.permissions import Role
from kokuho.audit.models import AuditEvent, EventType, SubjectType, event_type_label
from kokuho.benefits.carry_candidate_models import KogakuCarryCandidate
from kokuho.benefits.entrusted.models import DirectPaymentLine, EntrustedLine
from kokuho.benefits.models import (
    BenefitApplication,
    BenefitDecision,
    CareCostCertificate,
    Claim,
    ClaimResolution,
    CopayReductionApplication,
    CopayReductionDecision,
    GassanResult,
    KogakuApplication,
    KogakuCarriedMonth,
    KogakuDecision,
    KogakuInvitation,
    KogakuOutpatientYear,
    KogakuPersonResult,
    KogakuRecomputeRequest,
    KogakuResult,
    KogakuSimplification,
)
from kokuho.cases.models import CaseClaim, CaseStep, InvestigationCase
from kokuho.certificates.models import CertificateApplication, IssuedDocument, MynaRegistration
from kokuho.core.purposes import Purpose
from kokuho.eligibility.models import (
    BranchNumber,
    ContinuityCarriedDates,
    CurrentEligibility,
    EligibilityNotice,
    EligibilityPeriod,
    EligibilityVersion,
    HouseholdNumber,
    KeptInsured,
    KijunApplication,
)
from kokuho.interfaces.models import QuarantinedRow
from kokuho.intermediary.models import InfoQuery
from kokuho.national.models import NationalWorkItem
from kokuho.payments.models import PayeeAccount, Payment, PaymentTransfer
from kokuho.people.models import (
    Household,
    HouseholdHistory,
    Income,
    OtherCoverage,
    Person,
    PersonHistory,
)
from kokuho.subject_requests.models import SubjectRequest


@dataclass(frozen=True)
class Holding:
    """A class of held data: its heading and how to find one person's rows (given the
    person and their households, read once)."""

    title: str
    model: type[models.Model]
    rows: Callable[[Person, list[Household]], Iterable[models.Model]]


def households_of(person: Person) -> list[Household]:
    """The person's household now and every household named in their registry history."""
    numbers = {person.household.household_no}
    for snapshot in PersonHistory.objects.filter(person=person).values_list("snapshot", flat=True):
        if isinstance(snapshot, dict) and snapshot.get("household_no"):
            numbers.add(str(snapshot["household_no"]))
    return list(Household.objects.filter(household_no__in=numbers).order_by("household_no"))


HOLDINGS: tuple[Holding, ...] = (
    Holding("住民記録", Person, lambda p, hh: [p]),
    Holding(
        "住民記録の履歴",
        PersonHistory,
        lambda p, hh: PersonHistory.objects.filter(person=p).order_by("change_date", "pk"),
    ),
    Holding("世帯", Household, lambda p, hh: hh),
    Holding(
        "世帯の履歴",
        HouseholdHistory,
        lambda p, hh: HouseholdHistory.objects.filter(household__in=hh).order_by(
            "change_date", "pk"
        ),
    ),
    Holding(
        "国民健康保険 資格の記録（版）",
        EligibilityVersion,
        lambda p, hh: EligibilityVersion.objects.filter(person=p).order_by("seq"),
    ),
    Holding(
        "国民健康保険 資格期間",
        EligibilityPeriod,
        lambda p, hh: EligibilityPeriod.objects.filter(version__person=p).order_by(
            "version__seq", "start"
        ),
    ),
    Holding(
        "被保険者記号・番号（世帯）",
        HouseholdNumber,
        lambda p, hh: HouseholdNumber.objects.filter(household__in=hh),
    ),
    Holding(
        "被保険者番号（枝番）",
        BranchNumber,
        lambda p, hh: BranchNumber.objects.filter(person=p).order_by("assigned_on"),
    ),
    Holding(
        "住所地特例等",
        KeptInsured,
        lambda p, hh: KeptInsured.objects.filter(person=p).order_by("start"),
    ),
    Holding(
        "基準収入額適用申請",
        KijunApplication,
        lambda p, hh: KijunApplication.objects.filter(person=p).order_by("applied_on"),
    ),
    Holding(
        "届出に関する通知",
        EligibilityNotice,
        lambda p, hh: EligibilityNotice.objects.filter(person=p).order_by("created_at"),
    ),
    Holding(
        "他の医療保険等の加入",
        OtherCoverage,
        lambda p, hh: OtherCoverage.objects.filter(person=p).order_by("start"),
    ),
    Holding(
        "所得",
        Income,
        lambda p, hh: Income.objects.filter(person=p).order_by("income_year", "applies_from"),
    ),
    Holding(
        "レセプト（診療報酬明細書）",
        Claim,
        lambda p, hh: Claim.objects.filter(person=p).order_by("service_month", "claim_id"),
    ),
    Holding(
        "高額療養費の計算結果（世帯）",
        KogakuResult,
        lambda p, hh: KogakuResult.objects.filter(household__in=hh).order_by("month", "pk"),
    ),
    Holding(
        "高額療養費の計算結果（本人分の按分）",
        KogakuPersonResult,
        lambda p, hh: KogakuPersonResult.objects.filter(person=p).order_by("result__month", "pk"),
    ),
    Holding(
        "高額療養費の申請勧奨",
        KogakuInvitation,
        lambda p, hh: KogakuInvitation.objects.filter(household__in=hh).order_by("month"),
    ),
    Holding(
        "高額療養費の支給申請",
        KogakuApplication,
        lambda p, hh: KogakuApplication.objects.filter(household__in=hh).order_by("month"),
    ),
    Holding(
        "高額療養費の申請簡素化",
        KogakuSimplification,
        lambda p, hh: KogakuSimplification.objects.filter(household__in=hh).order_by(
            "consented_on"
        ),
    ),
    Holding(
        "高額療養費の支給決定",
        KogakuDecision,
        lambda p, hh: KogakuDecision.objects.filter(household__in=hh).order_by("month"),
    ),
    Holding(
        "高額療養費の外来年間合算（70〜74歳）",
        KogakuOutpatientYear,
        lambda p, hh: KogakuOutpatientYear.objects.filter(person=p).order_by("year", "pk"),
    ),
    Holding(
        "高額療養費の再計算の対象（変更決定の理由）",
        KogakuRecomputeRequest,
        lambda p, hh: KogakuRecomputeRequest.objects.filter(household__in=hh).order_by(
            "month", "pk"
        ),
    ),
    Holding(
        "未照合レセプトの解消（再照合・被保険者の指定）",
        ClaimResolution,
        lambda p, hh: ClaimResolution.objects.filter(person=p).order_by("resolved_at", "pk"),
    ),
    Holding(
        "柔道整復・はり・きゅう・あん摩マッサージの受領委任分（国保連合会からの明細）",
        EntrustedLine,
        lambda p, hh: EntrustedLine.objects.filter(person=p).order_by("pk"),
    ),
    Holding(
        "出産育児一時金の直接支払制度分（国保連合会からの明細）",
        DirectPaymentLine,
        lambda p, hh: DirectPaymentLine.objects.filter(person=p).order_by("pk"),
    ),
    Holding(
        "高額療養費の該当月の引継ぎ（県内の転居）",
        KogakuCarriedMonth,
        lambda p, hh: KogakuCarriedMonth.objects.filter(household__in=hh).order_by("month", "pk"),
    ),
    Holding(
        "高額該当引継の候補（県内の転居: 世帯の継続性の確認）",
        KogakuCarryCandidate,
        lambda p, hh: KogakuCarryCandidate.objects.filter(household__in=hh).order_by("pk"),
    ),
    Holding(
        "資格継続で引き継いだ資格取得年月日・喪失年月日（県内の転居）",
        ContinuityCarriedDates,
        lambda p, hh: ContinuityCarriedDates.objects.filter(person=p).order_by("pk"),
    ),
    Holding(
        "国・国保連合会との連携の作業項目（住基照合の不一致など）",
        NationalWorkItem,
        lambda p, hh: NationalWorkItem.objects.filter(person=p).order_by("created_at", "pk"),
    ),
    Holding(
        "情報照会（情報提供ネットワークシステム）と結果",
        InfoQuery,
        lambda p, hh: InfoQuery.objects.filter(person=p).order_by("requested_at", "pk"),
    ),
    Holding(
        "給付の申請（療養費・出産育児一時金・葬祭費等、本人が対象または申請者のもの）",
        BenefitApplication,
        lambda p, hh: BenefitApplication.objects.filter(Q(subject=p) | Q(applicant=p)).order_by(
            "received_on", "pk"
        ),
    ),
    Holding(
        "給付の決定（変更決定を含む）",
        BenefitDecision,
        lambda p, hh: BenefitDecision.objects.filter(
            Q(application__subject=p) | Q(application__applicant=p)
        ).order_by("decided_on", "pk"),
    ),
    Holding(
        "一部負担金の減額・免除・徴収猶予の申請（本人が対象または申請者のもの）",
        CopayReductionApplication,
        lambda p, hh: CopayReductionApplication.objects.filter(
            Q(subject=p) | Q(applicant=p)
        ).order_by("received_on", "pk"),
    ),
    Holding(
        "一部負担金の減額・免除・徴収猶予の決定（延長を含む）",
        CopayReductionDecision,
        lambda p, hh: CopayReductionDecision.objects.filter(
            Q(application__subject=p) | Q(application__applicant=p)
        ).order_by("decided_on", "pk"),
    ),
    Holding(
        "自己負担額証明書（介護保険の側から届いたもの）",
        CareCostCertificate,
        lambda p, hh: CareCostCertificate.objects.filter(person=p).order_by("year", "pk"),
    ),
    Holding(
        "高額介護合算療養費の計算結果（世帯）",
        GassanResult,
        lambda p, hh: GassanResult.objects.filter(household__in=hh).order_by("run_id"),
    ),
    Holding(
        "振込先口座（版ごと）",
        PayeeAccount,
        lambda p, hh: PayeeAccount.objects.filter(person=p).order_by("version"),
    ),
    Holding(
        "支払予定（給付の支払）",
        Payment,
        lambda p, hh: Payment.objects.filter(person=p).order_by("decided_on", "pk"),
    ),
    Holding(
        "振込の明細（支払処理ごと、振込不能を含む）",
        PaymentTransfer,
        lambda p, hh: (
            PaymentTransfer.objects.filter(payment__person=p)
            .select_related("run", "payment", "account")
            .order_by("run__pay_date", "pk")
        ),
    ),
    Holding(
        "マイナ保険証の登録状況・資格確認書の交付申請",
        MynaRegistration,
        lambda p, hh: MynaRegistration.objects.filter(person=p),
    ),
    Holding(
        "認定証の交付申請",
        CertificateApplication,
        lambda p, hh: CertificateApplication.objects.filter(person=p).order_by("applied_on", "pk"),
    ),
    Holding(
        "交付した資格確認書・資格情報のお知らせ・認定証（記載事項を含む）",
        IssuedDocument,
        lambda p, hh: IssuedDocument.objects.filter(person=p).order_by("issued_on", "pk"),
    ),
    Holding(
        "取込の保留行（連携ファイルのうち未反映の行）",
        QuarantinedRow,
        lambda p, hh: QuarantinedRow.objects.filter(raw__atena_no=p.atena_no).order_by("pk"),
    ),
    Holding(
        "調査・求償の案件（資格喪失後受診の返還請求など）",
        InvestigationCase,
        lambda p, hh: InvestigationCase.objects.filter(person=p).order_by("opened_at", "pk"),
    ),
    Holding(
        "案件の経過",
        CaseStep,
        lambda p, hh: CaseStep.objects.filter(case__person=p).order_by("case_id", "at", "pk"),
    ),
    Holding(
        "案件の対象レセプト（保険者負担額）",
        CaseClaim,
        lambda p, hh: CaseClaim.objects.filter(case__person=p).order_by(
            "case_id", "service_month", "claim_no"
        ),
    ),
    Holding(
        "開示・訂正・利用停止請求",
        SubjectRequest,
        lambda p, hh: SubjectRequest.objects.filter(atena_no=p.atena_no).order_by("received_on"),
    ),
)

# Tables that refer to a person or household but are not disclosed as such, and why.
NOT_DISCLOSED: dict[type[models.Model], str] = {
    CurrentEligibility: "最新の版への参照のみ（内容は「資格の記録」に含まれる）",
}

_SKIPPED_FIELDS = {
    "id",
    "person",
    "version",
    "household_number",
    "file",
    "import_file",
    "resolved_by",
    # 高額療養費: the engine's internal rows (the 計算明細 is disclosed as the decision's
    # steps) and the staff who recorded or decided (in the access record instead).
    "explanation",
    "recorded_by",
    "decided_by",
    "withdrawn_by",
    # Documents: the renewal run, mailing batch and issuing staff are internal bookkeeping.
    "issued_by",
    "renewal",
    "batch",
}


def _value(instance: models.Model, model_field: models.Field) -> Any:
    if model_field.choices:
        return getattr(instance, f"get_{model_field.name}_display")()
    value = getattr(instance, model_field.attname)
    if isinstance(model_field, models.ForeignKey):
        target = getattr(instance, model_field.name)
        return str(target) if target is not None else None
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def row_as_dict(instance: models.Model) -> dict[str, Any]:
    """Every concrete field by its Japanese name; internal keys left out."""
    row: dict[str, Any] = {}
    for model_field in instance._meta.concrete_fields:
        if model_field.name in _SKIPPED_FIELDS or model_field.primary_key:
            continue
        row[str(model_field.verbose_name)] = _value(instance, model_field)
    return row


@dataclass(frozen=True)
class AccessEntry:
    """One line of the access record (アクセス記録) as disclosed."""

    occurred_at: str
    staff: str
    role: str
    action: str
    purpose: str
    screen: str

    def as_dict(self) -> dict[str, str]:
        return {
            "日時": self.occurred_at,
            "職員": self.staff,
            "職": self.role,
            "操作": self.action,
            "事務": self.purpose,
            "画面等": self.screen,
        }


def _purpose_label(code: str) -> str:
    try:
        return Purpose(code).label
    except ValueError:
        return code


def _staff_roles(user_ids: set[int]) -> dict[int, tuple[str, str]]:
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(pk__in=user_ids).prefetch_related("groups")
    result: dict[int, tuple[str, str]] = {}
    role_names = {str(r) for r in Role}
    for user in users.select_related("staff_profile"):
        profile = getattr(user, "staff_profile", None)
        name = profile.full_name if profile is not None else user.get_username()
        roles = sorted(g.name for g in user.groups.all() if g.name in role_names)
        result[user.pk] = (name, "・".join(roles) or "職員")
    return result


def _lists_that_showed(atena_no: str, household_nos: list[str]) -> Q:
    """List screens record what they showed as one system event (`persons_shown`,
    `households_shown`): those that showed the person or one of their households. A JSON
    containment on PostgreSQL (GIN-indexed, audit migration 0021); SQLite has no JSON
    containment, so there the quoted value is looked for in the list's text."""
    listed = Q(subject_type=SubjectType.SYSTEM)
    if connection.vendor == "postgresql":
        shown = Q(extra__persons_shown__contains=[atena_no])
        for number in household_nos:
            shown |= Q(extra__households_shown__contains=[number])
    else:
        shown = Q(extra__persons_shown__icontains=f'"{atena_no}"')
        for number in household_nos:
            shown |= Q(extra__households_shown__icontains=f'"{number}"')
    return listed & shown


def access_record(*, person: Person, households: list[Household]) -> list[AccessEntry]:
    """Who looked at or changed the person's data, when and why, oldest first.

    Household screens record the members they showed (`members_shown`); only those that
    showed this person count. List screens (連携の作業項目, 返還未済の証, 高額療養費の一覧 …)
    count when they showed the person or one of their households. The access record's own
    production is included once it has happened (the next disclosure shows this one)."""
    numbers = [h.household_no for h in households]
    events = list(
        AuditEvent.objects.filter(
            Q(subject_type=SubjectType.PERSON, subject_id=person.atena_no)
            | Q(subject_type=SubjectType.HOUSEHOLD, subject_id__in=numbers)
            | _lists_that_showed(person.atena_no, numbers)
        ).order_by("seq")
    )
    events = [
        e
        for e in events
        if e.subject_type == SubjectType.PERSON
        or person.atena_no in (e.extra or {}).get("members_shown", [person.atena_no])
    ]
    staff = _staff_roles({e.actor_id for e in events if e.actor_id is not None})
    show_names = settings.KOKUHO_DISCLOSURE_STAFF_NAMES
    entries = []
    for event in events:
        if event.actor_id is None:
            who, role = "システム（一括処理）", "—"
        else:
            name, role = staff.get(event.actor_id, (event.actor_username, "職員"))
            who = name if show_names else "（職員）"
        entries.append(
            AccessEntry(
                occurred_at=timezone.localtime(event.occurred_at).isoformat(timespec="minutes"),
                staff=who,
                role=role,
                action=event_type_label(event.event_type),
                purpose=_purpose_label(event.purpose),
                screen=str((event.extra or {}).get("screen", "")),
            )
        )
    entries += _national_exports(person)
    entries.sort(key=lambda e: e.occurred_at)  # stable: events keep their order
    return entries


def _national_exports(person: Person) -> list[AccessEntry]:
    """Each national export (連携ファイル) that carried the person: the ledger's records of
    the person-keyed feeds (オンライン資格確認 資格履歴, 資格情報（個人） …), with the file, the
    processing and the recipient — a provision (提供) the person may ask about."""
    from kokuho.national.feeds import feed_spec, person_feeds
    from kokuho.national.models import Feed, OutboundRecord

    rows = (
        OutboundRecord.objects.filter(subject=person.pk, file__feed__in=person_feeds())
        .select_related("file", "file__export")
        .order_by("file__created_at", "file__sequence", "line_no")
    )
    staff = _staff_roles(
        {
            r.file.export.produced_by_id
            for r in rows
            if r.file.export and r.file.export.produced_by_id
        }
    )
    entries = []
    for record in rows:
        file, export = record.file, record.file.export
        spec = feed_spec(file.feed)
        actor_id = export.produced_by_id if export else None
        who, role = (
            staff.get(actor_id, ("（職員）", "職員")) if actor_id else ("システム（一括処理）", "—")
        )
        if actor_id and not settings.KOKUHO_DISCLOSURE_STAFF_NAMES:
            who = "（職員）"
        entries.append(
            AccessEntry(
                occurred_at=timezone.localtime(file.sent_at or file.created_at).isoformat(
                    timespec="minutes"
                ),
                staff=who,
                role=role,
                action=f"{EventType.NATIONAL_EXPORTED.label}: {Feed(file.feed).label}"
                f" 通番 {file.sequence}（{record.get_processing_display()}）",
                purpose=_purpose_label(str(spec.purpose)),
                screen=f"提供先: {spec.recipient_name()}",
            )
        )
    return entries


@dataclass(frozen=True)
class HeldSection:
    title: str
    rows: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class PersonHoldings:
    """Everything held about one person, as disclosed."""

    atena_no: str
    name: str
    sections: list[HeldSection]
    my_number: str | None
    access: list[AccessEntry]

    @property
    def record_count(self) -> int:
        return sum(len(s.rows) for s in self.sections) + len(self.access)

    def as_dict(self) -> dict[str, Any]:
        return {
            "宛名番号": self.atena_no,
            "氏名": self.name,
            "保有個人情報": {s.title: s.rows for s in self.sections},
            "個人番号": (
                {"保有": True, "表示": self.my_number}
                if self.my_number
                else {"保有": False, "表示": None}
            ),
            "アクセス記録": [a.as_dict() for a in self.access],
        }


def person_holdings(*, person: Person, my_number_masked: str | None) -> PersonHoldings:
    """Read every holding of `person` (selector; the caller records the disclosure)."""
    households = households_of(person)
    sections = [
        HeldSection(holding.title, [row_as_dict(r) for r in holding.rows(person, households)])
        for holding in HOLDINGS
    ]
    return PersonHoldings(
        atena_no=person.atena_no,
        name=person.name,
        sections=sections,
        my_number=my_number_masked,
        access=access_record(person=person, households=households),
    )
