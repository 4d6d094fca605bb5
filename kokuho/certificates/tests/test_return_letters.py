"""返還のお願い: the letter to the 世帯主 for invalidated 資格確認書 and 認定証 — drawn and read
back, who gets one after a 転出, and that a card is written about once."""

import datetime as dt
import io

import pytest
from django.utils import timezone
from pypdf import PdfReader

from kokuho.audit.models import AuditEvent, EventType, SubjectType
from kokuho.certificates.models import Delivery, IssuedDocument, IssueReason, MynaStatus
from kokuho.certificates.return_letters import (
    TITLE,
    LetterAddressee,
    LetterDocument,
    ReturnLetter,
    return_letters_due,
    return_letters_due_count,
    return_letters_pdf,
    return_letters_print,
)
from kokuho.certificates.services import (
    basic_document_issue,
    document_return_record,
    myna_status_record,
)
from kokuho.core.wareki import format_wareki
from kokuho.eligibility.events import ChangeEvent, ChangeType, event_apply
from kokuho.people.models import Person
from kokuho.testing import make_insured, make_staff

D = dt.date
TODAY = timezone.localdate
CONTACT = "みかん市役所 保険年金課 国保係 電話 089-000-0000"


def _document(n: int, *, name: str = "給付 花子") -> LetterDocument:
    return LetterDocument(
        serial=f"KA2026-{n:07d}",
        title="資格確認書",
        holder_name=name,
        invalid_from=D(2026, 10, 31),
        invalid_reason="資格喪失",
    )


def _letter(documents, *, name: str = "給付 太郎", no: str = "HK20261125-0000001"):
    return ReturnLetter(
        letter_no=no,
        issued_on=D(2026, 11, 25),
        addressee=LetterAddressee("799-0001", "みかん市本町1丁目1番地1", name),
        documents=tuple(documents),
    )


def _pages(content: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


def _render(letters) -> bytes:
    return return_letters_pdf(letters, municipality="みかん市", contact=CONTACT)


# --- Drawing --------------------------------------------------------------------------------


def test_a_letter_is_one_page_with_the_addressee_the_cards_and_wareki_dates():
    documents = [_document(1), _document(2, name="給付 次郎")]
    pages = _pages(_render([_letter(documents)]))
    assert len(pages) == 1
    text = pages[0]
    assert TITLE in text
    assert "〒799-0001" in text
    assert "みかん市本町1丁目1番地1" in text
    assert "給付 太郎　様" in text
    assert "KA2026-0000001" in text and "KA2026-0000002" in text
    assert "給付 花子" in text and "給付 次郎" in text
    assert format_wareki(D(2026, 10, 31)) in text  # 無効となった日
    assert format_wareki(D(2026, 11, 25)) in text  # the letter's date
    assert "資格喪失" in text
    assert "使うことはできません" in text
    assert "郵送" in text and "窓口" in text
    assert CONTACT in text


def test_each_letter_starts_a_new_page():
    letters = [_letter([_document(1)], no="HK1"), _letter([_document(2)], name="国保 一郎")]
    pages = _pages(_render(letters))
    assert len(pages) == 2
    assert "給付 太郎" in pages[0] and "国保 一郎" in pages[1]


def test_many_cards_continue_on_a_second_page_with_the_table_header():
    pages = _pages(_render([_letter([_document(n) for n in range(1, 41)])]))
    assert len(pages) >= 2
    assert f"{TITLE}（続き）" in pages[1]
    assert "交付番号" in pages[1]  # the header is repeated
    assert "給付 太郎　様" in pages[1]
    assert "1/" in pages[0] and f"{len(pages)}/{len(pages)}" in pages[-1]
    every = "".join(pages)
    assert all(f"KA2026-{n:07d}" in every for n in range(1, 41))


def test_a_character_outside_the_font_is_refused():
    with pytest.raises(ValueError, match="フォントにない文字"):
        _render([_letter([_document(1)], name="給付 \U000e0100太郎")])


def test_a_my_number_shaped_number_is_refused():
    with pytest.raises(ValueError, match="個人番号"):
        _render([_letter([_document(1, name="123456789018")])])


def test_a_letter_without_cards_is_refused():
    with pytest.raises(ValueError, match="返還を求める証がありません"):
        _render([_letter([])])


# --- Who gets a letter ----------------------------------------------------------------------


def _issue(person):
    return basic_document_issue(
        person=person, on=TODAY(), reason=IssueReason.NEW, delivery=Delivery.COUNTER, actor=None
    )


def _move_out(person):
    event_apply(
        ChangeEvent(ChangeType.MOVE_OUT, TODAY(), TODAY(), person.atena_no),
        recorded_at=timezone.now(),
        actor=None,
    )


def _household():
    """A 世帯主 and a child, both insured, with the names told apart."""
    head = make_insured(birth_date=D(1970, 1, 1))
    child = make_insured(
        birth_date=D(2000, 1, 1), household_no=head.household.household_no, relation="子"
    )
    Person.objects.filter(pk=head.pk).update(name="世帯 主雄")
    Person.objects.filter(pk=child.pk).update(name="世帯 子美")
    head.refresh_from_db()
    child.refresh_from_db()
    assert head.household.head_id == head.pk
    return head, child


@pytest.mark.django_db
def test_after_a_move_out_the_head_gets_one_letter_for_the_kakuninsho():
    head, child = _household()
    card = _issue(child)
    _issue(head)
    _move_out(child)
    due = return_letters_due()
    assert len(due) == 1
    assert due[0].addressee == head
    assert [d.serial for d in due[0].documents] == [card.serial]
    assert return_letters_due_count() == 1

    content, count = return_letters_print(actor=make_staff())
    assert count == 1
    text = "".join(_pages(content))
    assert "世帯 主雄　様" in text
    assert card.serial in text
    assert "世帯 子美" in text  # the holder
    card.refresh_from_db()
    assert card.return_letter_on == TODAY()


@pytest.mark.django_db
def test_a_household_without_head_writes_to_the_holder():
    person = make_insured()
    card = _issue(person)
    _move_out(person)
    household = person.household
    household.head = None
    household.save(update_fields=["head"])
    (due,) = return_letters_due()
    assert due.addressee == person
    assert due.documents == (card,)


@pytest.mark.django_db
def test_an_oshirase_is_never_asked_back():
    person = make_insured()
    myna_status_record(person=person, status=MynaStatus.REGISTERED, as_of=TODAY(), actor=None)
    _issue(person)
    _move_out(person)
    assert return_letters_due() == []
    assert return_letters_print(actor=None) == (b"", 0)
    assert not AuditEvent.objects.filter(event_type=EventType.CERTIFICATE_PRINTED).exists()


@pytest.mark.django_db
def test_a_returned_card_is_not_written_about():
    person = make_insured()
    card = _issue(person)
    _move_out(person)
    card.refresh_from_db()
    document_return_record(card, returned_on=TODAY(), actor=None)
    assert return_letters_due() == []
    assert return_letters_due_count() == 0


@pytest.mark.django_db
def test_printing_twice_does_not_write_about_the_same_card_twice():
    first_person = make_insured()
    first_card = _issue(first_person)
    _move_out(first_person)
    content, count = return_letters_print(actor=None)
    assert count == 1 and first_card.serial in "".join(_pages(content))
    assert return_letters_print(actor=None) == (b"", 0)

    second_person = make_insured()
    second_card = _issue(second_person)
    _move_out(second_person)
    content, count = return_letters_print(actor=None)
    assert count == 1
    text = "".join(_pages(content))
    assert second_card.serial in text
    assert first_card.serial not in text


@pytest.mark.django_db
def test_the_print_is_audited_once_with_the_counts():
    head, child = _household()
    _issue(child)
    _issue(head)
    _move_out(child)
    _move_out(head)
    staff = make_staff()
    _content, count = return_letters_print(actor=staff)
    assert count == 1  # one household, one letter
    assert IssuedDocument.objects.filter(return_letter_on=TODAY()).count() == 2
    (event,) = AuditEvent.objects.filter(event_type=EventType.CERTIFICATE_PRINTED)
    assert event.actor == staff
    assert event.subject_type == SubjectType.SYSTEM
    assert event.extra == {"kind": "return_letters", "letters": 1, "documents": 2}


@pytest.mark.django_db
def test_the_limit_leaves_the_rest_for_the_next_print():
    for _ in range(3):
        person = make_insured()
        _issue(person)
        _move_out(person)
    _content, count = return_letters_print(actor=None, limit=2)
    assert count == 2
    assert return_letters_due_count() == 1
    _content, count = return_letters_print(actor=None)
    assert count == 1


@pytest.mark.django_db
def test_a_character_outside_the_font_in_the_registry_prints_its_substitute():
    person = make_insured()
    _issue(person)
    _move_out(person)
    Person.objects.filter(pk=person.pk).update(name="\U00020bb7田 太郎")  # 𠮷田
    content, count = return_letters_print(actor=None)
    assert count == 1
    assert "吉田 太郎　様" in "".join(_pages(content))


@pytest.mark.django_db
def test_a_letter_that_cannot_be_drawn_marks_nothing():
    person = make_insured()
    _issue(person)
    _move_out(person)
    Person.objects.filter(pk=person.pk).update(address="みかん市本町123456789018")
    with pytest.raises(ValueError, match="個人番号"):
        return_letters_print(actor=None)
    assert not IssuedDocument.objects.filter(return_letter_on__isnull=False).exists()
    assert not AuditEvent.objects.filter(event_type=EventType.CERTIFICATE_PRINTED).exists()
