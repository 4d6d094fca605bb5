"""`core.concurrency`: the compare-and-set of a record's version, the signed snapshot the
form carries, and the conflict it raises (what changed, who, when) — on a 連携の作業項目."""

import datetime as dt

import pytest
from django.utils import timezone

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.core.concurrency import (
    ConcurrencyErrorCode,
    EditSeen,
    StaleEdit,
    edit_claim,
    edit_mark,
    edit_seen,
    edit_token,
)
from kokuho.national.models import Feed, NationalWorkItem, WorkItemKind
from kokuho.national.workitems import national_work_item_shown as shown
from kokuho.testing import make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def item():
    return NationalWorkItem.objects.create(
        feed=Feed.SHUYAKU_PERSON, kind=WorkItemKind.CHARSET, key="K-1",
        message="外字", created_at=timezone.now(),
    )  # fmt: skip


def test_a_fresh_claim_adds_one_to_the_version(item):
    edit_claim(instance=item, seen=EditSeen(1), shown=shown)

    assert item.version == 2
    item.refresh_from_db()
    assert item.version == 2


def test_a_claim_on_a_version_already_taken_is_refused_and_writes_nothing(item):
    other = NationalWorkItem.objects.get(pk=item.pk)  # the second clerk's copy, version 1
    edit_claim(instance=item, seen=None, shown=shown)

    with pytest.raises(StaleEdit) as raised:
        edit_claim(instance=other, seen=None, shown=shown)  # its check passes, the SET does not

    assert raised.value.code == ConcurrencyErrorCode.STALE_EDIT
    assert (raised.value.seen_version, raised.value.current_version) == (1, 2)
    item.refresh_from_db()
    assert item.version == 2


def test_the_conflict_names_what_changed_who_and_when(item):
    yamada = make_staff(username="yamada")
    yamada.staff_profile.full_name = "山田 花子"
    yamada.staff_profile.save(update_fields=["full_name"])
    seen = edit_seen(version=1, token=edit_token(instance=item, shown=shown), instance=item)
    NationalWorkItem.objects.filter(pk=item.pk).update(
        resolved_at=timezone.now(), resolution="表記を修正", version=2
    )
    item.version = 2
    event = audit_event_record(
        event_type=EventType.NATIONAL_WORK_ITEM_RESOLVED, actor=yamada,
        subject_type=SubjectType.SYSTEM, subject_id=item.key, extra=edit_mark(item),
    )  # fmt: skip
    stale = NationalWorkItem.objects.get(pk=item.pk)
    stale.version = 1

    with pytest.raises(StaleEdit) as raised:
        edit_claim(instance=stale, seen=seen, shown=shown, subject=(SubjectType.SYSTEM, "K-1"))

    error = raised.value
    assert error.changed_by == "山田 花子" and error.changed_at == event.occurred_at
    assert [(c.label, c.before, c.after) for c in error.changes] == [
        ("状態", "未解決", "解決済み"),
        ("解決の内容", "", "表記を修正"),
    ]
    at = timezone.localtime(event.occurred_at)
    assert error.message == (
        f"この記録は {at:%H:%M} に 山田 花子 さんが更新しました。"
        "変更点: 状態 未解決 → 解決済み、解決の内容 （なし） → 表記を修正。"
        "内容を確認してから、もう一度保存してください。"
    )


def test_a_forged_or_foreign_snapshot_is_ignored_but_the_version_still_counts(item):
    other = NationalWorkItem.objects.create(
        feed=Feed.SHUYAKU_PERSON, kind=WorkItemKind.CHARSET, key="K-2",
        message="外字", created_at=timezone.now(),
    )  # fmt: skip
    foreign = edit_token(instance=other, shown=shown)

    assert edit_seen(version=1, token=foreign, instance=item) == EditSeen(1)
    assert edit_seen(version=1, token=foreign[:-2] + "xx", instance=item) == EditSeen(1)
    assert edit_seen(version=1, token="", instance=item) == EditSeen(1)
    with pytest.raises(StaleEdit):
        edit_claim(instance=item, seen=EditSeen(7), shown=shown)
    item.refresh_from_db()
    assert item.version == 1


def test_an_older_day_is_said_with_its_date():
    error = StaleEdit(
        record="x:1", seen_version=1, current_version=2, changed_by="山田",
        changed_at=timezone.make_aware(dt.datetime(2026, 3, 30, 10, 42)),
    )  # fmt: skip
    assert error.message.startswith("この記録は 令和8年3月30日 10:42 に 山田 さんが更新しました。")
    assert "変更点" not in error.message
