"""What keeps data past its date (保存の継続): the job erases a person or a file only when
nothing still needs them."""

import pytest
from django.utils import timezone

from kokuho.accounts.permissions import Role
from kokuho.core.purposes import Purpose
from kokuho.eligibility.events import ChangeEvent, ChangeType, event_apply
from kokuho.identity.services import my_number_masked
from kokuho.people.models import Household, Person
from kokuho.people.registry import ResidentData
from kokuho.retention.models import DataClass
from kokuho.retention.selectors import retention_plan
from kokuho.retention.services import retention_run
from kokuho.retention.tests.builders import (
    D,
    arrive,
    at,
    depart,
    facility_move_out,
    import_file,
    register_numbers,
    upload,
    upload_exists,
)
from kokuho.testing import make_staff

pytestmark = pytest.mark.django_db(databases=["default", "vault"])

AS_OF = D(2026, 3, 1)


def _skipped(data_class: DataClass) -> dict[str, int]:
    plan = retention_plan(as_of=AS_OF)
    return next(c.skipped for c in plan.classes if c.rule.data_class == data_class)


def test_a_person_with_current_eligibility_is_never_erased():
    # Left for a 住所地特例 facility in 2010: not a resident for 16 years, nothing recorded
    # since — but still insured here.
    person = facility_move_out(arrive(moved_in=D(2009, 4, 1)), on=D(2010, 4, 1))
    register_numbers(person)
    clerk = make_staff(role=Role.ELIGIBILITY)
    run = retention_run(as_of=timezone.localdate())
    assert run.counts[DataClass.RECORDS] == 0 and run.counts[DataClass.MY_NUMBER] == 0
    assert Person.objects.filter(pk=person.pk).exists()
    masked = my_number_masked(
        actor=clerk, atena_no=person.atena_no, purpose=Purpose.NHI_ELIGIBILITY
    )
    assert masked is not None


def test_the_number_of_a_head_whose_household_is_still_insured_is_kept():
    # The head left NHI for employee insurance in 2015; the wife is still insured. The head
    # is now the 擬制世帯主, and the household's 事務 still use the head's number.
    head = arrive(moved_in=D(2009, 4, 1))
    wife = arrive(moved_in=D(2009, 4, 1), household_no=head.household.household_no, relation="妻")
    joined = D(2015, 4, 1)
    event = ChangeEvent(ChangeType.EMPLOYEE_INSURANCE_JOIN, joined, joined, head.atena_no)
    event_apply(event, recorded_at=at(joined), actor=None)
    register_numbers(head, wife)
    clerk = make_staff(role=Role.ELIGIBILITY)
    plan = retention_plan(as_of=AS_OF)
    mine = next(c for c in plan.classes if c.rule.data_class == DataClass.MY_NUMBER)
    assert (mine.count, mine.skipped) == (0, {"household_head": 1})
    assert retention_run(as_of=AS_OF).counts[DataClass.MY_NUMBER] == 0
    masked = my_number_masked(actor=clerk, atena_no=head.atena_no, purpose=Purpose.NHI_ELIGIBILITY)
    assert masked is not None


def test_a_household_member_still_retained_keeps_the_whole_household():
    head = arrive(moved_in=D(2009, 4, 1))
    spouse = arrive(moved_in=D(2009, 4, 1), household_no=head.household.household_no, relation="妻")
    depart(head, on=D(2012, 4, 1))  # the head left long ago; the spouse still lives here
    assert _skipped(DataClass.RECORDS) == {"group_retained": 1}
    run = retention_run(as_of=AS_OF)
    assert run.counts[DataClass.RECORDS] == 0
    assert Person.objects.filter(pk__in=[head.pk, spouse.pk]).count() == 2
    assert Household.objects.filter(pk=head.household_id).exists()


def test_a_household_whose_members_all_left_long_ago_goes_together():
    head = arrive(moved_in=D(2009, 4, 1))
    child = arrive(moved_in=D(2009, 4, 1), household_no=head.household.household_no, relation="子")
    depart(head, on=D(2012, 4, 1))
    depart(child, on=D(2013, 4, 1))
    run = retention_run(as_of=AS_OF)
    assert run.counts[DataClass.RECORDS] == 2
    assert not Person.objects.filter(pk__in=[head.pk, child.pk]).exists()
    assert not Household.objects.filter(pk=head.household_id).exists()


def test_a_number_still_held_keeps_the_persons_records(settings):
    settings.KOKUHO_RETENTION_MY_NUMBER_YEARS = 15  # the number outlives the records here
    person = depart(arrive(moved_in=D(2009, 4, 1)), on=D(2012, 4, 1))
    register_numbers(person)
    assert _skipped(DataClass.RECORDS) == {"my_number_held": 1}
    run = retention_run(as_of=AS_OF)
    assert run.counts[DataClass.RECORDS] == 0 and run.counts[DataClass.MY_NUMBER] == 0
    assert Person.objects.filter(pk=person.pk).exists()


def test_a_number_erased_in_the_same_run_frees_the_records():
    person = depart(arrive(moved_in=D(2009, 4, 1)), on=D(2012, 4, 1))
    register_numbers(person)
    plan = retention_plan(as_of=AS_OF)
    assert plan.count(DataClass.MY_NUMBER) == 1 and plan.count(DataClass.RECORDS) == 1
    run = retention_run(as_of=AS_OF)
    assert run.counts[DataClass.MY_NUMBER] == 1 and run.counts[DataClass.RECORDS] == 1
    assert not Person.objects.filter(pk=person.pk).exists()


def test_a_person_who_moves_back_during_the_run_is_kept():
    person = depart(arrive(moved_in=D(2009, 4, 1)), on=D(2012, 4, 1))
    back = D(2026, 2, 1)
    calls = []

    def move_back_once_planned(data_class, done, total):
        # Between the plan of the records class and its first chunk, the person returns
        # (a 転入 committed by the importer while the job runs).
        calls.append(data_class)
        if calls.count(DataClass.RECORDS) == 1 and data_class == DataClass.RECORDS:
            assert (done, total) == (0, 1)
            data = ResidentData(
                person.atena_no, person.name, person.name_kana, person.birth_date, 1, "本町"
            )
            event = ChangeEvent(
                ChangeType.MOVE_IN, back, back, person.atena_no, "7999999999", "世帯主", data
            )
            event_apply(event, recorded_at=at(back), actor=None)

    run = retention_run(as_of=AS_OF, on_progress=move_back_once_planned)
    assert run.counts[DataClass.RECORDS] == 0
    person.refresh_from_db()
    assert person.resident_until is None


def test_an_upload_shared_with_a_younger_request_is_kept():
    clerk = make_staff(role=Role.ELIGIBILITY)
    old = upload(finished=at(D(2024, 5, 1)), by=clerk, content=b"same file\n")
    young = upload(finished=at(D(2025, 6, 1)), by=clerk, content=b"same file\n")
    assert old.stored_name == young.stored_name
    run = retention_run(as_of=AS_OF)
    assert run.counts[DataClass.INTERFACE_UPLOADS] == 0
    assert upload_exists(old)


def test_an_upload_of_a_request_still_queued_is_kept():
    clerk = make_staff(role=Role.ELIGIBILITY)
    done = upload(finished=at(D(2024, 5, 1)), by=clerk, content=b"again\n")
    queued = upload(finished=None, by=clerk, content=b"again\n")
    run = retention_run(as_of=AS_OF)
    assert run.counts[DataClass.INTERFACE_UPLOADS] == 0
    assert upload_exists(done) and upload_exists(queued)


def test_the_ledger_of_an_import_still_running_is_kept():
    clerk = make_staff(role=Role.ELIGIBILITY)
    file = import_file(started=at(D(2012, 1, 10)), records=2)
    upload(finished=None, by=clerk, file=file)
    run = retention_run(as_of=AS_OF)
    assert run.counts[DataClass.INTERFACE_LEDGER] == 0


def test_a_pending_subject_request_keeps_the_persons_number_and_records():
    from kokuho.subject_requests.models import RequesterKind, RequestKind
    from kokuho.subject_requests.services import subject_request_decide, subject_request_receive

    person = depart(arrive(moved_in=D(2009, 4, 1)), on=D(2012, 4, 1))
    register_numbers(person)
    clerk = make_staff(role=Role.ELIGIBILITY)
    request = subject_request_receive(
        kind=RequestKind.DISCLOSURE,
        atena_no=person.atena_no,
        received_on=timezone.localdate(),
        requester=RequesterKind.SELF,
        identity_documents="運転免許証",
        details="全部",
        actor=clerk,
    )
    run = retention_run(as_of=AS_OF)
    assert run.counts[DataClass.MY_NUMBER] == 0 and run.counts[DataClass.RECORDS] == 0
    assert Person.objects.filter(pk=person.pk).exists()
    # Once answered, the next run erases as usual.
    subject_request_decide(
        request=request,
        outcome="disclosed",
        decided_on=timezone.localdate(),
        reason="",
        actor=clerk,
    )
    run = retention_run(as_of=AS_OF)
    assert run.counts[DataClass.MY_NUMBER] == 1 and run.counts[DataClass.RECORDS] == 1
