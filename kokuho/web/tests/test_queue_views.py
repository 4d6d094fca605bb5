"""The work-queue pattern on the list screens: 担当・期限 beside every item, the filter, the
bulk bar (assign, 期限, release) behind the queue's own right, and the home's counts."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from kokuho.accounts.permissions import Role
from kokuho.audit.models import AuditEvent, EventType
from kokuho.benefits.models import ClaimMatch
from kokuho.national.models import Feed, NationalWorkItem, WorkItemKind
from kokuho.testing import login_verified, make_claim, make_staff
from kokuho.workqueue.models import WorkAssignment
from kokuho.workqueue.queues import QUEUES

pytestmark = pytest.mark.django_db
LIST = "national_work_items"
CHANGE = "queue_change_national_items"


@pytest.fixture
def clerk(client):
    staff = make_staff(role=Role.ELIGIBILITY)
    login_verified(client, staff)
    return staff


def item(key: str, days_ago: int = 0) -> NationalWorkItem:
    return NationalWorkItem.objects.create(
        feed=Feed.ONSHI_HISTORY,
        kind=WorkItemKind.CHARSET,
        key=key,
        message=f"外字 {key}",
        created_at=timezone.now() - dt.timedelta(days=days_ago),
    )


def rows_of(body: str) -> list[str]:
    return [k for k in ("K-old", "K-mid", "K-new") if f"外字 {k}" in body]


def test_a_clerk_assigns_ticked_items_and_finds_them_under_their_name(client, clerk):
    other = make_staff(role=Role.ELIGIBILITY, username="tanaka")
    a, b, c = item("K-old", 30), item("K-mid", 2), item("K-new")
    page = client.get(reverse(LIST)).content.decode()
    assert 'id="queue-bulk"' in page and 'form="queue-bulk"' in page
    assert page.count("未割当") >= 3 and "期限超過" in page  # K-old is past its 5 days

    response = client.post(
        reverse(CHANGE),
        {"item": [a.pk, c.pk], "change": "assign", "clerk": other.pk, "next": reverse(LIST)},
        follow=True,
    )
    assert "2 件を" in response.content.decode()
    assert set(WorkAssignment.objects.values_list("item_id", "assignee_id")) == {
        (a.pk, other.pk),
        (c.pk, other.pk),
    }
    theirs = client.get(reverse(LIST), {"assignee": other.pk}).content.decode()
    assert rows_of(theirs) == ["K-old", "K-new"]
    nobody = client.get(reverse(LIST), {"assignee": "none"}).content.decode()
    assert rows_of(nobody) == ["K-mid"]
    overdue = client.get(reverse(LIST), {"due": "overdue"}).content.decode()
    assert rows_of(overdue) == ["K-old"]
    newest = client.get(reverse(LIST), {"sort": "-received"}).content.decode()
    assert newest.index("外字 K-new") < newest.index("外字 K-mid") < newest.index("外字 K-old")
    assert b.pk not in WorkAssignment.objects.values_list("item_id", flat=True)


def test_the_home_counts_a_clerks_own_unassigned_and_overdue_items(client, clerk):
    a, _b = item("K-old", 30), item("K-new")
    client.post(reverse(CHANGE), {"item": [a.pk], "change": "assign", "clerk": clerk.pk})
    body = client.get(reverse("home")).content.decode()
    row = body[body.index('data-section="national_items"') :]
    row = row[: row.index("</tr>")]
    assert "自分 1件" in row and "未割当 1件" in row and "期限超過 1件" in row
    assert f"{reverse(LIST)}?assignee=me" in row


def test_a_due_day_is_set_and_a_past_day_refused_in_japanese(client, clerk):
    a = item("K-new")
    later = timezone.localdate() + dt.timedelta(days=40)
    client.post(reverse(CHANGE), {"item": [a.pk], "change": "due", "due_on": later.isoformat()})
    assert WorkAssignment.objects.get(item_id=a.pk).due_on == later
    past = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    body = client.post(
        reverse(CHANGE), {"item": [a.pk], "change": "due", "due_on": past}, follow=True
    ).content.decode()
    assert "期限に過去の日は指定できません" in body
    assert WorkAssignment.objects.get(item_id=a.pk).due_on == later
    bad = client.post(
        reverse(CHANGE), {"item": [a.pk], "change": "due", "due_on": "あした"}, follow=True
    )
    assert bad.status_code == 200 and WorkAssignment.objects.get(item_id=a.pk).due_on == later


def test_nothing_ticked_or_an_item_gone_changes_nothing(client, clerk):
    a, b = item("K-old"), item("K-new")
    body = client.post(
        reverse(CHANGE), {"change": "assign", "clerk": clerk.pk}, follow=True
    ).content.decode()
    assert "対象を選択してください" in body
    NationalWorkItem.objects.filter(pk=b.pk).update(resolved_at=timezone.now())
    body = client.post(
        reverse(CHANGE), {"item": [a.pk, b.pk], "change": "assign", "clerk": clerk.pk}, follow=True
    ).content.decode()
    assert "一覧を表示し直してください" in body
    assert not WorkAssignment.objects.exists()


def test_a_bad_filter_is_said_not_a_server_error(client, clerk):
    item("K-new")
    response = client.get(reverse(LIST), {"assignee": "999999", "due": "x", "sort": "evil"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "担当の指定（999999）は選択肢にありません" in body and "外字 K-new" in body


def test_the_bulk_action_goes_back_to_the_list_never_elsewhere(client, clerk):
    a = item("K-new")
    shown = f"{reverse(LIST)}?kind=charset&assignee=none"
    back = client.post(
        reverse(CHANGE), {"item": [a.pk], "change": "assign", "clerk": clerk.pk, "next": shown}
    )
    assert back.status_code == 302 and back["Location"] == shown
    away = client.post(
        reverse(CHANGE),
        {"item": [a.pk], "change": "release", "next": "https://evil.example/"},
    )
    assert away["Location"] == reverse(LIST)


def test_a_role_without_the_queues_work_sees_no_bar_and_is_refused(client):
    a = item("K-new")
    counter = make_staff(role=Role.COUNTER)
    login_verified(client, counter)
    body = client.get(reverse("documents_returns")).content.decode()
    assert 'id="queue-bulk"' not in body and 'id="queue-filter"' in body
    response = client.post(reverse(CHANGE), {"item": [a.pk], "change": "assign"})
    assert response.status_code == 403
    assert AuditEvent.objects.filter(event_type=EventType.ACCESS_DENIED).exists()
    assert not WorkAssignment.objects.exists()


def test_the_benefits_clerk_assigns_claims_from_the_rematch_form():
    """The 未照合レセプト list's tick boxes serve both 再照合 and the queue (formaction)."""
    from django.test import Client

    client = Client()
    clerk = make_staff(role=Role.BENEFITS)
    login_verified(client, clerk)
    month = dt.date(2026, 10, 1)
    first = make_claim(service_month=month, claim_id="U1")
    second = make_claim(service_month=month, claim_id="U2", match=ClaimMatch.UNKNOWN_NUMBER)
    page = client.get(reverse("claims_unmatched")).content.decode()
    assert 'formaction="/queues/claims_unmatched/change/"' in page
    client.post(
        reverse("queue_change_claims_unmatched"),
        {"claim": [first.pk], "change": "assign", "clerk": clerk.pk, "scope": ""},
    )
    assert list(WorkAssignment.objects.values_list("queue", "item_id")) == [
        ("claims_unmatched", first.pk)
    ]
    mine = client.get(reverse("claims_unmatched"), {"assignee": "me"}).content.decode()
    assert f'id="claim-{first.pk}"' in mine and f'id="claim-{second.pk}"' not in mine
    assert "表示中の条件のすべて 1 件" in mine
    # 再照合「表示中の条件のすべて」 narrowed by 担当 takes exactly the claim shown.
    narrowed = client.post(reverse("claims_rematch"), {"scope": "shown", "assignee": "me"})
    assert '<dd id="examined">1 件</dd>' in narrowed.content.decode()
    everything = client.post(reverse("claims_rematch"), {"scope": "shown"})
    assert '<dd id="examined">2 件</dd>' in everything.content.decode()


@pytest.mark.parametrize("key", sorted(QUEUES))
def test_every_queue_list_shows_the_pattern_to_its_clerks(client, key):
    spec = QUEUES[key]
    role = Role.BENEFITS if spec.work.value.startswith("benefits") else Role.ELIGIBILITY
    login_verified(client, make_staff(role=role))
    body = client.get(reverse(spec.url_name)).content.decode()
    assert 'id="queue-filter"' in body and 'id="queue-bulk"' in body
    assert "<th>担当</th><th>期限</th>" in body
    assert (
        f'action="/queues/{key}/change/"' in body or f'formaction="/queues/{key}/change/"' in body
    )
