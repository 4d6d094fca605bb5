"""Builders for tests: one line makes a household, a person or a staff member.

Kept inside the package (not under tests/) so every app's tests share one way of making
things; nothing here runs in production code paths.
"""

import itertools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.http import HttpRequest
from django.test import Client
from django.utils import timezone
from django_otp import login as otp_login
from django_otp.oath import TOTP

from kokuho.accounts.models import REQUIRED_COURSE, TrainingRecord
from kokuho.accounts.permissions import MFA_PERMISSIONS, ROLE_PERMISSIONS, Role
from kokuho.accounts.selectors import mfa_device_confirmed
from kokuho.accounts.services import mfa_device_create_confirmed, staff_create
from kokuho.core.append_only import sqlite_trigger_sql
from kokuho.core.kana import kana_search_key, normalize_kana_name
from kokuho.people.models import ChangeCode, Household, Person, PersonHistory, Relation, Sex

_numbers = itertools.count(1)
TEST_PASSWORD = "correct-horse-battery-9"  # noqa: S105 (test accounts only)


def make_household(
    *, household_no: str | None = None, formed_on: date = date(2020, 4, 1)
) -> Household:
    return Household.objects.create(
        household_no=household_no or f"9{next(_numbers):09d}", formed_on=formed_on
    )


def make_person(
    *,
    name: str = "山田 太郎",
    kana: str = "ヤマダ タロウ",
    birth_date: date = date(1960, 5, 10),
    sex: Sex = Sex.MALE,
    household: Household | None = None,
    relation: Relation = Relation.HEAD,
    atena_no: str | None = None,
    resident_from: date = date(2020, 4, 1),
    resident_until: date | None = None,
    **fields: Any,
) -> Person:
    household = household or make_household()
    stored_kana = normalize_kana_name(kana)
    person = Person.objects.create(
        atena_no=atena_no or f"8{next(_numbers):09d}",
        name=name,
        name_kana=stored_kana,
        kana_key=kana_search_key(stored_kana),
        birth_date=birth_date,
        sex=sex,
        address="愛媛県みかん市本町1丁目1番1号",
        postal_code="799-0001",
        household=household,
        relation=relation,
        resident_from=resident_from,
        resident_until=resident_until,
        **fields,
    )
    if relation == Relation.HEAD and household.head_id is None:
        household.head = person
        household.save(update_fields=["head"])
    PersonHistory.objects.create(
        person=person,
        change_code=ChangeCode.INITIAL_LOAD,
        change_date=resident_from,
        reported_on=resident_from,
        recorded_at=timezone.now(),
        source="test",
        snapshot={"name": name, "kana": stored_kana},
    )
    return person


def make_staff(
    *,
    role: Role | None = Role.COUNTER,
    username: str | None = None,
    valid_from: date = date(2020, 1, 1),
    valid_until: date | None = None,
    is_contractor: bool = False,
    trained: bool = True,
    mfa_device: bool | None = None,
) -> User:
    """A staff member as the house runs them: trained (特定個人情報の取扱い研修 valid today)
    and, for a role that needs a second factor, with a confirmed TOTP device — unless the
    test says otherwise (`trained=False`, `mfa_device=False`)."""
    user = staff_create(
        username=username or f"staff{next(_numbers)}",
        full_name="試験 職員",
        password=TEST_PASSWORD,
        roles=[role] if role else [],
        valid_from=valid_from,
        valid_until=valid_until,
        is_contractor=is_contractor,
    )
    today = timezone.localdate()
    if trained:
        # Straight to the table: the builder should not add audit events tests count.
        TrainingRecord.objects.create(
            user=user,
            course=REQUIRED_COURSE,
            completed_on=today - timedelta(days=30),
            expires_on=today + timedelta(days=335),
        )
    if mfa_device is None:
        mfa_device = role is not None and bool(ROLE_PERMISSIONS[role] & MFA_PERMISSIONS)
    if mfa_device:
        mfa_device_create_confirmed(user=user)
    return user


def totp_code(user: User) -> str:
    """The code the staff member's authenticator app shows now (from the device's key)."""
    device = mfa_device_confirmed(user=user)
    if device is None:
        raise ValueError(f"{user.username} has no confirmed TOTP device")
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():0{device.digits}d}"


def login_verified(client: Client, user: User) -> None:
    """Log the client in as `user` with the session already past the second factor (as
    after a correct TOTP code), for tests about something else than logging in."""
    client.force_login(user)
    device = mfa_device_confirmed(user=user)
    if device is None:
        return
    request = HttpRequest()
    request.session = client.session
    request.user = user
    otp_login(request, device)
    request.session.save()


@contextmanager
def append_only_bypassed(table: str) -> Iterator[Any]:
    """A cursor with `table`'s append-only trigger off, for tests that tamper with rows on
    purpose (as an attacker with database access would); the trigger is back afterwards."""
    trigger = f"{table}_append_only"
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Deferred foreign-key checks of the rows just written must fire first: PostgreSQL
            # will not alter a table with trigger events pending.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
            yield cursor
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")
        else:
            cursor.execute(f"DROP TRIGGER {trigger}")
            yield cursor
            cursor.execute(sqlite_trigger_sql(table))


def make_insured(
    *,
    moved_in: date = date(2020, 4, 1),
    moved_out: date | None = None,
    birth_date: date = date(1970, 1, 1),
    household_no: str | None = None,
    relation: str = "世帯主",
) -> Person:
    """A resident insured from `moved_in` through the real entry point (転入 by `event_apply`:
    eligibility period, 記号・番号 and 枝番), and moved out on `moved_out` when given (資格
    喪失日). `household_no` names an existing household to join."""
    from kokuho.eligibility.events import ChangeEvent, ChangeType, event_apply
    from kokuho.people.registry import ResidentData

    n = next(_numbers)
    atena_no = f"7{n:09d}"
    resident = ResidentData(
        atena_no, "給付 太郎", "キュウフ タロウ", birth_date, 1, "みかん市本町1-1", "799-0001"
    )
    event = ChangeEvent(
        ChangeType.MOVE_IN,
        moved_in,
        moved_in,
        atena_no,
        household_no or f"6{n:09d}",
        relation,
        resident,
    )
    event_apply(event, recorded_at=timezone.now(), actor=None)
    if moved_out is not None:
        leave = ChangeEvent(ChangeType.MOVE_OUT, moved_out, moved_out, atena_no)
        event_apply(leave, recorded_at=timezone.now(), actor=None)
    return Person.objects.get(atena_no=atena_no)


def make_claim(*, person: Person | None = None, service_month: date, **fields: Any) -> Any:
    """A レセプト as the claims import stores it, for the person's newest 記号・番号・枝番
    (matched) — or, with no person, under a number nobody holds (番号不明)."""
    from django.conf import settings

    from kokuho.benefits.models import Claim, ClaimMatch
    from kokuho.eligibility.models import BranchNumber

    n = next(_numbers)
    branch = (
        BranchNumber.objects.filter(person=person)
        .select_related("household_number")
        .order_by("-assigned_on", "-id")
        .first()
        if person is not None
        else None
    )
    values: dict[str, Any] = {
        "claim_id": f"T{n:09d}",
        "service_month": service_month.replace(day=1),
        "insurer_no": settings.KOKUHO_INSURER_NUMBER,
        "symbol": branch.household_number.symbol if branch else "99",
        "number": branch.household_number.number if branch else "999999",
        "branch": branch.branch if branch else "01",
        "provider": "3810000001",
        "setting": 2,
        "kind": 1,
        "points": 1000,
        "copay": 3000,
        "person": person,
        "household_number": branch.household_number if branch else None,
        "match": ClaimMatch.MATCHED if person is not None else ClaimMatch.UNKNOWN_NUMBER,
        "recorded_at": timezone.now(),
    }
    return Claim.objects.create(**(values | fields))


def dead_pid() -> int:
    """The pid of a process that has just ended: a run's worker that is gone."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(done.stdout)
