"""Purpose-bound use of My Number: who may register, see masked, reveal and look up — and
that every refusal is recorded and no number leaves the vault in clear."""

import json

import pytest
from django.db import connections

from kokuho.accounts.permissions import Role
from kokuho.audit.models import AuditEvent, EventType
from kokuho.core.purposes import Purpose
from kokuho.identity.checks import IdentityCheck, NumberCheck
from kokuho.identity.models import IdentityLink
from kokuho.identity.services import (
    MyNumberRefused,
    VaultError,
    my_number_look_up,
    my_number_masked,
    my_number_register,
    my_number_reveal,
    vault_keys_rotate,
)
from kokuho.identity.tests.conftest import Verified, synthetic_my_number
from kokuho.testing import make_person, make_staff

pytestmark = pytest.mark.django_db(databases=["default", "vault"])


def _register(actor, person, number, purpose=Purpose.NHI_ELIGIBILITY):
    return my_number_register(
        actor=actor,
        atena_no=person.atena_no,
        my_number=number,
        purpose=purpose,
        number_check=NumberCheck.MY_NUMBER_CARD,
        identity_checks=[IdentityCheck.MY_NUMBER_CARD],
    )


def _events(kind):
    return list(AuditEvent.objects.filter(event_type=kind).order_by("seq"))


def _all_audit_text():
    return " ".join(str(e.extra) + e.subject_id for e in AuditEvent.objects.all())


def test_registration_links_the_person_and_records_the_checks_without_the_number():
    clerk, person, number = make_staff(role=Role.ELIGIBILITY), make_person(), synthetic_my_number()
    done = _register(clerk, person, number)
    assert done.masked == f"**** **** {number[-4:]}"
    link = IdentityLink.objects.using("vault").get(atena_no=person.atena_no)
    assert link.integrated_no == done.integrated_no and link.number_check == "my_number_card"
    assert link.identity_checks == ["my_number_card"] and link.registered_by == clerk.username
    assert number.encode() not in bytes(link.ciphertext)
    (event,) = _events(EventType.MY_NUMBER_REGISTERED)
    assert event.subject_id == person.atena_no and event.purpose == "nhi_eligibility"
    assert number not in _all_audit_text()


@pytest.mark.parametrize(
    ("role", "purpose"),
    [
        (Role.ELIGIBILITY, "tax_assessment"),  # not an allowed 事務 at all
        (Role.ELIGIBILITY, Purpose.INFO_LINKAGE_QUERY),  # allowed 事務, but not for 取得
        (Role.BENEFITS, Purpose.NHI_ELIGIBILITY),  # not this role's 事務
        (Role.COUNTER, Purpose.NHI_ELIGIBILITY),  # role's 事務, but no right to change
        (Role.ADMINISTRATOR, Purpose.NHI_ELIGIBILITY),  # no resident data at all
    ],
)
def test_registration_outside_an_allowed_purpose_and_role_is_refused_and_logged(role, purpose):
    actor, person = make_staff(role=role), make_person()
    with pytest.raises(MyNumberRefused):
        _register(actor, person, synthetic_my_number(), purpose=purpose)
    assert not IdentityLink.objects.using("vault").exists()
    (refusal,) = _events(EventType.MY_NUMBER_REFUSED)
    assert refusal.actor_id == actor.pk and refusal.extra["action"] == "register"
    assert refusal.extra["purpose"] == str(purpose)


def test_a_wrong_check_digit_is_refused_without_echoing_the_input():
    clerk, person = make_staff(role=Role.ELIGIBILITY), make_person()
    number = synthetic_my_number()
    wrong = number[:11] + str((int(number[11]) + 1) % 10)
    with pytest.raises(VaultError) as error:
        _register(clerk, person, wrong)
    assert wrong not in str(error.value) and "検査用数字" in str(error.value)


def test_one_number_one_person():
    clerk = make_staff(role=Role.ELIGIBILITY)
    first, second = make_person(), make_person()
    number = synthetic_my_number()
    _register(clerk, first, number)
    with pytest.raises(VaultError, match="別の住民"):
        _register(clerk, second, number)
    with pytest.raises(VaultError, match="別の個人番号"):
        _register(clerk, first, synthetic_my_number())


def test_reveal_needs_the_right_mfa_and_a_reason_and_is_recorded():
    clerk, person, number = make_staff(role=Role.ELIGIBILITY), make_person(), synthetic_my_number()
    _register(clerk, person, number)
    with pytest.raises(MyNumberRefused, match="二要素認証"):
        my_number_reveal(
            actor=clerk, atena_no=person.atena_no, purpose=Purpose.NHI_ELIGIBILITY, reason="照会"
        )
    with Verified(clerk):
        with pytest.raises(MyNumberRefused, match="理由"):
            my_number_reveal(
                actor=clerk, atena_no=person.atena_no, purpose=Purpose.NHI_ELIGIBILITY, reason=""
            )
        shown = my_number_reveal(
            actor=clerk,
            atena_no=person.atena_no,
            purpose=Purpose.NHI_ELIGIBILITY,
            reason="情報照会の確認",
        )
    assert shown == number
    (event,) = _events(EventType.MY_NUMBER_REVEALED)
    assert event.extra["reason"] == "情報照会の確認" and event.purpose == "nhi_eligibility"
    assert [e.extra["action"] for e in _events(EventType.MY_NUMBER_REFUSED)] == [
        "reveal",
        "reveal",
    ]
    assert number not in _all_audit_text()


def test_a_role_without_the_reveal_right_sees_the_masked_form_only():
    clerk, counter = make_staff(role=Role.ELIGIBILITY), make_staff(role=Role.COUNTER)
    person, number = make_person(), synthetic_my_number()
    _register(clerk, person, number)
    masked = my_number_masked(actor=counter, atena_no=person.atena_no, purpose="nhi_eligibility")
    assert masked == f"**** **** {number[-4:]}"
    with Verified(counter), pytest.raises(MyNumberRefused):
        my_number_reveal(
            actor=counter, atena_no=person.atena_no, purpose="nhi_eligibility", reason="確認"
        )
    auditor = make_staff(role=Role.AUDITOR)
    with pytest.raises(MyNumberRefused):
        my_number_masked(actor=auditor, atena_no=person.atena_no, purpose="nhi_eligibility")


def test_look_up_by_number_finds_the_person_and_logs_no_number():
    clerk, person, number = make_staff(role=Role.ELIGIBILITY), make_person(), synthetic_my_number()
    _register(clerk, person, number)
    spaced = f"{number[:4]} {number[4:8]} {number[8:]}"
    assert my_number_look_up(actor=clerk, my_number=spaced, purpose="nhi_eligibility") == (
        person.atena_no
    )
    assert (
        my_number_look_up(actor=clerk, my_number=synthetic_my_number(), purpose="nhi_eligibility")
        is None
    )
    assert [e.extra["found"] for e in _events(EventType.MY_NUMBER_LOOKED_UP)] == [True, False]
    assert number not in _all_audit_text()


def test_rotation_keeps_every_number_readable_and_retires_the_old_key(vault_key_file):
    clerk = make_staff(role=Role.ELIGIBILITY)
    people = [make_person() for _ in range(3)]
    numbers = [synthetic_my_number() for _ in people]
    for person, number in zip(people, numbers, strict=True):
        _register(clerk, person, number)
    old = set(IdentityLink.objects.using("vault").values_list("kek_id", flat=True))
    done = vault_keys_rotate(retire_old=True, chunk=2)
    assert done.rewrapped == 3 and set(done.retired) == old
    assert set(IdentityLink.objects.using("vault").values_list("kek_id", flat=True)) == {
        done.new_kek_id
    }
    assert done.new_kek_id in vault_key_file.read_text() and not old & set(
        json.loads(vault_key_file.read_text())["keks"]
    )
    with Verified(clerk):
        for person, number in zip(people, numbers, strict=True):
            assert (
                my_number_reveal(
                    actor=clerk, atena_no=person.atena_no, purpose="nhi_eligibility", reason="点検"
                )
                == number
            )


def test_the_business_database_holds_no_number_after_registration():
    clerk = make_staff(role=Role.ELIGIBILITY)
    numbers = []
    for _ in range(3):
        number = synthetic_my_number()
        _register(clerk, make_person(), number)
        numbers.append(number)
    dump = _database_text("default")
    assert not [n for n in numbers if n in dump]
    assert all(n not in _database_text("vault") for n in numbers)


def _database_text(alias: str) -> str:
    """Every table's rows as text (the vault's binary columns as hex and raw bytes)."""
    connection = connections[alias]
    parts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        raw = bytes(value)
                        parts.append(raw.hex() + raw.decode("latin-1"))
                    else:
                        parts.append(str(value))
    return "\n".join(parts)


def test_erasure_destroys_the_row_and_records_only_the_rule_and_count():
    clerk = make_staff(role=Role.ELIGIBILITY)
    kept, gone = make_person(), make_person()
    _register(clerk, kept, synthetic_my_number())
    _register(clerk, gone, synthetic_my_number())
    from kokuho.identity.services import my_numbers_erase

    assert my_numbers_erase(atena_nos=[gone.atena_no, "unknown"], rule="5年経過") == 1
    assert list(IdentityLink.objects.using("vault").values_list("atena_no", flat=True)) == [
        kept.atena_no
    ]
    (event,) = _events(EventType.MY_NUMBER_ERASED)
    assert event.extra == {"rule": "5年経過", "erased": 1}
    assert my_number_masked(actor=clerk, atena_no=gone.atena_no, purpose="nhi_eligibility") is None
