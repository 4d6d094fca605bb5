"""The person as the hub, the sections beside 資格 and 給付 (issue 17 item 2): 証・通知, 連携
(what was sent, its state, open work items), 振込先口座 (masked), アクセス記録 — each with its
count, each under the 事務 and right it serves, in queries that do not grow with the rows."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kokuho.accounts.permissions import Role
from kokuho.certificates.models import Delivery, IssueReason
from kokuho.certificates.services import basic_document_issue
from kokuho.national.ledger import national_export
from kokuho.national.models import Feed, NationalWorkItem, WorkItemKind
from kokuho.national.tests.builders import arrive
from kokuho.payments.models import AccountSource
from kokuho.payments.services import AccountInput, payee_account_record
from kokuho.testing import login_verified, make_staff

pytestmark = pytest.mark.django_db(databases=["default", "vault"])
DAY = dt.date(2026, 11, 2)


@pytest.fixture(autouse=True)
def _dirs(tmp_path, settings):
    settings.KOKUHO_NATIONAL_DIR = tmp_path / "national"
    settings.KOKUHO_DOCUMENTS_DIR = tmp_path / "documents"


@pytest.fixture
def person():
    return arrive("100000000000101", "H9001", name="中心 花子")


def _page(client, person, purpose="nhi_eligibility") -> str:
    url = reverse("person_detail", args=[person.atena_no])
    return client.get(url, {"purpose": purpose}).content.decode()


def _sent_and_held(person) -> NationalWorkItem:
    national_export(feed=Feed.SHUYAKU_PERSON, as_of=DAY, full=True, actor=None)
    return NationalWorkItem.objects.create(
        feed=Feed.SHUYAKU_PERSON,
        kind=WorkItemKind.CHARSET,
        key="k1",
        person=person,
        message="髙 は送れません",
        created_at=timezone.now(),
    )


def _account(person, number="1234567", valid_from=dt.date(2026, 12, 1)):
    return payee_account_record(
        person=person,
        account=AccountInput("0001", "001", 1, number, "チュウシン ハナコ"),
        source=AccountSource.APPLICATION,
        valid_from=valid_from,
        actor=None,
    )


def test_eligibility_staff_see_documents_links_and_the_access_record(client, person):
    basic_document_issue(
        person=person, on=DAY, reason=IssueReason.NEW, delivery=Delivery.COUNTER, actor=None
    )
    item = _sent_and_held(person)
    login_verified(client, make_staff(role=Role.ELIGIBILITY))
    body = _page(client, person)
    assert 'id="documents-count">1件' in body and 'id="documents-link"' in body
    assert 'id="national-items-count">1件' in body and "髙 は送れません" in body
    assert reverse("national_work_item", args=[item.pk]) in body
    assert (
        'id="national-sent-count">1件' in body and "国保情報集約システム 資格情報（個人）" in body
    )
    assert "送信済み（処理結果待ち）" in body
    # The アクセス記録 holds this very view and the file that carried the person.
    assert 'id="access-record"' in body and "住民情報の閲覧" in body
    assert "連携ファイルの作成" in body
    assert 'id="accounts"' not in body  # 振込先口座 is 給付's


def test_the_counter_sees_no_access_record(client, person):
    login_verified(client, make_staff(role=Role.COUNTER))
    body = _page(client, person)
    assert 'id="documents-count">0件' in body and 'id="national-sent-count">0件' in body
    assert 'id="access"' not in body


def test_benefits_staff_see_the_accounts_masked_under_the_benefits_purpose(client, person):
    _account(person, "1234567", dt.date(2026, 11, 1))
    _account(person, "7654321", dt.date(2026, 12, 1))
    login_verified(client, make_staff(role=Role.BENEFITS))
    body = _page(client, person, "nhi_benefits")
    assert 'id="accounts-count">2件' in body
    assert "＊＊＊＊321" in body and "＊＊＊＊567" in body
    assert "7654321" not in body and "1234567" not in body
    assert body.index("現在の口座") < body.index("旧版")
    opened_for_eligibility = _page(client, person)
    assert 'id="accounts"' not in opened_for_eligibility
    assert 'id="national"' not in body  # 連携 is 資格's


def test_the_sections_queries_do_not_grow_with_the_rows(client, person):
    staff = make_staff(role=Role.ELIGIBILITY)
    login_verified(client, staff)
    _sent_and_held(person)
    basic_document_issue(
        person=person, on=DAY, reason=IssueReason.NEW, delivery=Delivery.COUNTER, actor=None
    )
    _page(client, person)  # warm-up (sessions, caches)
    with CaptureQueriesContext(connection) as few:
        _page(client, person)
    for n in range(5):
        basic_document_issue(
            person=person,
            on=DAY + dt.timedelta(days=n + 1),
            reason=IssueReason.REISSUE,
            delivery=Delivery.COUNTER,
            actor=None,
        )
        national_export(
            feed=Feed.SHUYAKU_PERSON, as_of=DAY + dt.timedelta(days=n + 1), full=True, actor=None
        )
    with CaptureQueriesContext(connection) as many:
        _page(client, person)
    assert len(many) == len(few)
