"""給付の申請・審査・決定 screens (葬祭費・出産育児一時金・療養費): the two-step entry with the
account as it will be kept, field errors that save nothing, 受領 then 決定, and who may not.

The subject is insured from 2020 (30%): 療養費 of 10,000 paid in full is 7,000; 葬祭費 30,000."""

import datetime as dt
import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from kokuho.accounts.permissions import Role
from kokuho.audit.models import AuditEvent, EventType
from kokuho.benefits.lifecycle.models import ApplicationStatus, BenefitApplication, BenefitDecision
from kokuho.benefits.lifecycle.services import (
    benefit_application_register,
)
from kokuho.payments.models import Benefit, PayeeAccount, Payment, PaymentStatus
from kokuho.payments.services import AccountInput
from kokuho.testing import login_verified, make_insured, make_staff

pytestmark = pytest.mark.django_db

ACCOUNT = {
    "bank_code": "0001",
    "branch_code": "001",
    "account_type": "1",
    "account_number": "1234567",
    "holder_kana": "キュウフ タロウ",
}


@pytest.fixture
def insured():
    return make_insured(birth_date=dt.date(1970, 4, 2), moved_in=dt.date(2020, 4, 1))


@pytest.fixture
def clerk(client):
    staff = make_staff(role=Role.BENEFITS)
    login_verified(client, staff)
    return staff


def _expenses(person, **overrides):
    return {
        "subject_atena_no": person.atena_no,
        "received_on": "R8.7.20",
        "event_date": "2026-07-03",
        "service_date": "令和8年7月3日",
        "fee_schedule_cost": "10,000",
        "paid_amount": "１００００",
        "attachments": ["receipt", "detail", "reason"],
        **ACCOUNT,
    } | overrides


def _funeral_application(person, actor, attachments=None):
    return benefit_application_register(
        benefit=Benefit.SOSAI,
        subject=person,
        applicant=None,
        applicant_name="給付 花子",
        received_on=dt.date(2026, 6, 20),
        event_date=dt.date(2026, 6, 12),
        facts={"death_date": "2026-06-10", "chief_mourner": "給付 花子"},
        attachments=attachments or {},
        account=AccountInput("0001", "001", 1, "1234567", "キュウフ ハナコ"),
        actor=actor,
    )


def _new(client, benefit, data):
    return client.post(reverse("benefit_application_new", args=[benefit]), data)


def test_the_form_asks_for_the_benefits_facts_and_attachments(client, clerk):
    body = client.get(reverse("benefit_application_new", args=["shussan"])).content.decode()
    assert "出産育児一時金 申請の受付" in body
    assert "出産日" in body and "妊娠日数" in body and "直接支払制度を利用した" in body
    assert "直接支払制度の合意文書" in body and "（必須）" in body
    assert 'name="gestation_days"' in body and 'name="compensation_covered"' in body
    assert "ゆうちょ 記号" in body
    funeral = client.get(reverse("benefit_application_new", args=["sosai"])).content.decode()
    assert "葬祭を行った日" in funeral and 'name="chief_mourner"' in funeral
    expenses = client.get(reverse("benefit_application_new", args=["ryoyohi"])).content.decode()
    assert "支払った日" in expenses and 'name="fee_schedule_cost"' in expenses
    assert client.get(reverse("benefit_application_new", args=["kogaku"])).status_code == 404


def test_confirm_shows_the_zengin_name_then_register_saves(client, clerk, insured):
    data = _expenses(insured)
    confirm = _new(client, "ryoyohi", data)
    body = confirm.content.decode()
    assert confirm.status_code == 200
    assert "ﾐｽﾞﾎ" in body and "東京営業部" in body  # bank and branch as kept
    assert "ｷﾕｳﾌ ﾀﾛｳ" in body  # the name in 全銀 characters
    assert "給付 太郎" in body and f"宛名番号 {insured.atena_no}" in body  # applicant: the head
    assert "10,000円" in body and "令和8年7月3日" in body
    assert 'value="register"' in body
    assert not BenefitApplication.objects.exists() and not PayeeAccount.objects.exists()
    viewed = AuditEvent.objects.filter(event_type=EventType.PERSON_VIEWED).last()
    assert viewed.subject_id == insured.atena_no

    saved = _new(client, "ryoyohi", data | {"action": "register"})
    application = BenefitApplication.objects.get()
    assert saved.status_code == 302
    assert saved.url == reverse("benefit_application_detail", args=[application.pk])
    assert (application.benefit, application.subject, application.applicant) == (
        "ryoyohi",
        insured,
        insured,
    )
    assert application.event_date == dt.date(2026, 7, 3)
    assert application.facts == {
        "service_date": "2026-07-03",
        "fee_schedule_cost": 10000,
        "paid_amount": 10000,
    }
    assert application.attachments == {"receipt": True, "detail": True, "reason": True}
    assert application.account.holder_zengin == "ｷﾕｳﾌ ﾀﾛｳ"


def test_a_name_that_cannot_be_written_is_shown_in_red_and_held(client, clerk, insured):
    body = _new(client, "ryoyohi", _expenses(insured, holder_kana="サヽキ ハナコ")).content.decode()
    assert 'id="holder-problem"' in body and "&#x27;ヽ&#x27;" in body and "保留" in body
    assert not BenefitApplication.objects.exists()


def test_yucho_symbol_and_number_are_converted(client, clerk, insured):
    data = _expenses(insured, bank_code="", branch_code="", account_number="")
    body = _new(
        client, "ryoyohi", data | {"yucho_symbol": "10180", "yucho_number": "12345671"}
    ).content.decode()
    assert "9900 ゆうちょ" in body and "018" in body and "1234567" in body


BOTH = ("confirm", "register")


@pytest.mark.parametrize(
    "overrides, field, message, actions",
    [
        ({"subject_atena_no": "7999999999"}, "subject_atena_no", "住民が見つかりません", BOTH),
        ({"bank_code": "0002"}, "bank_code", "0002", BOTH),
        ({"fee_schedule_cost": "たくさん"}, "fee_schedule_cost", "数字で入力", BOTH),
        ({"applicant_atena_no": "7999999998"}, "applicant_atena_no", "見つかりません", BOTH),
        # The service's own checks answer on 登録, beside the field all the same.
        ({"received_on": "R8.6.1"}, "received_on", "受付日が支給事由の日より前", ("register",)),
    ],
)
def test_bad_input_is_shown_beside_its_field_and_nothing_is_saved(
    client, clerk, insured, overrides, field, message, actions
):
    for action in actions:
        response = _new(client, "ryoyohi", _expenses(insured, **overrides) | {"action": action})
        body = response.content.decode()
        assert response.status_code == 200
        assert f'id="{field}-error"' in body, body
        assert message in body
    assert not BenefitApplication.objects.exists()
    assert not PayeeAccount.objects.exists()


def test_a_funeral_of_the_head_needs_the_chief_mourner_as_applicant(client, clerk, insured):
    data = {
        "subject_atena_no": insured.atena_no,
        "received_on": "R8.6.20",
        "event_date": "R8.6.12",
        "death_date": "R8.6.10",
        "chief_mourner": "給付 花子",
        **ACCOUNT,
    }
    body = _new(client, "sosai", data).content.decode()
    assert 'id="applicant_atena_no-error"' in body and "喪主" in body
    confirm = _new(client, "sosai", data | {"applicant_name": "給付 花子"}).content.decode()
    assert "給付 花子（住民記録になし）" in confirm
    _new(client, "sosai", data | {"applicant_name": "給付 花子", "action": "register"})
    application = BenefitApplication.objects.get()
    assert (application.applicant, application.applicant_name) == (None, "給付 花子")
    assert application.account.proxy_name == "給付 花子"


def _v(application) -> dict[str, str]:
    """The version the detail page carries now (the forms' hidden field)."""
    return {"version": str(BenefitApplication.objects.get(pk=application.pk).version)}


def test_receive_the_attachments_then_decide_shows_the_amount(client, clerk, insured):
    application = _funeral_application(insured, clerk)
    url = reverse("benefit_application_detail", args=[application.pk])
    page = client.get(url).content.decode()
    assert "葬祭費" in page and "給付 花子（住民記録になし）" in page
    assert 'disabled id="decide"' in page
    assert "必須の添付書類が揃っていないため決定できません" in page
    refused = client.post(
        reverse("benefit_decision_new", args=[application.pk]),
        {"decided_on": "R8.7.1"} | _v(application),
    )
    assert "添付書類が揃っていません" in refused.content.decode()
    assert not BenefitDecision.objects.exists()

    for code in ("funeral_proof", "applicant_id"):
        response = client.post(
            reverse("benefit_attachment_receive", args=[application.pk]),
            {"code": code} | _v(application),
        )
        assert response.status_code == 302
    page = client.get(url).content.decode()
    assert "必須の添付書類が揃っていない" not in page
    assert 'id="receive-account_proof"' in page  # the optional one may still come

    decided = client.post(
        reverse("benefit_decision_new", args=[application.pk]),
        {"decided_on": "R8.7.1"} | _v(application),
    )
    assert decided.status_code == 302
    decision = BenefitDecision.objects.get()
    assert (decision.amount, decision.decided_on, decision.decided_by) == (
        30000,
        dt.date(2026, 7, 1),
        clerk,
    )
    application.refresh_from_db()
    assert application.status == ApplicationStatus.DECIDED
    body = client.get(url).content.decode()
    assert "30,000 円" in body and "支給" in body
    assert "葬祭費 30,000円（条例の額）" in body  # an explanation step
    assert "benefits.funeral_expenses" in body  # a parameter with its reference
    assert 'id="decide-form"' not in body
    payment = Payment.objects.get()
    assert (payment.amount, payment.status) == (30000, PaymentStatus.DUE)
    assert "支払待ち" in body


def test_the_decision_notice_is_a_pdf_built_from_the_decision(client, clerk, insured):
    application = _funeral_application(
        insured, clerk, attachments={"funeral_proof": True, "applicant_id": True}
    )
    client.post(
        reverse("benefit_decision_new", args=[application.pk]),
        {"decided_on": "R8.7.1"} | _v(application),
    )
    decision = BenefitDecision.objects.get()
    url = reverse("benefit_decision_notice", args=[decision.pk])
    assert (
        url
        in client.get(reverse("benefit_application_detail", args=[application.pk])).content.decode()
    )
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    assert response.content.startswith(b"%PDF-")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "葬祭費" in text and "30,000" in text


def test_an_unknown_attachment_is_refused(client, clerk, insured):
    application = _funeral_application(insured, clerk)
    response = client.post(
        reverse("benefit_attachment_receive", args=[application.pk]),
        {"code": "nothing"} | _v(application),
        follow=True,
    )
    assert "添付書類の種類が不明です" in response.content.decode()
    application.refresh_from_db()
    assert application.attachments == {}


def test_the_list_shows_applications_by_due_day_with_missing_counts(client, clerk, insured):
    first = _funeral_application(insured, clerk)  # received R8.6.20
    client.post(
        reverse("benefit_application_new", args=["ryoyohi"]),
        _expenses(insured) | {"action": "register"},
    )  # received R8.7.20
    second = BenefitApplication.objects.exclude(pk=first.pk).get()
    # A work queue: the nearest 期限 (the oldest 受付) first; 受付の新しい順 on request.
    body = client.get(reverse("benefit_applications")).content.decode()
    assert body.index(f">{first.pk}</a>") < body.index(f">{second.pk}</a>")
    newest = client.get(reverse("benefit_applications"), {"sort": "-received"}).content.decode()
    assert newest.index(f">{second.pk}</a>") < newest.index(f">{first.pk}</a>")
    assert "2 件" in body  # the funeral's two required attachments
    assert "療養費" in body and "葬祭費" in body and insured.atena_no in body
    assert "審査中" in body
    assert reverse("benefit_application_new", args=["shussan"]) in body
    shown = AuditEvent.objects.filter(event_type=EventType.HOUSEHOLD_VIEWED).last()
    assert shown.extra["households_shown"] == [insured.household.household_no]


def test_counter_staff_read_but_cannot_apply_or_decide(client, insured):
    application = _funeral_application(insured, make_staff(role=Role.BENEFITS))
    login_verified(client, make_staff(role=Role.COUNTER))
    for url in (
        reverse("benefit_applications"),
        reverse("benefit_application_detail", args=[application.pk]),
    ):
        page = client.get(url)
        assert page.status_code == 200
        assert '<form method="post" action="/benefits' not in page.content.decode()
    assert client.get(reverse("benefit_application_new", args=["sosai"])).status_code == 403
    assert _new(client, "ryoyohi", _expenses(insured)).status_code == 403
    assert (
        client.post(
            reverse("benefit_attachment_receive", args=[application.pk]), {"code": "funeral_proof"}
        ).status_code
        == 403
    )
    assert client.post(reverse("benefit_decision_new", args=[application.pk])).status_code == 403
    assert BenefitApplication.objects.count() == 1 and not BenefitDecision.objects.exists()


def test_a_role_without_benefits_is_refused(client, insured):
    application = _funeral_application(insured, make_staff(role=Role.BENEFITS))
    login_verified(client, make_staff(role=Role.ELIGIBILITY))
    for url in (
        reverse("benefit_applications"),
        reverse("benefit_application_detail", args=[application.pk]),
        reverse("benefit_application_new", args=["sosai"]),
    ):
        page = client.get(url)
        assert page.status_code == 403
        assert insured.name.encode() not in page.content
    assert "給付の申請" not in client.get(reverse("search")).content.decode()


def test_the_nav_link_shows_for_benefits_staff(client, clerk):
    body = client.get(reverse("search")).content.decode()
    assert reverse("benefit_applications") in body and reverse("payment_runs") in body
