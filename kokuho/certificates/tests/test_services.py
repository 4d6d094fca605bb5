"""Issuing, reissuing, invalidating and returning documents, through the real services and
the real 届出 path (`event_apply`)."""

import datetime as dt
import io

import pytest
from django.utils import timezone
from pypdf import PdfReader

from kokuho.audit.models import AuditEvent, EventType
from kokuho.certificates.models import (
    ApplicationStatus,
    Delivery,
    DocumentStatus,
    DocumentType,
    InvalidReason,
    IssuedDocument,
    IssueReason,
    MynaStatus,
)
from kokuho.certificates.services import (
    DocumentError,
    basic_document_issue,
    certificate_apply,
    certificate_reissue,
    document_return_record,
    documents_reconcile,
    myna_status_record,
    serials_take,
)
from kokuho.eligibility.events import ChangeEvent, ChangeType, event_apply
from kokuho.people.income import IncomeValues, income_record
from kokuho.testing import make_insured, make_staff

pytestmark = pytest.mark.django_db

D = dt.date
TODAY = timezone.localdate


def _issue(person, *, reason=IssueReason.NEW, on=None, actor=None):
    return basic_document_issue(
        person=person,
        on=on or TODAY(),
        reason=reason,
        delivery=Delivery.COUNTER,
        actor=actor,
    )


def _income(person, year, **values):
    base = {
        "total_income": 3_000_000,
        "taxable": 2_000_000,
        "tax_exempt": False,
        "revenue": 4_500_000,
    }
    income_record(
        person=person,
        income_year=year,
        values=IncomeValues(**(base | values)),
        reported_on=D(year + 1, 6, 1),
        recorded_at=timezone.now(),
    )


def test_counter_issues_a_kakuninsho_with_the_printed_items():
    person = make_insured(birth_date=D(1980, 5, 10))
    staff = make_staff()
    document = _issue(person, actor=staff)
    assert document.doc_type == DocumentType.KAKUNINSHO  # no マイナ保険証 status known
    assert document.status == DocumentStatus.VALID
    assert document.serial.startswith(f"KA{TODAY().year}-")
    numbers = person.branch_numbers.select_related("household_number").get()
    printed = document.printed
    assert printed["symbol"] == numbers.household_number.symbol
    assert printed["number"] == numbers.household_number.number
    assert printed["branch"] == numbers.branch
    assert printed["name"] == person.name
    assert printed["birth_date"] == "1980-05-10"
    assert printed["copay_rate"] == "3割"
    assert printed["address"] == person.address
    assert document.issued_by == staff
    event = AuditEvent.objects.filter(event_type=EventType.CERTIFICATE_ISSUED).get()
    assert event.subject_id == person.atena_no
    assert event.extra["serial"] == document.serial


def test_registered_myna_gets_the_oshirase_and_a_request_gets_the_card():
    person = make_insured()
    myna_status_record(person=person, status=MynaStatus.REGISTERED, as_of=TODAY(), actor=None)
    first = _issue(person)
    assert first.doc_type == DocumentType.OSHIRASE
    assert first.valid_until is None  # under 70: no 有効期限
    myna_status_record(
        person=person,
        status=MynaStatus.REGISTERED,
        as_of=TODAY(),
        actor=None,
        kakuninsho_requested_on=TODAY(),
    )
    second = _issue(person, reason=IssueReason.CHANGE)
    assert second.doc_type == DocumentType.KAKUNINSHO
    first.refresh_from_db()
    assert first.status == DocumentStatus.INVALID
    assert first.invalid_reason == InvalidReason.CHANGE
    assert first.return_requested_on is None  # a お知らせ is not asked back
    assert second.replaces == first


def test_new_refused_while_a_valid_one_exists_and_reissue_replaces_it():
    person = make_insured()
    first = _issue(person)
    with pytest.raises(DocumentError, match="再交付"):
        _issue(person)
    again = _issue(person, reason=IssueReason.REISSUE)
    first.refresh_from_db()
    assert first.status == DocumentStatus.INVALID
    assert first.invalid_reason == InvalidReason.REISSUE
    assert first.return_requested_on == TODAY()  # a replaced card is asked back
    assert again.serial != first.serial
    assert again.replaces == first


def test_reissue_needs_a_valid_document():
    person = make_insured()
    with pytest.raises(DocumentError, match="新規交付"):
        _issue(person, reason=IssueReason.REISSUE)


def test_not_insured_gets_nothing():
    person = make_insured(moved_in=D(2020, 4, 1), moved_out=D(2021, 3, 31))
    with pytest.raises(DocumentError, match="資格がありません"):
        _issue(person)
    assert not IssuedDocument.objects.exists()


def test_move_out_invalidates_documents_and_asks_for_the_card_back():
    person = make_insured(moved_in=D(2024, 4, 1))
    card = _issue(person)
    _income(person, TODAY().year - 2, total_income=8_000_000)
    _income(person, TODAY().year - 1, total_income=8_000_000)
    _application, certificate = certificate_apply(
        person=person, doc_type=DocumentType.GENDOGAKU, applied_on=TODAY(), actor=None
    )
    assert certificate is not None
    leave = TODAY()
    event_apply(
        ChangeEvent(ChangeType.MOVE_OUT, leave, leave, person.atena_no),
        recorded_at=timezone.now(),
        actor=None,
    )
    for document in (card, certificate):
        document.refresh_from_db()
        assert document.status == DocumentStatus.INVALID
        assert document.invalid_reason == InvalidReason.LOST_ELIGIBILITY
        assert document.return_requested_on == TODAY()
    # The 喪失日 is the day after the last insured day (転出: the day of the move).
    assert card.invalid_from == leave


def test_oshirase_is_invalidated_without_a_return_request():
    person = make_insured()
    myna_status_record(person=person, status=MynaStatus.REGISTERED, as_of=TODAY(), actor=None)
    notice = _issue(person)
    event_apply(
        ChangeEvent(ChangeType.DEATH, TODAY(), TODAY(), person.atena_no),
        recorded_at=timezone.now(),
        actor=None,
    )
    notice.refresh_from_db()
    assert notice.status == DocumentStatus.INVALID
    assert notice.return_requested_on is None


def test_relocation_reissues_with_the_new_address():
    person = make_insured()
    card = _issue(person)
    event_apply(
        ChangeEvent(
            ChangeType.RELOCATION,
            TODAY(),
            TODAY(),
            person.atena_no,
            address="みかん市港町3-2-1",
            postal_code="799-0010",
        ),
        recorded_at=timezone.now(),
        actor=None,
    )
    card.refresh_from_db()
    assert card.status == DocumentStatus.INVALID
    assert card.invalid_reason == InvalidReason.CHANGE
    new = IssuedDocument.objects.get(replaces=card)
    assert new.reason == IssueReason.CHANGE
    assert new.delivery == Delivery.MAIL
    assert new.printed["address"] == "みかん市港町3-2-1"
    assert new.valid_until == card.valid_until


def test_reconcile_leaves_unchanged_documents_alone():
    person = make_insured()
    card = _issue(person)
    counts = documents_reconcile(persons=[person], on=TODAY(), actor=None)
    assert counts.as_dict() == {
        "invalidated": 0,
        "return_requested": 0,
        "reissued": 0,
        "unchanged": 1,
    }
    card.refresh_from_db()
    assert card.status == DocumentStatus.VALID
    assert IssuedDocument.objects.count() == 1


def test_reconcile_decides_holders_in_a_fixed_number_of_queries():
    """The daily job's first run looks at every holder of the city: 3 holders or 12 cost
    the same queries (one holder at a time was ~44 ms each at city scale)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(n: int) -> int:
        persons = [make_insured(birth_date=D(1953 + 4 * i, 5, 10)) for i in range(n)]
        for person in persons:
            _issue(person)
        with CaptureQueriesContext(connection) as captured:
            counts = documents_reconcile(persons=persons, on=TODAY(), actor=None)
        assert counts.unchanged == n
        return len(captured)

    assert queries(3) == queries(12)


def test_limit_certificate_refused_for_a_tax_exempt_household_is_kept():
    person = make_insured()
    year = TODAY().year
    for income_year in (year - 2, year - 1):
        _income(person, income_year, total_income=0, taxable=0, tax_exempt=True, revenue=0)
    application, document = certificate_apply(
        person=person, doc_type=DocumentType.GENDOGAKU, applied_on=TODAY(), actor=None
    )
    assert document is None
    assert application.status == ApplicationStatus.REFUSED
    assert "減額認定証" in application.refusal_reason
    application, document = certificate_apply(
        person=person,
        doc_type=DocumentType.GENGAKU,
        applied_on=TODAY(),
        actor=None,
        long_stay_days=95,
    )
    assert application.status == ApplicationStatus.APPROVED
    assert document.printed["category"] == "オ"
    assert document.printed["long_stay_from"] == TODAY().isoformat()
    assert document.valid_from == TODAY().replace(day=1)


def test_dialysis_of_an_upper_income_household_prints_20000():
    person = make_insured(birth_date=D(1975, 1, 1))
    year = TODAY().year
    for income_year in (year - 2, year - 1):
        _income(person, income_year, total_income=12_000_000)
    _application, document = certificate_apply(
        person=person,
        doc_type=DocumentType.TOKUTEI,
        applied_on=TODAY(),
        actor=None,
        disease="dialysis",
        opinion_received=True,
    )
    assert document.printed["category"] == "ア"
    assert document.printed["limit_amount"] == 20_000
    other = make_insured(birth_date=D(1975, 1, 1))
    for income_year in (year - 2, year - 1):
        _income(other, income_year, total_income=12_000_000)
    _application, hemophilia = certificate_apply(
        person=other,
        doc_type=DocumentType.TOKUTEI,
        applied_on=TODAY(),
        actor=None,
        disease="hemophilia",
        opinion_received=True,
    )
    assert hemophilia.printed["limit_amount"] == 10_000


def test_category_change_out_of_the_band_invalidates_the_certificate():
    person = make_insured()
    year = TODAY().year
    for income_year in (year - 2, year - 1):
        _income(person, income_year, total_income=8_000_000)
    _application, certificate = certificate_apply(
        person=person, doc_type=DocumentType.GENDOGAKU, applied_on=TODAY(), actor=None
    )
    # A 更正 makes the household tax-exempt from next month: the 限度額 certificate goes.
    income_record(
        person=person,
        income_year=year - 1 if TODAY().month >= 8 else year - 2,
        values=IncomeValues(total_income=0, taxable=0, tax_exempt=True, revenue=0),
        reported_on=TODAY(),
        recorded_at=timezone.now(),
    )
    next_month = (TODAY().replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    documents_reconcile(persons=[person], on=next_month, actor=None)
    certificate.refresh_from_db()
    assert certificate.status == DocumentStatus.INVALID
    assert certificate.invalid_reason == InvalidReason.NO_LONGER_ENTITLED
    assert certificate.return_requested_on == TODAY()


def test_certificate_reissue_keeps_validity_and_disease():
    person = make_insured()
    _application, document = certificate_apply(
        person=person,
        doc_type=DocumentType.TOKUTEI,
        applied_on=TODAY(),
        actor=None,
        disease="hiv",
        opinion_received=True,
    )
    again = certificate_reissue(document=document, on=TODAY(), actor=None)
    assert (again.valid_from, again.valid_until) == (document.valid_from, document.valid_until)
    assert again.printed["disease"] == document.printed["disease"]
    assert again.reason == IssueReason.REISSUE


def test_return_is_recorded_once():
    person = make_insured()
    card = _issue(person)
    document_return_record(card, returned_on=TODAY(), actor=None)
    card.refresh_from_db()
    assert card.status == DocumentStatus.RETURNED
    assert card.returned_on == TODAY()
    with pytest.raises(DocumentError, match="返還済み"):
        document_return_record(card, returned_on=TODAY(), actor=None)
    assert AuditEvent.objects.filter(event_type=EventType.CERTIFICATE_RETURNED).count() == 1


def test_serials_do_not_repeat():
    first = serials_take(DocumentType.KAKUNINSHO, 2026, 3)
    second = serials_take(DocumentType.KAKUNINSHO, 2026, 2)
    other_year = serials_take(DocumentType.KAKUNINSHO, 2027, 1)
    assert first == ["KA2026-0000001", "KA2026-0000002", "KA2026-0000003"]
    assert second == ["KA2026-0000004", "KA2026-0000005"]
    assert other_year == ["KA2027-0000001"]


def test_older_myna_status_does_not_overwrite_a_newer_one():
    person = make_insured()
    myna_status_record(person=person, status=MynaStatus.REGISTERED, as_of=TODAY(), actor=None)
    with pytest.raises(DocumentError, match="より新しい"):
        myna_status_record(
            person=person,
            status=MynaStatus.CANCELLED,
            as_of=TODAY() - dt.timedelta(days=3),
            actor=None,
        )


def test_a_name_outside_the_font_prints_its_substitute_and_keeps_the_original():
    person = make_insured()
    # 𠮷 has a usual 代替字; a 外字 of the registry's private area (U+E000) has none: 〓.
    person.name = "𠮷田 \ue000太郎"
    person.save(update_fields=["name"])
    card = _issue(person)
    assert card.printed["name"] == "吉田 〓太郎"
    # They head their own household: the 世帯主 line is substituted too.
    assert card.printed["head_name"] == "吉田 〓太郎"
    assert card.printed["originals"] == {"name": "𠮷田 \ue000太郎", "head_name": "𠮷田 \ue000太郎"}
    from kokuho.certificates.printing import documents_render

    text = "".join(
        page.extract_text()
        for page in PdfReader(io.BytesIO(documents_render([card], mailed=False))).pages
    )
    assert "吉田 〓太郎" in text


def test_the_category_is_printed_on_request_and_carried_over():
    person = make_insured()
    card = basic_document_issue(
        person=person,
        on=TODAY(),
        reason=IssueReason.NEW,
        delivery=Delivery.COUNTER,
        actor=None,
        show_category=True,
    )
    assert card.printed["show_category"] is True
    assert card.printed["category"] == "ア"  # no income reported: ア
    again = _issue(person, reason=IssueReason.REISSUE)  # no choice given: carried over
    assert again.printed.get("show_category") is True
    from kokuho.certificates.printing import document_print

    assert document_print(again, mailed=False).category == "ア"
    plain = make_insured()
    assert document_print(_issue(plain), mailed=False).category is None


def test_many_persons_at_once_are_decided_as_one_by_one(django_assert_max_num_queries):
    """The renewal's bulk path (`person_documents_many`) against the counter's, person by
    person: households of several members, 70–74 with incomes (割合 and 区分 are household
    decisions), a registered マイナ保険証, a person who left."""
    from kokuho.certificates.services import person_documents, person_documents_many
    from kokuho.people.models import Person

    head = make_insured(birth_date=D(1953, 4, 2))  # 73
    spouse = make_insured(
        birth_date=D(1955, 9, 9), household_no=head.household.household_no, relation="妻"
    )
    child = make_insured(
        birth_date=D(1990, 1, 1), household_no=head.household.household_no, relation="子"
    )
    alone = make_insured(birth_date=D(1980, 6, 6))
    gone = make_insured(moved_in=D(2020, 4, 1), moved_out=D(2024, 3, 31))
    year = TODAY().year
    for income_year in (year - 2, year - 1):
        _income(head, income_year, total_income=4_000_000, taxable=3_000_000)
        _income(spouse, income_year, total_income=0, taxable=0, tax_exempt=True, revenue=0)
        _income(alone, income_year, total_income=0, taxable=0, tax_exempt=True, revenue=0)
    myna_status_record(person=child, status=MynaStatus.REGISTERED, as_of=TODAY(), actor=None)
    persons = list(Person.objects.filter(pk__in=[head.pk, spouse.pk, child.pk, alone.pk, gone.pk]))
    with django_assert_max_num_queries(14):
        many = person_documents_many(persons=persons, on=TODAY())
    for person in persons:
        one = person_documents(person=person, on=TODAY())
        assert (many[person.pk].facts, many[person.pk].printed) == (one.facts, one.printed)
        assert many[person.pk].state == one.state
    assert many[head.pk].printed["copay_rate"] == "3割"  # 現役並み: the household decides
    assert not many[gone.pk].facts.insured
