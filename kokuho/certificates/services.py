"""Issuing, reissuing, invalidating and taking back documents (証・通知の交付・無効・返還).

Every path that issues a document — the counter, an approved 認定証 application, the daily
reconciliation, the yearly renewal — goes through `documents_issue`, which takes serials,
snapshots the printed items (`person_documents`) and invalidates what the new document
replaces. `documents_reconcile` is the one place that reacts to changes: 資格喪失 invalidates
every valid document of the person and asks for the 資格確認書 and 認定証 back; a change of a
printed item (氏名, 住所, 世帯主, 記号・番号・枝番, 負担割合, 区分) reissues the document as
記載事項変更. The counter's 届出 (`eligibility.events.event_apply`) calls it for the persons
it touched; bulk imports leave it to the daily job (`kokuho certificates daily`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.certificates.glyphs import printable
from kokuho.certificates.models import (
    CERTIFICATE_TYPES,
    RETURN_REQUIRED_TYPES,
    ApplicationStatus,
    CertificateApplication,
    Delivery,
    DocumentSerial,
    DocumentStatus,
    DocumentType,
    InvalidReason,
    IssuedDocument,
    IssueReason,
    MynaRegistration,
    MynaStatus,
)
from kokuho.certificates.rules import (
    LIMIT_CATEGORIES,
    ONE_DAY,
    REDUCED_CATEGORIES,
    DocumentFacts,
    basic_document_type,
    basic_validity,
    certificate_check,
    is_elderly_band,
    long_stay_applies,
)
from kokuho.core.purposes import Purpose
from kokuho.eligibility.burden import elderly_from
from kokuho.eligibility.models import BranchNumber, KeptInsured, KeptKind
from kokuho.eligibility.selectors import (
    PersonState,
    burden_bases_load,
    household_head_on,
    insured_number_of,
    person_state_from,
    person_state_on,
)
from kokuho.people.models import HouseholdHistory, Person, Sex
from kokuho.rules.params import parameters

BASIC_TYPES = (DocumentType.KAKUNINSHO, DocumentType.OSHIRASE)
SERIAL_PREFIX = {
    DocumentType.KAKUNINSHO: "KA",
    DocumentType.OSHIRASE: "OS",
    DocumentType.GENDOGAKU: "GD",
    DocumentType.GENGAKU: "GG",
    DocumentType.TOKUTEI: "TK",
}
# The printed items whose change reissues a document (documents.md: 記載事項変更).
CHANGE_KEYS = {
    "basic": ("symbol", "number", "branch", "name", "head_name", "address", "copay_rate"),
    "certificate": ("symbol", "number", "branch", "name", "head_name", "address", "category"),
}

# A 認定証 whose 区分 changes to one outside these is no longer due: invalidated, not reissued.
ENTITLED_CATEGORIES = {
    DocumentType.GENDOGAKU.value: LIMIT_CATEGORIES,
    DocumentType.GENGAKU.value: REDUCED_CATEGORIES,
}


class DocumentError(ValueError):
    """A document operation that cannot be done; the message is shown to staff as is."""


# --- Settings -------------------------------------------------------------------------------


def renewal_month_day() -> tuple[int, int]:
    """The city's yearly renewal date (KOKUHO_DOCUMENT_RENEWAL, "MM-DD")."""
    month, day = settings.KOKUHO_DOCUMENT_RENEWAL.split("-")
    return int(month), int(day)


def issue_to_all() -> bool:
    """暫定運用: a 資格確認書 to every insured person (KOKUHO_DOCUMENTS_KAKUNINSHO_TO_ALL)."""
    return bool(settings.KOKUHO_DOCUMENTS_KAKUNINSHO_TO_ALL)


# --- Facts and printed items ----------------------------------------------------------------


@dataclass(frozen=True)
class PersonDocuments:
    """A person's facts on a day, as the rules and the printed items need them."""

    person: Person
    on: dt.date
    state: PersonState
    facts: DocumentFacts
    printed: dict[str, Any] = field(default_factory=dict)


def _student_case(person: Person, on: dt.date) -> KeptInsured | None:
    return (
        KeptInsured.objects.filter(person=person, kind=KeptKind.STUDENT, start__lte=on)
        .exclude(end__lt=on)
        .order_by("-start")
        .first()
    )


def person_documents(*, person: Person, on: dt.date) -> PersonDocuments:
    """Gather what deciding and printing a person's documents on `on` needs."""
    state = person_state_on(person=person, on=on)
    myna = MynaRegistration.objects.filter(person=person).first()
    student = _student_case(person, on)
    numbers = insured_number_of(person=person) if state.insured else None
    head = household_head_on(household=person.household, on=on) if state.insured else None
    return _documents(person, on, state, myna, student, numbers, head)


def person_documents_many(*, persons: Sequence[Person], on: dt.date) -> dict[int, PersonDocuments]:
    """`person_documents` for many persons in a fixed number of queries (the renewal)."""
    ids = [p.pk for p in persons]
    bases = burden_bases_load(persons=persons, day=on)
    mynas = MynaRegistration.objects.in_bulk(ids)
    students: dict[int, KeptInsured] = {}
    for case in (
        KeptInsured.objects.filter(person_id__in=ids, kind=KeptKind.STUDENT, start__lte=on)
        .exclude(end__lt=on)
        .order_by("person_id", "start")
    ):
        students[case.person_id] = case  # the latest start wins, as `_student_case`
    numbers: dict[int, BranchNumber] = {}
    for branch in (
        BranchNumber.objects.filter(person_id__in=ids)
        .select_related("household_number")
        .order_by("person_id", "assigned_on", "id")
    ):
        numbers[branch.person_id] = branch  # the newest wins, as `insured_number_of`
    head_atena: dict[int, str | None] = {}
    for household_id, snapshot in (
        HouseholdHistory.objects.filter(
            household_id__in={p.household_id for p in persons}, change_date__lte=on
        )
        .order_by("household_id", "change_date", "id")
        .values_list("household_id", "snapshot")
    ):
        head_atena[household_id] = snapshot.get("head") or None
    heads = {
        h.atena_no: h
        for h in Person.objects.filter(atena_no__in={a for a in head_atena.values() if a})
    }
    found = {}
    for person in persons:
        state = person_state_from(basis=bases[person.pk], on=on)
        atena = head_atena.get(person.household_id)
        found[person.pk] = _documents(
            person,
            on,
            state,
            mynas.get(person.pk),
            students.get(person.pk),
            numbers.get(person.pk) if state.insured else None,
            heads.get(atena) if atena and state.insured else None,
        )
    return found


def _documents(
    person: Person,
    on: dt.date,
    state: PersonState,
    myna: MynaRegistration | None,
    student: KeptInsured | None,
    numbers: BranchNumber | None,
    head: Person | None,
) -> PersonDocuments:
    category = str(state.category.value) if state.category else None
    facts = DocumentFacts(
        birth_date=person.birth_date,
        insured=state.insured,
        period_end=state.period.end if state.period else None,
        myna=myna.status if myna else None,
        kakuninsho_requested=bool(myna and myna.kakuninsho_requested_on),
        is_student=student is not None,
        student_until=student.end if student else None,
        residence_until=person.residence_until if person.is_foreign else None,
        category=category,
    )
    printed: dict[str, Any] = {}
    if state.insured:
        printed = _printed(person, on, state, numbers, head)
    return PersonDocuments(person=person, on=on, state=state, facts=facts, printed=printed)


def _printed(
    person: Person,
    on: dt.date,
    state: PersonState,
    numbers: BranchNumber | None,
    head: Person | None,
) -> dict[str, Any]:
    """The items a document of the person prints on `on` (JSON-ready: dates as ISO text)."""
    items: dict[str, Any] = {
        "symbol": numbers.household_number.symbol if numbers else "",
        "number": numbers.household_number.number if numbers else "",
        "branch": numbers.branch if numbers else "",
        "name": person.name,
        "birth_date": person.birth_date.isoformat(),
        "sex": "男" if person.sex == Sex.MALE else "女",
        "acquired_on": state.period.start.isoformat() if state.period else None,
        "head_name": head.name if head else "",
        "address": person.address,
        "postal_code": person.postal_code,
        "copay_rate": None,
        "copay_from": None,
        "category": str(state.category.value) if state.category else None,
    }
    if state.copay is not None:
        items["copay_rate"] = f"{int(state.copay.value) // 10}割"
        if is_elderly_band(person.birth_date, on):
            items["copay_from"] = max(on, elderly_from(person.birth_date, on)).isoformat()
    # 代替字: a character outside the font is printed as its substitute; the original is
    # kept beside it (documents.md).
    originals = {}
    for key in ("name", "head_name", "address"):
        shown, changed = printable(items[key])
        if changed:
            originals[key] = items[key]
            items[key] = shown
    if originals:
        items["originals"] = originals
    return items


# --- Serials --------------------------------------------------------------------------------


def serials_take(doc_type: DocumentType, year: int, count: int) -> list[str]:
    """`count` new 交付番号 of a type and year, e.g. KA2026-0000001 (one row lock)."""
    if count <= 0:
        return []
    key = f"{SERIAL_PREFIX[DocumentType(doc_type)]}{year}"
    with transaction.atomic(savepoint=False):
        DocumentSerial.objects.get_or_create(key=key)
        row = DocumentSerial.objects.select_for_update().get(key=key)
        first = row.last + 1
        DocumentSerial.objects.filter(key=key).update(last=F("last") + count)
    return [f"{key}-{n:07d}" for n in range(first, first + count)]


# --- Issue, invalidate, return --------------------------------------------------------------


def _family(doc_type: str) -> tuple[str, ...]:
    """The types a new document replaces: the basic pair replace each other."""
    return tuple(BASIC_TYPES) if doc_type in BASIC_TYPES else (doc_type,)


def _invalid_reason_for(reason: IssueReason) -> InvalidReason:
    return {
        IssueReason.CHANGE: InvalidReason.CHANGE,
        IssueReason.REISSUE: InvalidReason.REISSUE,
        IssueReason.RENEWAL: InvalidReason.RENEWAL,
        IssueReason.NEW: InvalidReason.RENEWAL,
    }[reason]


def valid_documents(*, person: Person, types: Iterable[str] | None = None):
    rows = IssuedDocument.objects.filter(person=person, status=DocumentStatus.VALID)
    if types is not None:
        rows = rows.filter(doc_type__in=list(types))
    return rows.order_by("valid_from", "pk")


def document_invalidate(
    document: IssuedDocument,
    *,
    reason: InvalidReason,
    invalid_from: dt.date,
    actor: Any,
    request_return: bool | None = None,
    audited: bool = True,
) -> IssuedDocument:
    """無効: from `invalid_from`; asks for the document back when the law wants the card
    (資格確認書, 認定証) unless told otherwise. Audited (a batch that records one event for
    all it did passes `audited=False`)."""
    if document.status != DocumentStatus.VALID:
        raise DocumentError(f"交付番号 {document.serial} はすでに無効です")
    if request_return is None:
        request_return = document.doc_type in RETURN_REQUIRED_TYPES
    document.status = DocumentStatus.INVALID
    document.invalid_from = max(invalid_from, document.valid_from)
    document.invalid_reason = reason
    if request_return:
        document.return_requested_on = timezone.localdate()
    document.save(update_fields=["status", "invalid_from", "invalid_reason", "return_requested_on"])
    if not audited:
        return document
    audit_event_record(
        event_type=EventType.CERTIFICATE_INVALIDATED,
        actor=actor,
        subject_type=SubjectType.PERSON,
        subject_id=document.person.atena_no,
        purpose=Purpose.NHI_ELIGIBILITY,
        extra={
            "serial": document.serial,
            "doc_type": document.doc_type,
            "reason": reason.value,
            "invalid_from": document.invalid_from.isoformat(),
            "return_requested": bool(request_return),
        },
    )
    return document


def document_return_record(
    document: IssuedDocument, *, returned_on: dt.date, actor: Any
) -> IssuedDocument:
    """返還: the holder brought (or sent) the document back."""
    if document.status == DocumentStatus.RETURNED:
        raise DocumentError(f"交付番号 {document.serial} は返還済みです")
    if returned_on > timezone.localdate():
        raise DocumentError("返還日に未来の日付は指定できません")
    if returned_on < document.issued_on:
        raise DocumentError("返還日が交付日より前です")
    with transaction.atomic():
        if document.status == DocumentStatus.VALID:
            document_invalidate(
                document,
                reason=InvalidReason.NO_LONGER_ENTITLED,
                invalid_from=returned_on,
                actor=actor,
                request_return=False,
            )
        document.status = DocumentStatus.RETURNED
        document.returned_on = returned_on
        document.save(update_fields=["status", "returned_on"])
        audit_event_record(
            event_type=EventType.CERTIFICATE_RETURNED,
            actor=actor,
            subject_type=SubjectType.PERSON,
            subject_id=document.person.atena_no,
            purpose=Purpose.NHI_ELIGIBILITY,
            extra={"serial": document.serial, "returned_on": returned_on.isoformat()},
        )
    return document


@dataclass(frozen=True)
class IssueRequest:
    """One document to issue (the validity already decided by the rules)."""

    person: Person
    doc_type: DocumentType
    valid_from: dt.date
    valid_until: dt.date | None
    printed: dict[str, Any]
    application: CertificateApplication | None = None


def documents_issue(
    requests: Sequence[IssueRequest],
    *,
    reason: IssueReason,
    delivery: Delivery,
    actor: Any,
    renewal: Any = None,
    replace: bool = True,
    audit_each: bool = True,
    issued_on: dt.date | None = None,
) -> list[IssuedDocument]:
    """Record the documents (serials taken per type), replacing each person's valid document
    of the same family. One transaction. The 交付日 is today unless given."""
    on = issued_on or timezone.localdate()
    with transaction.atomic():
        by_type: dict[str, list[IssueRequest]] = {}
        for request in requests:
            by_type.setdefault(request.doc_type, []).append(request)
        serials = {
            doc_type: iter(serials_take(DocumentType(doc_type), on.year, len(items)))
            for doc_type, items in by_type.items()
        }
        # Each person's valid documents of the families concerned, in one query; a batch
        # that names one person's family twice goes one by one, so that the second sees
        # the first (a renewal never does: one basic document a person). The types are
        # named so that the read is bound by the (person, type, status) index: on status
        # alone PostgreSQL without fresh statistics read every valid document of the city
        # for each chunk, a renewal's cost growing with what it had already issued.
        keys = [(r.person.pk, _family(r.doc_type)) for r in requests]
        current: dict[tuple[int, tuple[str, ...]], list[IssuedDocument]] = {k: [] for k in keys}
        in_bulk = replace and len(set(keys)) == len(keys)
        if in_bulk and requests:
            for old in IssuedDocument.objects.filter(
                person_id__among=sorted({pk for pk, _f in keys}),
                doc_type__in=sorted({t for _pk, family in keys for t in family}),
                status=DocumentStatus.VALID,
            ).order_by("valid_from", "pk"):
                for family in {f for _pk, f in keys}:
                    if old.doc_type in family and (old.person_id, family) in current:
                        current[(old.person_id, family)].append(old)
        created: list[IssuedDocument] = []
        for request, key in zip(requests, keys, strict=True):
            replaced = None
            if replace:
                # A document that has already ended by the new one's first day (last year's
                # 資格確認書 at a renewal) simply expired: nothing to replace.
                olds = (
                    current[key]
                    if in_bulk
                    else list(valid_documents(person=request.person, types=key[1]))
                )
                for old in olds:
                    if old.valid_until is not None and old.valid_until < request.valid_from:
                        continue
                    document_invalidate(
                        old,
                        audited=audit_each,
                        reason=_invalid_reason_for(reason),
                        invalid_from=request.valid_from,
                        actor=actor,
                        # A renewal's old 資格確認書 simply expires; a replaced card comes back.
                        request_return=(
                            old.doc_type in RETURN_REQUIRED_TYPES and reason != IssueReason.RENEWAL
                        ),
                    )
                    replaced = old
            document = IssuedDocument(
                serial=next(serials[request.doc_type]),
                doc_type=request.doc_type,
                person=request.person,
                household_id=request.person.household_id,
                valid_from=request.valid_from,
                valid_until=request.valid_until,
                issued_on=on,
                reason=reason,
                delivery=delivery,
                printed=request.printed,
                replaces=replaced,
                application=request.application,
                renewal=renewal,
                issued_by=actor if getattr(actor, "pk", None) else None,
            )
            if not in_bulk:
                document.save(force_insert=True)
            created.append(document)
        if in_bulk:
            IssuedDocument.objects.bulk_create(created)
        if audit_each:
            for request, document in zip(requests, created, strict=True):
                audit_event_record(
                    event_type=EventType.CERTIFICATE_ISSUED,
                    actor=actor,
                    subject_type=SubjectType.PERSON,
                    subject_id=request.person.atena_no,
                    purpose=Purpose.NHI_ELIGIBILITY,
                    extra={
                        "serial": document.serial,
                        "doc_type": document.doc_type,
                        "reason": reason.value,
                        "delivery": delivery.value,
                    },
                )
    return created


def basic_request(found: PersonDocuments, *, show_category: bool | None = None) -> IssueRequest:
    """The 資格確認書 or 資格情報のお知らせ the rules give the person on `found.on`.

    `show_category`: print the 限度額適用区分 on a 資格確認書 (on the person's request,
    documents.md); None carries the choice of their previous 資格確認書 over."""
    if not found.facts.insured:
        raise DocumentError(f"{found.on:%Y-%m-%d} に国民健康保険の資格がありません")
    doc_type = basic_document_type(found.facts, issue_to_all=issue_to_all())
    until = basic_validity(doc_type, found.facts, on=found.on, renewal=renewal_month_day())
    if until is not None and until < found.on:
        # Periods show what has happened by now: a 75th birthday or the end of a residence
        # period before a future day has not closed the period yet, but no document is due.
        raise DocumentError("有効期間が始まる前に終わります（75歳到達・在留期間の満了など）")
    printed = dict(found.printed)
    if show_category is None:
        previous = (
            IssuedDocument.objects.filter(person=found.person, doc_type=DocumentType.KAKUNINSHO)
            .order_by("-valid_from", "-pk")
            .values_list("printed", flat=True)
            .first()
        )
        show_category = bool(previous and previous.get("show_category"))
    if show_category and doc_type == DocumentType.KAKUNINSHO and printed.get("category"):
        printed["show_category"] = True
    return IssueRequest(found.person, doc_type, found.on, until, printed)


def category_shown_many(*, person_ids: Sequence[int]) -> dict[int, bool]:
    """For each person, whether their latest 資格確認書 printed the 限度額適用区分 — what
    `basic_request` carries over when not told — in one query for many persons."""
    shown: dict[int, bool] = {}
    for person_id, printed in (
        IssuedDocument.objects.filter(
            person_id__among=sorted(person_ids), doc_type=DocumentType.KAKUNINSHO
        )
        .order_by("person_id", "valid_from", "pk")
        .values_list("person_id", "printed")
    ):
        shown[person_id] = bool(printed and printed.get("show_category"))  # the latest wins
    return shown


def basic_document_issue(
    *,
    person: Person,
    on: dt.date,
    reason: IssueReason,
    delivery: Delivery,
    actor: Any,
    show_category: bool | None = None,
) -> IssuedDocument:
    """Counter issuance of the person's 資格確認書 / 資格情報のお知らせ (新規・再交付・変更)."""
    found = person_documents(person=person, on=on)
    request = basic_request(found, show_category=show_category)
    current = list(valid_documents(person=person, types=BASIC_TYPES))
    if reason == IssueReason.NEW and current:
        raise DocumentError(
            f"有効な{DocumentType(current[0].doc_type).label}（{current[0].serial}）があります。"
            "再交付か記載事項変更を選んでください"
        )
    if reason in (IssueReason.REISSUE, IssueReason.CHANGE) and not current:
        raise DocumentError("有効な資格確認書等がありません。新規交付を選んでください")
    return documents_issue([request], reason=reason, delivery=delivery, actor=actor)[0]


# --- マイナ保険証 status ------------------------------------------------------------------


def myna_status_record(
    *,
    person: Person,
    status: MynaStatus,
    as_of: dt.date,
    actor: Any,
    kakuninsho_requested_on: dt.date | bool | None = False,
) -> MynaRegistration:
    """Record the person's マイナ保険証 state (and, when given, a 要配慮者 request:
    a date records it, None withdraws it, False leaves it as it is)."""
    row = MynaRegistration.objects.filter(person=person).first()
    if row is not None and row.status_as_of > as_of:
        # As the national file's import: an older report never overwrites a newer one.
        raise DocumentError(f"より新しい登録状況（{row.status_as_of:%Y-%m-%d}）が記録されています")
    if row is None:
        row = MynaRegistration(person=person, status=status, status_as_of=as_of)
    row.status, row.status_as_of = status, as_of
    if kakuninsho_requested_on is not False:
        row.kakuninsho_requested_on = kakuninsho_requested_on or None
    row.save()
    audit_event_record(
        event_type=EventType.MYNA_STATUS_CHANGED,
        actor=actor,
        subject_type=SubjectType.PERSON,
        subject_id=person.atena_no,
        purpose=Purpose.NHI_ELIGIBILITY,
        extra={
            "status": status.value,
            "as_of": as_of.isoformat(),
            "kakuninsho_requested": bool(row.kakuninsho_requested_on),
        },
    )
    return row


# --- 認定証 applications ---------------------------------------------------------------------


def _specific_disease_limit(disease: str, category: str | None, on: dt.date, birth: dt.date) -> int:
    """特定疾病の自己負担限度額: 10,000; 20,000 for under-70 上位所得 (ア・イ) on dialysis
    (dated parameter `kogaku.specific_disease`)."""
    rule = parameters().at(on).kogaku.specific_disease
    upper_labels = set(rule["dialysis_upper_bands"].values())
    under70 = elderly_from(birth, on) > on
    if disease == "dialysis" and under70 and category in upper_labels:
        return int(rule["dialysis_upper"])
    return int(rule["standard"])


def certificate_apply(
    *,
    person: Person,
    doc_type: DocumentType,
    applied_on: dt.date,
    actor: Any,
    delivery: Delivery = Delivery.COUNTER,
    disease: str = "",
    opinion_received: bool = False,
    long_stay_days: int | None = None,
) -> tuple[CertificateApplication, IssuedDocument | None]:
    """Receive a 認定証 application, check it, and issue the certificate when granted (the
    application is kept either way, a refusal with its reason)."""
    if doc_type not in CERTIFICATE_TYPES:
        raise DocumentError("認定証の種類を選んでください")
    if applied_on > timezone.localdate():
        raise DocumentError("申請日に未来の日付は指定できません")
    if long_stay_days is not None and not 0 <= long_stay_days <= 366:
        raise DocumentError("入院日数は0〜366日で入力してください")
    found = person_documents(person=person, on=applied_on)
    check = certificate_check(
        doc_type,
        found.facts,
        applied_on=applied_on,
        renewal=renewal_month_day(),
        disease=disease,
        opinion_received=opinion_received,
        long_stay_days=long_stay_days,
    )
    long_stay = doc_type == DocumentType.GENGAKU and long_stay_applies(
        found.facts.category, long_stay_days
    )
    with transaction.atomic():
        application = CertificateApplication.objects.create(
            person=person,
            doc_type=doc_type,
            applied_on=applied_on,
            long_stay_days=long_stay_days,
            long_stay_from=applied_on if long_stay else None,
            disease=disease,
            opinion_received=opinion_received,
            status=ApplicationStatus.APPROVED if check.granted else ApplicationStatus.REFUSED,
            refusal_reason="" if check.granted else check.reason,
            recorded_by=actor if getattr(actor, "pk", None) else None,
        )
        audit_event_record(
            event_type=EventType.CERTIFICATE_APPLICATION,
            actor=actor,
            subject_type=SubjectType.PERSON,
            subject_id=person.atena_no,
            purpose=Purpose.NHI_ELIGIBILITY,
            extra={
                "doc_type": doc_type.value,
                "granted": check.granted,
                "reason": check.reason,
            },
        )
        if not check.granted:
            return application, None
        printed = dict(found.printed)
        if doc_type == DocumentType.GENGAKU and long_stay:
            printed["long_stay_from"] = applied_on.isoformat()
        if doc_type == DocumentType.TOKUTEI:
            printed["disease"] = check.reason
            printed["limit_amount"] = _specific_disease_limit(
                disease, found.facts.category, applied_on, person.birth_date
            )
        assert check.valid_from is not None  # granted checks carry their validity
        request = IssueRequest(
            person, doc_type, check.valid_from, check.valid_until, printed, application
        )
        current = list(valid_documents(person=person, types=[doc_type]))
        reason = IssueReason.CHANGE if current else IssueReason.NEW
        document = documents_issue([request], reason=reason, delivery=delivery, actor=actor)[0]
    return application, document


def certificate_reissue(*, document: IssuedDocument, on: dt.date, actor: Any) -> IssuedDocument:
    """再交付 of a 認定証 (lost or damaged): same validity, items as they are now."""
    if document.doc_type not in CERTIFICATE_TYPES:
        raise DocumentError("資格確認書等は「資格確認書等の交付」から再交付します")
    if document.status != DocumentStatus.VALID:
        raise DocumentError(f"交付番号 {document.serial} は有効ではありません")
    found = person_documents(person=document.person, on=on)
    if not found.facts.insured:
        raise DocumentError("国民健康保険の資格がありません")
    printed = dict(found.printed)
    for key in ("long_stay_from", "disease", "limit_amount"):
        if key in document.printed:
            printed[key] = document.printed[key]
    request = IssueRequest(
        document.person,
        DocumentType(document.doc_type),
        document.valid_from,
        document.valid_until,
        printed,
        document.application,
    )
    return documents_issue(
        [request], reason=IssueReason.REISSUE, delivery=Delivery.COUNTER, actor=actor
    )[0]


# --- Reconciliation -------------------------------------------------------------------------


@dataclass
class ReconcileCounts:
    invalidated: int = 0
    return_requested: int = 0
    reissued: int = 0
    unchanged: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def _changed(document: IssuedDocument, printed: dict[str, Any]) -> list[str]:
    keys = CHANGE_KEYS["certificate" if document.doc_type in CERTIFICATE_TYPES else "basic"]
    if document.printed.get("show_category"):
        keys = (*keys, "category")  # the 区分 printed on request
    return [k for k in keys if document.printed.get(k) != printed.get(k)]


RECONCILE_CHUNK = 1000


def documents_reconcile(*, persons: Iterable[Person], on: dt.date, actor: Any) -> ReconcileCounts:
    """Bring the persons' valid documents in line with their eligibility on `on`.

    Not insured on `on` (or insured only until a known day before a document's end): every
    valid document becomes invalid from the 喪失日, the 資格確認書 and 認定証 with a 返還
    request. A changed printed item: the document is reissued (記載事項変更, by post) with
    its validity and the old one invalidated. Holders are decided in chunks
    (`person_documents_many`, a fixed number of queries a chunk: one holder at a time cost
    ~44 ms each, 17 minutes for the first daily run of a city of 50,000 households); only
    a document that changes costs queries of its own."""
    counts = ReconcileCounts()
    ids = [p.pk for p in persons]
    holders = set(
        IssuedDocument.objects.filter(person_id__in=ids, status=DocumentStatus.VALID)
        .values_list("person_id", flat=True)
        .distinct()
    )
    ordered = sorted(holders)
    for start in range(0, len(ordered), RECONCILE_CHUNK):
        chunk = list(Person.objects.filter(pk__in=ordered[start : start + RECONCILE_CHUNK]))
        chunk.sort(key=lambda p: p.pk)
        found_all = person_documents_many(persons=chunk, on=on)
        valid: dict[int, list[IssuedDocument]] = {p.pk: [] for p in chunk}
        for document in IssuedDocument.objects.filter(
            person_id__in=[p.pk for p in chunk], status=DocumentStatus.VALID
        ).order_by("person_id", "valid_from", "pk"):
            valid[document.person_id].append(document)
        for person in chunk:
            _reconcile_one(person, valid[person.pk], found_all[person.pk], on, actor, counts)
    return counts


def _reconcile_one(
    person: Person,
    documents: list[IssuedDocument],
    found: PersonDocuments,
    on: dt.date,
    actor: Any,
    counts: ReconcileCounts,
) -> None:
    """`documents_reconcile` for one holder, from what was loaded for its chunk."""
    lost_from = None
    if not found.facts.insured:
        lost_from = on
    elif found.facts.period_end is not None:
        lost_from = found.facts.period_end + ONE_DAY
    for document in documents:
        ends_after_loss = lost_from is not None and (
            document.valid_until is None or document.valid_until >= lost_from
        )
        if ends_after_loss:
            assert lost_from is not None
            document_invalidate(
                document,
                reason=InvalidReason.LOST_ELIGIBILITY,
                invalid_from=lost_from,
                actor=actor,
            )
            counts.invalidated += 1
            counts.return_requested += document.doc_type in RETURN_REQUIRED_TYPES
            continue
        if not found.facts.insured or (document.valid_until and document.valid_until < on):
            counts.unchanged += 1
            continue
        if not _changed(document, found.printed):
            counts.unchanged += 1
            continue
        allowed = ENTITLED_CATEGORIES.get(document.doc_type)
        if allowed is not None and found.printed.get("category") not in allowed:
            document_invalidate(
                document,
                reason=InvalidReason.NO_LONGER_ENTITLED,
                invalid_from=on,
                actor=actor,
            )
            counts.invalidated += 1
            counts.return_requested += 1
            continue
        printed = dict(found.printed)
        for key in ("long_stay_from", "disease", "limit_amount", "show_category"):
            if key in document.printed:
                printed[key] = document.printed[key]
        valid_from = max(on, document.valid_from)
        valid_until = document.valid_until
        if document.doc_type in BASIC_TYPES:
            # The rules again: a changed 割合 may bring or move an end (70–74).
            valid_until = basic_validity(
                DocumentType(document.doc_type),
                (
                    found if valid_from == on else person_documents(person=person, on=valid_from)
                ).facts,
                on=valid_from,
                renewal=renewal_month_day(),
            )
        if valid_until is not None and valid_until < valid_from:
            counts.unchanged += 1  # ends before it would start: the daily job's successor
            continue
        request = IssueRequest(
            person,
            DocumentType(document.doc_type),
            valid_from,
            valid_until,
            printed,
            document.application,
        )
        documents_issue([request], reason=IssueReason.CHANGE, delivery=Delivery.MAIL, actor=actor)
        counts.reissued += 1
