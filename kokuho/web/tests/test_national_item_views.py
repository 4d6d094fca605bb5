"""連携の作業項目 screens: the list by kind with counts and the person named (an audited
access), the J-LIS mismatch with the 5 items side by side, and its two resolutions by
資格担当 — 修正して再送 (the next delta's 訂正) or 理由を付して確認; others resolved by hand;
the counter is refused."""

import re

import pytest
from django.urls import reverse

from kokuho.accounts.permissions import Role
from kokuho.audit.models import AuditEvent, EventType
from kokuho.national.ledger import RESEND_CORRECTED
from kokuho.national.models import NationalWorkItem, SentState, WorkItemKind
from kokuho.national.results import national_result_import
from kokuho.national.tests.test_onshi_results import JLIS, _keys, _result
from kokuho.testing import login_verified, make_staff

pytestmark = pytest.mark.django_db(databases=["default", "vault"])


@pytest.fixture(autouse=True)
def _national_dir(tmp_path, settings):
    settings.KOKUHO_NATIONAL_DIR = tmp_path / "national"
    settings.KOKUHO_INSURER_NUMBER = "389999"
    settings.KOKUHO_VAULT_KEY_FILE = tmp_path / "vault-keys.json"


@pytest.fixture
def mismatch(tmp_path):
    from kokuho.national.ledger import national_export
    from kokuho.national.tests.test_onshi_export import DAY, FEED, city

    city()
    file = national_export(feed=FEED, as_of=DAY, full=True, actor=None).file
    keys = _keys(file)
    lines = [JLIS.format(key=keys[0])] + [f"2,{k},0,,,,,,," for k in keys[1:]]
    national_result_import(path=_result(tmp_path, lines), actor=None)
    return NationalWorkItem.objects.get(kind=WorkItemKind.JLIS_MISMATCH)


@pytest.fixture
def clerk(client):
    staff = make_staff(role=Role.ELIGIBILITY)
    login_verified(client, staff)
    return staff


def test_the_list_counts_each_kind_and_names_the_person(client, clerk, mismatch):
    page = client.get(reverse("national_work_items")).content.decode()

    assert re.search(r"住基照合（J-LIS）の不一致</a>: 1 件", page)
    assert f'id="item-{mismatch.pk}"' in page and mismatch.person.name in page
    event = AuditEvent.objects.filter(event_type=EventType.PERSON_VIEWED).latest("seq")
    assert mismatch.person.atena_no in event.extra["persons_shown"]
    only = client.get(reverse("national_work_items"), {"kind": "charset"}).content.decode()
    assert f'id="item-{mismatch.pk}"' not in only


def test_the_mismatch_shows_what_was_sent_against_what_came_back(client, clerk, mismatch):
    page = client.get(reverse("national_work_item", args=[mismatch.pk])).content.decode()

    assert "資格 太朗" in page  # what 住基 returned
    assert mismatch.detail["held"]["氏名"] in page
    assert 'class="differs"' in page and "不一致" in page
    assert 'id="resend-form"' in page and 'id="confirm-form"' in page


def test_fixed_and_resent_marks_the_record_for_a_correction(client, clerk, mismatch):
    url = reverse("national_work_item_resend", args=[mismatch.pk])
    response = client.post(url, {"note": "氏名の表記を修正", "version": str(mismatch.version)})

    assert response.status_code == 302
    mismatch.refresh_from_db()
    assert mismatch.resolved_by == clerk and "氏名の表記を修正" in mismatch.resolution
    state = SentState.objects.get(feed=mismatch.feed, key=mismatch.key)
    assert state.content_sha256 == RESEND_CORRECTED
    again = client.post(url, {"note": "", "version": str(mismatch.version)})  # the page now
    assert again.status_code == 400 and "解決済み" in again.content.decode()


def test_a_confirmation_needs_a_reason(client, clerk, mismatch):
    url = reverse("national_work_item_confirm", args=[mismatch.pk])
    refused = client.post(url, {"reason": "", "version": str(mismatch.version)})
    assert refused.status_code == 400 and "理由・内容を入力してください" in refused.content.decode()
    mismatch.refresh_from_db()
    assert mismatch.resolved_at is None

    client.post(url, {"reason": "住基側の旧字体。本人に確認済み", "version": str(mismatch.version)})
    mismatch.refresh_from_db()
    assert mismatch.resolution == "住基側の旧字体。本人に確認済み"
    assert mismatch.detail["resolution_kind"] == "confirmed"


def test_the_counter_may_not_open_or_resolve(client, mismatch):
    login_verified(client, make_staff(role=Role.COUNTER))
    assert client.get(reverse("national_work_items")).status_code == 403
    url = reverse("national_work_item_confirm", args=[mismatch.pk])
    assert client.post(url, {"reason": "勝手に解決"}).status_code == 403
    mismatch.refresh_from_db()
    assert mismatch.resolved_at is None
