"""連携状況: each feed's last file, the 通番 still waiting for a 処理結果, open work items,
and the alert once the wait passes the configured days — also as a banner on every page of
the staff who may see it; no resident's data on the screen."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from kokuho.accounts.permissions import Role
from kokuho.national.ledger import national_export
from kokuho.national.models import Feed, NationalWorkItem, WorkItemKind
from kokuho.national.tests.builders import arrive
from kokuho.testing import login_verified, make_staff

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 11, 2)


@pytest.fixture(autouse=True)
def _national_dir(tmp_path, settings):
    settings.KOKUHO_NATIONAL_DIR = tmp_path / "national"
    settings.KOKUHO_NATIONAL_ACK_DAYS = 3


def _sent(days_ago: int) -> None:
    person = arrive("100000000000101", "H9001", name="状況 花子")
    outcome = national_export(feed=Feed.SHUYAKU_PERSON, as_of=DAY, full=True, actor=None)
    outcome.file.sent_at = timezone.now() - dt.timedelta(days=days_ago)
    outcome.file.save(update_fields=["sent_at"])
    NationalWorkItem.objects.create(
        feed=Feed.SHUYAKU_PERSON,
        kind=WorkItemKind.CHARSET,
        key="k1",
        person=person,
        message="髙",
        created_at=timezone.now(),
    )


def test_the_screen_shows_each_feed_and_the_overdue_alert(client):
    _sent(days_ago=4)
    login_verified(client, make_staff(role=Role.ELIGIBILITY))

    page = client.get(reverse("national_status")).content.decode()

    assert 'id="feed-shuyaku_person"' in page
    assert "通番 1 の処理結果が 4日 届いていません" in page
    assert "処理結果 4日 未着" in page
    assert "Shift_JIS で書けない文字（外字）" in page and "1 件" in page
    assert "推定レイアウト" in page
    assert "まだ送信していません" in page  # the feeds not sent yet are listed too
    assert "状況 花子" not in page and "100000000000101" not in page


def test_a_recent_file_is_no_alert(client):
    _sent(days_ago=1)
    login_verified(client, make_staff(role=Role.ELIGIBILITY))

    page = client.get(reverse("national_status")).content.decode()

    assert "届いていません" not in page and 'id="national-alerts"' not in page
    assert "正常" in page


def test_the_alert_is_a_banner_for_those_who_may_see_the_status(client):
    _sent(days_ago=5)
    login_verified(client, make_staff(role=Role.ELIGIBILITY))
    page = client.get(reverse("search")).content.decode()
    assert 'id="national-alerts"' in page and "5日 届いていません" in page

    client.logout()
    login_verified(client, make_staff(role=Role.COUNTER))
    page = client.get(reverse("search")).content.decode()
    assert 'id="national-alerts"' not in page
    assert client.get(reverse("national_status")).status_code == 403
