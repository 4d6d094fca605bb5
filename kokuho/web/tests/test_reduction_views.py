"""一部負担金の減額・免除・徴収猶予 screens: the entry form, the computation shown before the
decision, 承認 and 不承認, the extension in two steps, the 証明書 and notice PDFs, field
errors that keep nothing, and who may not.

From the demo city's tables (2025-10-01): the 生活保護 standard of a household of one is
111,000 yen (1.15× 127,650; savings cap 333,000). The head is insured since 2015."""

import datetime as dt
import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from kokuho.accounts.permissions import Role
from kokuho.audit.models import AuditEvent, EventType
from kokuho.benefits.reduction.models import CopayReductionApplication, CopayReductionDecision
from kokuho.benefits.reduction.services import copay_reduction_decide, copay_reduction_register
from kokuho.testing import login_verified, make_insured, make_staff

pytestmark = pytest.mark.django_db

APRIL = dt.date(2026, 4, 1)


@pytest.fixture
def head():
    return make_insured(birth_date=dt.date(1975, 6, 1), moved_in=dt.date(2015, 4, 1))


@pytest.fixture
def clerk(client):
    staff = make_staff(role=Role.BENEFITS)
    login_verified(client, staff)
    return staff


def _typed(person, **overrides):
    return {
        "subject_atena_no": person.atena_no,
        "received_on": "R8.3.25",
        "reason": "unemployment",
        "reason_detail": "",
        "monthly_income": "１００,０００",
        "savings": "100000",
        "members": "1",
        "requested_kind": "exemption",
        "period_start": "R8.4",
        "months": "3",
    } | overrides


def _application(person, income=100_000, kind="exemption"):
    return copay_reduction_register(
        subject=person,
        applicant=person,
        received_on=dt.date(2026, 3, 25),
        reason="unemployment",
        monthly_income=income,
        savings=100_000,
        members=1,
        requested_kind=kind,
        period_start=APRIL,
        actor=make_staff(),
    )


def _v(application) -> dict[str, str]:
    """The version the detail page carries now (the forms' hidden field)."""
    return {"version": str(CopayReductionApplication.objects.get(pk=application.pk).version)}


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_the_form_asks_for_reason_income_savings_kind_and_period(client, clerk):
    body = client.get(reverse("reduction_application_new")).content.decode()
    assert "一部負担金の減額・免除・徴収猶予 申請の受付" in body
    for label in ("申請の事由", "世帯の実収月額（円）", "世帯の預貯金（円）", "希望する期間の初月"):
        assert label in body
    assert "震災・風水害・火災その他の災害" in body and "事業の休止・廃止" in body
    assert "失業" in body and "徴収猶予" in body


def test_register_then_the_computation_is_shown_before_deciding(client, clerk, head):
    response = client.post(reverse("reduction_application_new"), _typed(head))
    application = CopayReductionApplication.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("reduction_application_detail", args=[application.pk])
    assert (application.applicant, application.monthly_income) == (head, 100_000)
    assert (application.period_start, application.months) == (APRIL, 3)
    assert AuditEvent.objects.filter(event_type=EventType.COPAY_REDUCTION_APPLICATION).exists()

    body = client.get(response.url).content.decode()
    assert 'id="proposal-figures"' in body
    assert "生活保護基準額（月額）" in body and "111,000円" in body
    assert "100,000円" in body and "90.09%" in body  # 100,000 ÷ 111,000
    assert "預貯金の上限（基準額の月数分）" in body and "333,000円" in body
    assert "承認（免除）" in body
    assert "令和8年4月1日（2026-04-01） 〜 令和8年6月30日（2026-06-30）（3か月）" in body
    assert "以下のため免除" in body  # the criterion met, in the rule's own step
    assert not CopayReductionDecision.objects.exists()
    viewed = AuditEvent.objects.filter(event_type=EventType.PERSON_VIEWED).last()
    assert viewed.subject_id == head.atena_no


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"monthly_income": "たくさん"}, "monthly_income", "数字で入力"),
        ({"subject_atena_no": "7999999999"}, "subject_atena_no", "住民が見つかりません"),
        ({"period_start": "4月ごろ"}, "period_start", "希望する期間の初月の形式が正しくありません"),
        ({"received_on": "R8.2.30"}, "received_on", ""),
        ({"reason": "other"}, "reason_detail", "「その他」の事由は内容を入力してください"),
        ({"savings": ""}, "savings", "世帯の預貯金（円）を入力してください"),
    ],
)
def test_bad_input_is_shown_beside_its_field_and_nothing_is_kept(
    client, clerk, head, overrides, field, message
):
    response = client.post(reverse("reduction_application_new"), _typed(head, **overrides))
    body = response.content.decode()
    assert response.status_code == 200
    assert f'id="{field}-error"' in body, body
    assert message in body
    assert not CopayReductionApplication.objects.exists()


def test_only_the_head_of_the_subjects_household_may_apply(client, clerk, head):
    spouse = make_insured(household_no=head.household.household_no, relation="妻")
    data = _typed(spouse, applicant_atena_no=spouse.atena_no)
    body = client.post(reverse("reduction_application_new"), data).content.decode()
    assert 'id="applicant_atena_no-error"' in body and "世帯主が行います" in body
    assert not CopayReductionApplication.objects.exists()
    # Left blank, the applicant is the head.
    client.post(reverse("reduction_application_new"), _typed(spouse))
    application = CopayReductionApplication.objects.get()
    assert (application.subject, application.applicant) == (spouse, head)


def test_decide_approves_as_computed_and_prints_the_certificate_and_notice(client, clerk, head):
    application = _application(head)
    response = client.post(
        reverse("reduction_decision_new", args=[application.pk]),
        {"decided_on": "R8.3.30"} | _v(application),
    )
    assert response.status_code == 302
    decision = CopayReductionDecision.objects.get()
    assert (decision.result, decision.decided_on, decision.decided_by) == (
        "exemption",
        dt.date(2026, 3, 30),
        clerk,
    )
    body = client.get(reverse("reduction_application_detail", args=[application.pk])).content
    page = body.decode()
    assert "承認: 免除" in page and decision.certificate_no in page
    assert "令和8年4月1日〜令和8年6月30日" in page
    assert 'id="decide-form"' not in page and 'id="extend-form"' in page
    assert "reduction.welfare_standard" in page and "暫定値" in page

    certificate = client.get(reverse("reduction_certificate_pdf", args=[decision.pk]))
    assert certificate.status_code == 200
    assert certificate["Content-Type"] == "application/pdf"
    assert "no-store" in certificate["Cache-Control"]
    text = _pdf_text(certificate.content)
    assert "一部負担金減額・免除・徴収猶予証明書" in text and decision.certificate_no in text
    assert "令和8年4月1日から令和8年6月30日まで" in text
    assert head.atena_no not in text
    notice = client.get(reverse("reduction_notice_pdf", args=[decision.pk]))
    assert notice.status_code == 200
    assert "一部負担金免除決定通知書" in _pdf_text(notice.content)


def test_a_refusal_states_the_reason_and_has_a_notice_but_no_certificate(client, clerk, head):
    application = _application(head, income=200_000)
    page = client.get(reverse("reduction_application_detail", args=[application.pk])).content
    assert "不承認" in page.decode() and "1.15倍 127,650円 を超えています" in page.decode()
    client.post(
        reverse("reduction_decision_new", args=[application.pk]),
        {"decided_on": "R8.3.30"} | _v(application),
    )
    decision = CopayReductionDecision.objects.get()
    assert decision.result == "refused"
    body = client.get(reverse("reduction_application_detail", args=[application.pk])).content
    assert reverse("reduction_certificate_pdf", args=[decision.pk]) not in body.decode()
    assert 'id="extend-form"' not in body.decode()
    refused = client.get(reverse("reduction_certificate_pdf", args=[decision.pk]), follow=True)
    assert "不承認の決定には証明書を交付しません" in refused.content.decode()
    notice = client.get(reverse("reduction_notice_pdf", args=[decision.pk]))
    assert "不承認決定通知書" in _pdf_text(notice.content)
    extend = client.post(
        reverse("reduction_decision_extend", args=[decision.pk]),
        {"decided_on": "R8.6.20", "action": "confirm"} | _v(application),
    )
    assert "不承認の決定は延長できません" in extend.content.decode()
    assert CopayReductionDecision.objects.count() == 1


def test_a_second_decision_and_a_bad_date_are_refused(client, clerk, head):
    application = _application(head)
    url = reverse("reduction_decision_new", args=[application.pk])
    bad = client.post(url, {"decided_on": "そのうち"} | _v(application))
    assert 'id="decided_on-error"' in bad.content.decode()
    assert not CopayReductionDecision.objects.exists()
    client.post(url, {"decided_on": "R8.3.30"} | _v(application))
    again = client.post(url, {"decided_on": "R8.3.31"} | _v(application))  # the page now
    assert "この申請は決定済みです" in again.content.decode()
    assert CopayReductionDecision.objects.count() == 1


def test_an_extension_is_shown_first_then_decided_for_the_next_months(client, clerk, head):
    first = copay_reduction_decide(application=_application(head), actor=clerk)
    url = reverse("reduction_decision_extend", args=[first.pk])
    typed = {"monthly_income": "120,000", "decided_on": "R8.6.20"} | _v(first.application)
    confirm = client.post(url, typed | {"action": "confirm"}).content.decode()
    assert 'id="extension-figures"' in confirm and "承認（減額（50%））" in confirm
    assert "令和8年7月1日（2026-07-01） 〜 令和8年9月30日（2026-09-30）" in confirm
    assert CopayReductionDecision.objects.count() == 1

    saved = client.post(url, typed | {"action": "extend"})
    assert saved.status_code == 302
    extension = CopayReductionDecision.objects.exclude(pk=first.pk).get()
    assert (extension.extends, extension.result, extension.rate_percent) == (first, "reduction", 50)
    assert extension.period_start == dt.date(2026, 7, 1)
    assert AuditEvent.objects.filter(event_type=EventType.COPAY_REDUCTION_EXTENDED).exists()
    typed |= _v(first.application)  # the page now
    for action in ("confirm", "extend"):
        again = client.post(url, typed | {"action": action}).content.decode()
        assert "すでに延長されています" in again
    assert CopayReductionDecision.objects.count() == 2


def test_the_list_shows_each_application_with_its_state(client, clerk, head):
    waiting = _application(head)
    decided = _application(head, income=200_000)
    copay_reduction_decide(application=decided, actor=clerk)
    body = client.get(reverse("reduction_applications")).content.decode()
    assert body.index(f">{decided.pk}</a>") < body.index(f">{waiting.pk}</a>")
    assert "審査中" in body and "不承認" in body and "失業" in body
    assert "令和8年4月から3か月" in body
    shown = AuditEvent.objects.filter(event_type=EventType.HOUSEHOLD_VIEWED).last()
    assert shown.extra["households_shown"] == [head.household.household_no]


def _denied(client, method, url, data=None) -> None:
    before = AuditEvent.objects.filter(event_type=EventType.ACCESS_DENIED).count()
    response = method(url, data or {})
    assert response.status_code == 403, url
    denied = AuditEvent.objects.filter(event_type=EventType.ACCESS_DENIED)
    assert denied.count() == before + 1
    assert denied.last().extra["path"] == url


def test_counter_staff_read_but_cannot_register_decide_or_extend(client, head):
    application = _application(head)
    decision = copay_reduction_decide(application=_application(head), actor=make_staff())
    login_verified(client, make_staff(role=Role.COUNTER))
    page = client.get(reverse("reduction_application_detail", args=[application.pk]))
    assert page.status_code == 200 and 'id="decide-form"' not in page.content.decode()
    assert client.get(reverse("reduction_applications")).status_code == 200
    assert client.get(reverse("reduction_certificate_pdf", args=[decision.pk])).status_code == 200
    _denied(client, client.get, reverse("reduction_application_new"))
    _denied(client, client.post, reverse("reduction_application_new"), _typed(head))
    _denied(
        client,
        client.post,
        reverse("reduction_decision_new", args=[application.pk]),
        {"decided_on": "R8.3.30"},
    )
    _denied(
        client,
        client.post,
        reverse("reduction_decision_extend", args=[decision.pk]),
        {"decided_on": "R8.6.20", "action": "extend"},
    )
    assert CopayReductionApplication.objects.count() == 2
    assert CopayReductionDecision.objects.count() == 1


def test_a_role_without_benefits_sees_nothing(client, head):
    application = _application(head)
    login_verified(client, make_staff(role=Role.ELIGIBILITY))
    for url in (
        reverse("reduction_applications"),
        reverse("reduction_application_detail", args=[application.pk]),
    ):
        _denied(client, client.get, url)
        assert head.name.encode() not in client.get(url).content
    assert reverse("reduction_applications") not in client.get(reverse("search")).content.decode()
