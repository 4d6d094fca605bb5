"""開示・訂正・利用停止請求: the register, deadlines, and the 開示資料 with the access record."""

import datetime as dt
import hashlib
import io
import json

import pytest
from django.apps import apps
from django.db import models
from django.utils import timezone
from pypdf import PdfReader

from kokuho.accounts.permissions import Role
from kokuho.audit.models import AuditEvent, EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.core.purposes import Purpose
from kokuho.identity.checks import IdentityCheck, NumberCheck
from kokuho.identity.services import my_number_register
from kokuho.identity.tests.conftest import synthetic_my_number
from kokuho.interfaces.models import ExportKind, ExportRecord
from kokuho.people.models import Household, Income, Person
from kokuho.people.services import household_view, person_view
from kokuho.subject_requests.holdings import HOLDINGS, NOT_DISCLOSED
from kokuho.subject_requests.models import (
    Outcome,
    RequesterKind,
    RequestKind,
    RequestStatus,
)
from kokuho.subject_requests.selectors import subject_request_due, subject_requests_list
from kokuho.subject_requests.services import (
    RequestError,
    RequestErrorCode,
    disclosure_produce,
    subject_request_decide,
    subject_request_receive,
)
from kokuho.testing import make_claim, make_household, make_insured, make_person, make_staff

pytestmark = pytest.mark.django_db(databases=["default", "vault"])


def _receive(actor, person, kind=RequestKind.DISCLOSURE, received_on=None):
    return subject_request_receive(
        kind=kind,
        atena_no=person.atena_no,
        received_on=received_on or timezone.localdate(),
        requester=RequesterKind.SELF,
        identity_documents="マイナンバーカード",
        details="国民健康保険に関して保有する自己の情報の全部",
        actor=actor,
    )


def test_receiving_records_the_request_and_an_event_without_its_content():
    clerk = make_staff(role=Role.ELIGIBILITY)
    person = make_person()
    request = _receive(clerk, person)
    assert request.status == RequestStatus.RECEIVED
    event = AuditEvent.objects.get(event_type=EventType.SUBJECT_REQUEST_RECEIVED)
    assert (event.subject_type, event.subject_id) == (SubjectType.SUBJECT_REQUEST, str(request.pk))
    assert event.extra["atena_no"] == person.atena_no
    assert "国民健康保険に関して" not in json.dumps(event.extra, ensure_ascii=False)


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"atena_no": "999999999999999"}, RequestErrorCode.UNKNOWN_PERSON, "atena_no"),
        ({"received_on": dt.date(2999, 1, 1)}, RequestErrorCode.IN_FUTURE, "received_on"),
        ({"identity_documents": " "}, RequestErrorCode.REQUIRED, "identity_documents"),
        ({"details": ""}, RequestErrorCode.REQUIRED, "details"),
    ],
)
def test_a_request_missing_what_the_register_needs_is_refused(change, code, field):
    clerk = make_staff(role=Role.ELIGIBILITY)
    person = make_person()
    values = {
        "kind": RequestKind.CORRECTION,
        "atena_no": person.atena_no,
        "received_on": timezone.localdate(),
        "requester": RequesterKind.LEGAL_REPRESENTATIVE,
        "identity_documents": "運転免許証・戸籍謄本",
        "details": "住所の誤り",
        "actor": clerk,
    } | change
    with pytest.raises(RequestError) as refused:
        subject_request_receive(**values)
    assert (refused.value.code, refused.value.field) == (code, field)


def test_a_role_without_the_right_is_refused_and_the_refusal_logged():
    counter = make_staff(role=Role.COUNTER)
    with pytest.raises(RequestError) as refused:
        _receive(counter, make_person())
    assert refused.value.code == RequestErrorCode.NOT_PERMITTED
    assert AuditEvent.objects.filter(event_type=EventType.ACCESS_DENIED).count() == 1


def test_the_decision_deadline_is_thirty_days_after_the_request():
    clerk = make_staff(role=Role.ELIGIBILITY)
    request = _receive(clerk, make_person(), received_on=dt.date(2026, 1, 30))
    assert subject_request_due(request=request) == dt.date(2026, 3, 1)
    rows = subject_requests_list(on=dt.date(2026, 3, 2))
    assert [r.overdue for r in rows] == [True]
    subject_request_decide(
        request=request,
        outcome=Outcome.DISCLOSED,
        decided_on=dt.date(2026, 2, 20),
        reason="",
        actor=clerk,
    )
    assert [r.overdue for r in subject_requests_list(on=dt.date(2026, 3, 2))] == [False]


def test_decisions_must_fit_the_kind_carry_reasons_and_happen_once():
    clerk = make_staff(role=Role.ELIGIBILITY)
    request = _receive(clerk, make_person(), kind=RequestKind.CORRECTION)
    today = timezone.localdate()
    with pytest.raises(RequestError) as wrong:
        subject_request_decide(
            request=request, outcome=Outcome.DISCLOSED, decided_on=today, reason="", actor=clerk
        )
    assert wrong.value.code == RequestErrorCode.WRONG_OUTCOME
    with pytest.raises(RequestError) as bare:
        subject_request_decide(
            request=request,
            outcome=Outcome.NOT_CORRECTED,
            decided_on=today,
            reason=" ",
            actor=clerk,
        )
    assert bare.value.code == RequestErrorCode.REASON_REQUIRED
    subject_request_decide(
        request=request,
        outcome=Outcome.NOT_CORRECTED,
        decided_on=today,
        reason="住民基本台帳の記載どおりであるため",
        actor=clerk,
    )
    with pytest.raises(RequestError) as again:
        subject_request_decide(
            request=request, outcome=Outcome.CORRECTED, decided_on=today, reason="", actor=clerk
        )
    assert again.value.code == RequestErrorCode.NOT_OPEN
    decided = AuditEvent.objects.get(event_type=EventType.SUBJECT_REQUEST_DECIDED)
    assert decided.extra["outcome"] == Outcome.NOT_CORRECTED


def _resident_with_a_trail():
    """A person with income, a registered number, and two staff who looked at them."""
    household = make_household()
    person = make_person(name="開示 花子", kana="カイジ ハナコ", household=household)
    make_person(name="同居 一郎", kana="ドウキョ イチロウ", household=household, relation="子")
    Income.objects.create(
        person=person,
        income_year=2024,
        total_income=1_234_567,
        taxable=1_000_000,
        tax_exempt=False,
        revenue=2_000_000,
        applies_from=dt.date(2025, 8, 1),
    )
    registrar = make_staff(role=Role.ELIGIBILITY)
    number = synthetic_my_number()
    my_number_register(
        actor=registrar,
        atena_no=person.atena_no,
        my_number=number,
        purpose=Purpose.NHI_ELIGIBILITY,
        number_check=NumberCheck.MY_NUMBER_CARD,
        identity_checks=[IdentityCheck.MY_NUMBER_CARD],
    )
    viewer = make_staff(role=Role.BENEFITS)
    viewer.staff_profile.full_name = "閲覧 次郎"
    viewer.staff_profile.save()
    person_view(atena_no=person.atena_no, actor=viewer, purpose=Purpose.NHI_BENEFITS, screen="test")
    household_view(
        household_no=household.household_no,
        actor=viewer,
        purpose=Purpose.NHI_ELIGIBILITY,
        screen="household_detail",
    )
    return person, number, viewer


def test_the_disclosure_holds_the_records_the_access_record_and_only_a_masked_number():
    person, number, _ = _resident_with_a_trail()
    clerk = make_staff(role=Role.ELIGIBILITY)
    request = _receive(clerk, person)
    export = disclosure_produce(request=request, fmt="json", actor=clerk)
    document = json.loads(export.content)
    held = document["保有個人情報"]
    assert held["住民記録"][0]["氏名"] == "開示 花子"
    assert held["所得"][0]["総所得金額等"] == 1_234_567
    assert held["開示・訂正・利用停止請求"][0]["請求の種類"] == "開示請求"
    assert document["個人番号"]["保有"] is True
    assert document["個人番号"]["表示"].endswith(number[-4:])
    assert number not in export.content.decode()
    access = document["アクセス記録"]
    views = [a for a in access if a["職員"] == "閲覧 次郎"]
    assert [(a["操作"], a["事務"]) for a in views] == [
        ("住民情報の閲覧", Purpose.NHI_BENEFITS.label),
        ("世帯情報の閲覧", Purpose.NHI_ELIGIBILITY.label),
    ]
    assert views[0]["職"] == Role.BENEFITS
    # The other member's data is not disclosed to this person.
    assert "同居 一郎" not in export.content.decode()

    record = ExportRecord.objects.get()
    assert record.kind == ExportKind.DISCLOSURE
    assert record.file_sha256 == hashlib.sha256(export.content).hexdigest()
    assert record.produced_by == clerk
    produced = AuditEvent.objects.get(event_type=EventType.DISCLOSURE_PRODUCED)
    assert (produced.subject_type, produced.subject_id) == (SubjectType.PERSON, person.atena_no)
    assert produced.extra["export"] == record.pk


def test_the_disclosure_holds_the_persons_own_claims():
    person = make_insured()
    spouse = make_insured(household_no=person.household.household_no, relation="妻")
    make_claim(
        person=person,
        service_month=dt.date(2026, 9, 1),
        provider="3810000007",
        setting=1,
        points=45_678,
        copay=80_100,
        limit_applied=True,
    )
    make_claim(person=spouse, service_month=dt.date(2026, 9, 1), provider="3830000002")
    make_claim(service_month=dt.date(2026, 9, 1), provider="3810000003")  # 番号不明
    clerk = make_staff(role=Role.ELIGIBILITY)
    export = disclosure_produce(request=_receive(clerk, person), fmt="json", actor=clerk)
    claims = json.loads(export.content)["保有個人情報"]["レセプト（診療報酬明細書）"]
    assert len(claims) == 1
    own = claims[0]
    assert own["診療年月"] == "2026-09-01"
    assert own["医療機関コード"] == "3810000007"
    assert (own["入院・入院外"], own["種別"]) == ("入院", "医科")
    assert (own["総点数"], own["一部負担金額"]) == (45_678, 80_100)
    assert (own["特定疾病"], own["限度額適用済み"]) == (False, True)
    assert own["照合結果"] == "照合済み"
    assert "取込ファイル" not in own


def test_a_household_screen_that_did_not_show_the_person_is_not_in_their_record():
    person, _, viewer = _resident_with_a_trail()
    # The same household seen when the person was no longer listed (e.g. after moving out),
    # and another household altogether.
    audit_event_record(
        event_type=EventType.HOUSEHOLD_VIEWED,
        actor=viewer,
        subject_type=SubjectType.HOUSEHOLD,
        subject_id=person.household.household_no,
        purpose=Purpose.NHI_ELIGIBILITY,
        extra={"screen": "household_detail", "members_shown": ["000000000000001"]},
    )
    other = make_person(name="別世帯 三郎", kana="ベツセタイ サブロウ")
    household_view(
        household_no=other.household.household_no,
        actor=viewer,
        purpose=Purpose.NHI_ELIGIBILITY,
        screen="household_detail",
    )
    clerk = make_staff(role=Role.ELIGIBILITY)
    export = disclosure_produce(request=_receive(clerk, person), fmt="json", actor=clerk)
    access = json.loads(export.content)["アクセス記録"]
    household_views = [a for a in access if a["操作"] == "世帯情報の閲覧"]
    assert len(household_views) == 1


def test_the_pdf_carries_the_records_and_the_access_record():
    person, _, _ = _resident_with_a_trail()
    clerk = make_staff(role=Role.ELIGIBILITY)
    export = disclosure_produce(request=_receive(clerk, person), fmt="pdf", actor=clerk)
    assert export.content_type == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(export.content)).pages)
    for expected in ("保有個人情報開示資料", "開示 花子", "アクセス記録", "閲覧 次郎", "所得"):
        assert expected in text


def test_no_disclosure_is_produced_for_a_refused_request_or_another_kind():
    clerk = make_staff(role=Role.ELIGIBILITY)
    person = make_person()
    refused = _receive(clerk, person)
    subject_request_decide(
        request=refused,
        outcome=Outcome.NOT_DISCLOSED,
        decided_on=timezone.localdate(),
        reason="第78条第1項第2号に該当",
        actor=clerk,
    )
    with pytest.raises(RequestError) as closed:
        disclosure_produce(request=refused, fmt="pdf", actor=clerk)
    assert closed.value.code == RequestErrorCode.REFUSED_DISCLOSURE
    correction = _receive(clerk, person, kind=RequestKind.CORRECTION)
    with pytest.raises(RequestError) as other:
        disclosure_produce(request=correction, fmt="json", actor=clerk)
    assert other.value.code == RequestErrorCode.NOT_DISCLOSURE
    assert not ExportRecord.objects.exists()


def _refers_to_people(model: type[models.Model]) -> bool:
    targets = {Person, Household}
    for field in model._meta.concrete_fields:
        if field.name in ("atena_no", "household_no"):
            return True
        if field.is_relation and field.related_model in targets:
            return True
    return False


def test_every_table_about_a_person_is_disclosed_or_exempted_with_a_reason():
    business_apps = (
        "people",
        "eligibility",
        "interfaces",
        "benefits",
        "payments",
        "subject_requests",
        "national",
        "intermediary",
        "cases",
    )
    referring = {
        model
        for label in business_apps
        for model in apps.get_app_config(label).get_models()
        if _refers_to_people(model)
    }
    # One step further: rows that hang off a disclosed row (資格期間 → 版).
    referring |= {
        model
        for label in business_apps
        for model in apps.get_app_config(label).get_models()
        if any(
            f.is_relation and f.related_model in referring and f.many_to_one
            for f in model._meta.concrete_fields
        )
    }
    covered = {holding.model for holding in HOLDINGS} | set(NOT_DISCLOSED)
    assert referring - covered == set()
    assert all(reason for reason in NOT_DISCLOSED.values())


def test_a_city_that_withholds_staff_names_discloses_the_role_only(settings):
    settings.KOKUHO_DISCLOSURE_STAFF_NAMES = False
    person, _, _ = _resident_with_a_trail()
    clerk = make_staff(role=Role.ELIGIBILITY)
    export = disclosure_produce(request=_receive(clerk, person), fmt="json", actor=clerk)
    assert "閲覧 次郎" not in export.content.decode()
    roles = {a["職"] for a in json.loads(export.content)["アクセス記録"]}
    assert Role.BENEFITS in roles
