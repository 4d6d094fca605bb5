"""Optimistic locking of the 連携の作業項目 resolutions (`core.concurrency`): two clerks
resolving one item — the second gets `StaleEdit` with what changed, and the first's
resolution stands; a fresh version resolves and counts one up."""

import pytest
from django.utils import timezone

from kokuho.accounts.permissions import Role
from kokuho.core.concurrency import EditSeen, StaleEdit, edit_seen, edit_token
from kokuho.national.models import Feed, NationalWorkItem, WorkItemKind
from kokuho.national.workitems import national_work_item_resolve, national_work_item_shown
from kokuho.testing import make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def item():
    return NationalWorkItem.objects.create(
        feed=Feed.SHUYAKU_PERSON, kind=WorkItemKind.CHARSET, key="K-1",
        message="外字", created_at=timezone.now(),
    )  # fmt: skip


def test_a_resolution_on_the_version_seen_is_kept_and_counts_one_up(item):
    clerk = make_staff(role=Role.ELIGIBILITY)
    national_work_item_resolve(item=item, actor=clerk, resolution="送信しない", seen=EditSeen(1))

    item.refresh_from_db()
    assert (item.version, item.resolution, item.resolved_by) == (2, "送信しない", clerk)


def test_the_second_resolution_is_a_conflict_and_the_first_stands(item):
    first, second = make_staff(role=Role.ELIGIBILITY), make_staff(role=Role.ELIGIBILITY)
    token = edit_token(instance=item, shown=national_work_item_shown)
    seen = edit_seen(version=1, token=token, instance=item)
    national_work_item_resolve(item=item, actor=first, resolution="表記を修正", seen=seen)

    stale = NationalWorkItem.objects.get(pk=item.pk)
    with pytest.raises(StaleEdit) as raised:
        national_work_item_resolve(item=stale, actor=second, resolution="送信しない", seen=seen)

    assert [(c.label, c.after) for c in raised.value.changes] == [
        ("状態", "解決済み"),
        ("解決の内容", "表記を修正"),
    ]
    assert raised.value.changed_by == "試験 職員"
    item.refresh_from_db()
    assert (item.resolution, item.resolved_by, item.version) == ("表記を修正", first, 2)
