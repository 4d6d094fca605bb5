"""Concurrent edits at the counter (issue 18 item 3): two clerks open the same record, the
first saves, the second's save is refused with what changed, who and when — the page shows
the record as it is now, keeps what the second clerk typed and carries the current version,
so saving again is a deliberate act. Screens: 減免 決定・延長, 給付の申請 添付書類・決定,
連携の作業項目."""

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse

from kokuho.accounts.permissions import Role
from kokuho.benefits.lifecycle.models import BenefitDecision
from kokuho.benefits.lifecycle.services import benefit_application_register
from kokuho.benefits.reduction.models import CopayReductionApplication, CopayReductionDecision
from kokuho.benefits.reduction.services import copay_reduction_decide, copay_reduction_register
from kokuho.national.models import Feed, NationalWorkItem, WorkItemKind
from kokuho.payments.models import Benefit
from kokuho.payments.services import AccountInput
from kokuho.testing import login_verified, make_insured, make_staff

pytestmark = pytest.mark.django_db

CONFLICT = "内容を確認してから、もう一度保存してください。"


def _clerk(role: Role, full_name: str) -> Client:
    staff = make_staff(role=role)
    staff.staff_profile.full_name = full_name
    staff.staff_profile.save(update_fields=["full_name"])
    browser = Client()
    login_verified(browser, staff)
    return browser


def _hidden(page: str, form_id: str) -> dict[str, str]:
    """The version and snapshot a form carries, as the clerk's browser would send them."""
    form = re.search(rf'<form[^>]*id="{form_id}".*?</form>', page, re.S)
    assert form, form_id
    version = re.search(r'name="version" value="(\d+)"', form[0])
    seen = re.search(r'name="seen" value="([^"]*)"', form[0])
    assert version and seen, form[0]
    return {"version": version[1], "seen": seen[1]}


@pytest.fixture
def head():
    return make_insured(birth_date=dt.date(1975, 6, 1), moved_in=dt.date(2015, 4, 1))


def _reduction(person):
    return copay_reduction_register(
        subject=person, applicant=person, received_on=dt.date(2026, 3, 25),
        reason="unemployment", monthly_income=100_000, savings=100_000, members=1,
        requested_kind="exemption", period_start=dt.date(2026, 4, 1), actor=make_staff(),
    )  # fmt: skip


def _funeral(person, attachments=None):
    return benefit_application_register(
        benefit=Benefit.SOSAI, subject=person, applicant=None, applicant_name="給付 花子",
        received_on=dt.date(2026, 6, 20), event_date=dt.date(2026, 6, 12),
        facts={"death_date": "2026-06-10", "chief_mourner": "給付 花子"},
        attachments=attachments or {},
        account=AccountInput("0001", "001", 1, "1234567", "キュウフ ハナコ"), actor=make_staff(),
    )  # fmt: skip


def test_the_second_reduction_decision_is_told_what_changed_and_nothing_is_added(head):
    application = _reduction(head)
    yamada, suzuki = _clerk(Role.BENEFITS, "山田 太郎"), _clerk(Role.BENEFITS, "鈴木 一郎")
    page = reverse("reduction_application_detail", args=[application.pk])
    hers = _hidden(yamada.get(page).content.decode(), "decide-form")
    his = _hidden(suzuki.get(page).content.decode(), "decide-form")
    url = reverse("reduction_decision_new", args=[application.pk])

    assert yamada.post(url, {"decided_on": "R8.3.30"} | hers).status_code == 302
    refused = suzuki.post(url, {"decided_on": "R8.3.31"} | his).content.decode()

    assert "山田 太郎 さんが更新しました。" in refused and CONFLICT in refused
    assert "変更点: 決定区分 審査中 → 免除 令和8年4月1日〜令和8年6月30日" in refused
    assert 'id="decide-error"' in refused and 'id="decide-form"' not in refused
    decision = CopayReductionDecision.objects.get()  # the first one only
    assert decision.decided_on == dt.date(2026, 3, 30)
    assert f'id="decision-{decision.pk}"' in refused  # the record as it is now


def test_an_extension_on_a_stale_page_keeps_the_clerks_figures_with_the_current_version(head):
    first = copay_reduction_decide(application=_reduction(head), actor=make_staff())
    yamada, suzuki = _clerk(Role.BENEFITS, "山田 太郎"), _clerk(Role.BENEFITS, "鈴木 一郎")
    page = reverse("reduction_application_detail", args=[first.application_id])
    hers = _hidden(yamada.get(page).content.decode(), "extend-form")
    his = _hidden(suzuki.get(page).content.decode(), "extend-form")
    url = reverse("reduction_decision_extend", args=[first.pk])
    typed = {"decided_on": "R8.6.20", "action": "extend"}

    assert yamada.post(url, typed | {"months": "3"} | hers).status_code == 302
    refused = suzuki.post(url, typed | {"months": "5", "monthly_income": "98,765"} | his)
    body = refused.content.decode()

    assert "山田 太郎 さんが更新しました。" in body and "決定の件数 1件 → 2件" in body
    assert 'value="98,765"' in body and 'value="5"' in body  # what he typed, kept
    current = CopayReductionApplication.objects.get(pk=first.application_id)
    assert _hidden(body, "extend-form")["version"] == str(current.version) == "3"
    assert CopayReductionDecision.objects.get(extends=first).months == 3


def test_the_second_benefit_decision_is_a_conflict_shown_outside_the_closed_form(head):
    application = _funeral(head, attachments={"funeral_proof": True, "applicant_id": True})
    yamada, suzuki = _clerk(Role.BENEFITS, "山田 太郎"), _clerk(Role.BENEFITS, "鈴木 一郎")
    page = reverse("benefit_application_detail", args=[application.pk])
    hers = _hidden(yamada.get(page).content.decode(), "decide-form")
    his = _hidden(suzuki.get(page).content.decode(), "decide-form")
    url = reverse("benefit_decision_new", args=[application.pk])

    assert yamada.post(url, {"decided_on": "R8.7.1"} | hers).status_code == 302
    body = suzuki.post(url, {"decided_on": "R8.7.2"} | his).content.decode()

    assert 'id="decide-error"' in body and "山田 太郎 さんが更新しました。" in body
    assert "状態 審査中 → 決定済み" in body and "決定 未決定 → 支給 30,000円" in body
    assert BenefitDecision.objects.get().decided_on == dt.date(2026, 7, 1)


def test_an_attachment_ticked_on_a_stale_page_is_refused_and_the_others_stay(head):
    application = _funeral(head)
    yamada, suzuki = _clerk(Role.BENEFITS, "山田 太郎"), _clerk(Role.BENEFITS, "鈴木 一郎")
    page = reverse("benefit_application_detail", args=[application.pk])
    hers = _hidden(yamada.get(page).content.decode(), "receive-form-funeral_proof")
    his = _hidden(suzuki.get(page).content.decode(), "receive-form-applicant_id")
    url = reverse("benefit_attachment_receive", args=[application.pk])

    assert yamada.post(url, {"code": "funeral_proof"} | hers).status_code == 302
    body = suzuki.post(url, {"code": "applicant_id"} | his, follow=True).content.decode()

    assert "受領済みの添付書類 なし → 葬儀の領収書または会葬礼状（喪主・葬祭日の確認）" in body
    application.refresh_from_db()
    assert application.attachments == {"funeral_proof": True}
    again = _hidden(body, "receive-form-applicant_id")  # pressed again on the page now
    assert suzuki.post(url, {"code": "applicant_id"} | again).status_code == 302
    application.refresh_from_db()
    assert application.attachments == {"funeral_proof": True, "applicant_id": True}


def test_a_post_without_the_version_is_refused_in_japanese(head):
    application = _reduction(head)
    clerk = _clerk(Role.BENEFITS, "山田 太郎")
    url = reverse("reduction_decision_new", args=[application.pk])
    body = clerk.post(url, {"decided_on": "R8.3.30"}).content.decode()
    assert "画面が古いため保存できません。記録を開き直してください。" in body
    assert not CopayReductionDecision.objects.exists()


def test_the_second_resolution_of_a_work_item_keeps_the_reason_typed(head):
    from django.utils import timezone

    item = NationalWorkItem.objects.create(
        feed=Feed.SHUYAKU_PERSON, kind=WorkItemKind.CHARSET, key="K-1", message="外字",
        created_at=timezone.now(), person=head,
    )  # fmt: skip
    yamada, suzuki = _clerk(Role.ELIGIBILITY, "山田 太郎"), _clerk(Role.ELIGIBILITY, "鈴木 一郎")
    page = reverse("national_work_item", args=[item.pk])
    hers = _hidden(yamada.get(page).content.decode(), "confirm-form")
    his = _hidden(suzuki.get(page).content.decode(), "confirm-form")
    url = reverse("national_work_item_confirm", args=[item.pk])

    assert yamada.post(url, {"reason": "表記を修正して再送"} | hers).status_code == 302
    refused = suzuki.post(url, {"reason": "送信しないことにした"} | his)
    body = refused.content.decode()

    assert refused.status_code == 409
    assert "山田 太郎 さんが更新しました。" in body
    assert "状態 未解決 → 解決済み、解決の内容 （なし） → 表記を修正して再送" in body
    assert 'id="resolved"' in body
    assert '<p id="unsaved">保存されなかった入力: 送信しないことにした</p>' in body
    item.refresh_from_db()
    assert item.resolution == "表記を修正して再送" and item.version == 2
