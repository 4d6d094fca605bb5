"""Optimistic locking of the 給付 counter edits (`core.concurrency`): 減免 decide and extend,
給付の申請 attachments and decide. A stale version → `StaleEdit`, nothing written; the
version seen → the write and version + 1."""

import datetime as dt

import pytest

from kokuho.benefits.lifecycle.models import ApplicationStatus, BenefitApplication, BenefitDecision
from kokuho.benefits.lifecycle.selectors import benefit_application_shown
from kokuho.benefits.lifecycle.services import (
    benefit_application_register,
    benefit_attachments_receive,
    benefit_decide,
)
from kokuho.benefits.reduction.models import CopayReductionApplication, CopayReductionDecision
from kokuho.benefits.reduction.selectors import copay_reduction_application_shown
from kokuho.benefits.reduction.services import (
    copay_reduction_decide,
    copay_reduction_extend,
    copay_reduction_register,
)
from kokuho.core.concurrency import EditSeen, StaleEdit, edit_seen, edit_token
from kokuho.payments.models import Benefit
from kokuho.payments.services import AccountInput
from kokuho.testing import make_insured, make_staff

pytestmark = pytest.mark.django_db


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


def _seen(instance, shown):
    token = edit_token(instance=instance, shown=shown)
    return edit_seen(version=instance.version, token=token, instance=instance)


# --- 減免 ------------------------------------------------------------------------------------


def test_a_reduction_decided_on_the_version_seen_is_kept_and_counts_one_up(head):
    application = _reduction(head)
    decision = copay_reduction_decide(application=application, actor=make_staff(), seen=EditSeen(1))
    application.refresh_from_db()
    assert application.version == 2 and decision.result == "exemption"


def test_a_second_clerk_deciding_a_decided_reduction_is_told_what_changed(head):
    application = _reduction(head)
    seen = _seen(application, copay_reduction_application_shown)  # both clerks open it
    copay_reduction_decide(application=application, actor=make_staff(), seen=seen)

    stale = CopayReductionApplication.objects.get(pk=application.pk)
    with pytest.raises(StaleEdit) as raised:
        copay_reduction_decide(application=stale, actor=make_staff(), seen=seen)

    assert [(c.label, c.before, c.after) for c in raised.value.changes] == [
        ("決定区分", "審査中", "免除 令和8年4月1日〜令和8年6月30日"),
        ("決定の件数", "0件", "1件"),
    ]
    assert raised.value.changed_by == "試験 職員"
    assert CopayReductionDecision.objects.count() == 1


def test_two_extensions_of_one_decision_cannot_both_be_kept(head):
    first = copay_reduction_decide(application=_reduction(head), actor=make_staff())
    seen = EditSeen(first.application.version)
    one = CopayReductionDecision.objects.get(pk=first.pk)  # each clerk's own copy
    two = CopayReductionDecision.objects.get(pk=first.pk)
    copay_reduction_extend(decision=one, actor=make_staff(), months=3, seen=seen)

    with pytest.raises(StaleEdit):
        copay_reduction_extend(decision=two, actor=make_staff(), months=6, seen=seen)

    assert CopayReductionDecision.objects.filter(extends=first).get().months == 3
    assert CopayReductionApplication.objects.get(pk=first.application_id).version == 3


# --- 給付の申請 -------------------------------------------------------------------------------


def test_attachments_received_on_the_version_seen_are_kept_and_count_one_up(head):
    application = _funeral(head)
    benefit_attachments_receive(
        application=application, codes=["funeral_proof"], actor=make_staff(), seen=EditSeen(1)
    )
    application.refresh_from_db()
    assert application.version == 2 and application.attachments == {"funeral_proof": True}


def test_a_stale_copy_cannot_overwrite_the_attachments_another_clerk_received(head):
    application = _funeral(head)
    mine = BenefitApplication.objects.get(pk=application.pk)
    theirs = BenefitApplication.objects.get(pk=application.pk)
    benefit_attachments_receive(application=theirs, codes=["funeral_proof"], actor=make_staff())

    with pytest.raises(StaleEdit) as raised:  # loaded before: would write {applicant_id} only
        benefit_attachments_receive(application=mine, codes=["applicant_id"], actor=make_staff())

    application.refresh_from_db()
    assert application.attachments == {"funeral_proof": True} and application.version == 2
    assert raised.value.current_version == 2


def test_a_second_decision_of_an_application_is_a_conflict_saying_what_changed(head):
    application = _funeral(head, attachments={"funeral_proof": True, "applicant_id": True})
    seen = _seen(application, benefit_application_shown)
    benefit_decide(application=application, actor=make_staff(), seen=seen)
    application.refresh_from_db()
    assert (application.status, application.version) == (ApplicationStatus.DECIDED, 2)

    stale = BenefitApplication.objects.get(pk=application.pk)
    with pytest.raises(StaleEdit) as raised:
        benefit_decide(application=stale, actor=make_staff(), seen=seen)

    assert [(c.label, c.before, c.after) for c in raised.value.changes] == [
        ("状態", "審査中", "決定済み"),
        ("決定", "未決定", "支給 30,000円"),
    ]
    assert BenefitDecision.objects.count() == 1
