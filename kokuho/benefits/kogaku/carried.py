"""高額該当の引継ぎ: 高額療養費 months carried over from another municipality of the prefecture.

Since 2018 the prefecture is the NHI insurer together with its municipalities, so a household
that moves within the prefecture and continues (世帯の継続性) keeps its 高額該当 count for
多数回 (benefits.md §4 step 4). The 国保情報集約システム tells this city in which 診療月 the
former city paid the household by a household step; staff record each such month here
(`kogaku_carried_month_record`) and the monthly run counts it with the city's own paid months
(`kogaku_carried_insurers`, read by `kogaku.run`). A wrong entry is withdrawn with a reason
(`kogaku_carried_month_withdraw`), never deleted. Results already computed are not changed:
the month is run again when a carried month changes its outcome.
"""

import datetime as dt
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.benefits.kogaku.workflow import KogakuError
from kokuho.benefits.models import KogakuCarriedMonth
from kokuho.core.purposes import Purpose
from kokuho.people.models import Household
from kokuho.rules.numbers import insurer_number_is_valid


class KogakuCarriedErrorCode(StrEnum):
    MONTH_NOT_FIRST = "month_not_first"
    MONTH_NOT_PAST = "month_not_past"
    INSURER_FORMAT = "insurer_format"
    INSURER_CHECK_DIGIT = "insurer_check_digit"
    INSURER_OWN = "insurer_own"
    INSURER_OTHER_PREFECTURE = "insurer_other_prefecture"
    BASIS_REQUIRED = "basis_required"
    DUPLICATE = "duplicate"
    ALREADY_WITHDRAWN = "already_withdrawn"
    REASON_REQUIRED = "reason_required"


class KogakuCarriedError(KogakuError):
    """A carried month that cannot be recorded or withdrawn; `code` for programs, the message
    for staff (a `KogakuError`, so the screens catch it as they catch the others)."""

    def __init__(self, code: KogakuCarriedErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


E = KogakuCarriedErrorCode


def _text(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip()


def _insurer(number: str) -> str:
    """The former city's 保険者番号: 6 digits with a valid check digit, of a municipality of
    this prefecture (the first two digits, 都道府県番号, are ours) and not this city."""
    number = _text(number)
    if len(number) != 6 or not number.isascii() or not number.isdigit():
        raise KogakuCarriedError(E.INSURER_FORMAT, "前住所地の保険者番号は6桁の数字です")
    if not insurer_number_is_valid(number):
        raise KogakuCarriedError(
            E.INSURER_CHECK_DIGIT, f"保険者番号 {number} の検証番号が正しくありません"
        )
    ours = settings.KOKUHO_INSURER_NUMBER
    if number == ours:
        raise KogakuCarriedError(
            E.INSURER_OWN, "当市の保険者番号です（当市の支給月は月次計算の結果から数えます）"
        )
    if number[:2] != ours[:2]:
        raise KogakuCarriedError(
            E.INSURER_OTHER_PREFECTURE,
            f"保険者番号 {number} は県内の市町村ではありません（引継ぎは県内の転居に限ります）",
        )
    return number


def _last_recordable(today: dt.date) -> dt.date:
    """The last month a former city can have paid: the month before this one."""
    return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def _audit(carried: KogakuCarriedMonth, household: Household, actor: Any, **extra: Any) -> None:
    audit_event_record(
        actor=actor,
        event_type=EventType.KOGAKU_CARRIED,
        purpose=Purpose.NHI_BENEFITS,
        subject_type=SubjectType.HOUSEHOLD,
        subject_id=household.household_no,
        extra={
            "carried_id": carried.pk,
            "month": f"{carried.month:%Y-%m}",
            "former_insurer_number": carried.former_insurer_number,
            **extra,
        },
    )


def kogaku_carried_month_record(
    *,
    household: Household,
    month: dt.date,
    former_insurer_number: str,
    basis: str,
    actor: Any,
) -> KogakuCarriedMonth:
    """Record that the former city paid `household` 高額療養費 (a household step) for the
    診療月 `month`, as `basis` (the 国保情報集約システム's answer) says."""
    if month.day != 1:
        raise KogakuCarriedError(E.MONTH_NOT_FIRST, "診療月は月の初日で指定してください")
    last = _last_recordable(timezone.localdate())
    if month > last:
        raise KogakuCarriedError(
            E.MONTH_NOT_PAST, f"診療月は前月（{last:%Y-%m}）以前を指定してください"
        )
    insurer = _insurer(former_insurer_number)
    basis = _text(basis)
    if not basis:
        raise KogakuCarriedError(
            E.BASIS_REQUIRED, "根拠（国保情報集約システムの照会番号等）を入力してください"
        )
    duplicate = KogakuCarriedError(
        E.DUPLICATE, f"{month:%Y-%m} 診療分の引継ぎは記録済みです（誤りは取り消してから記録）"
    )
    standing = KogakuCarriedMonth.objects.filter(
        household=household, month=month, withdrawn_at__isnull=True
    )
    if standing.exists():
        raise duplicate
    try:
        with transaction.atomic():
            carried = KogakuCarriedMonth.objects.create(
                household=household,
                month=month,
                former_insurer_number=insurer,
                basis=basis,
                recorded_by=actor,
            )
            _audit(carried, household, actor, action="recorded", basis=basis)
    except IntegrityError:  # recorded at the same moment elsewhere (the partial unique index)
        raise duplicate from None
    return carried


def kogaku_carried_month_withdraw(
    *, carried: KogakuCarriedMonth, reason: str, actor: Any
) -> KogakuCarriedMonth:
    """取消し of a wrong entry: it stays, marked withdrawn with who, when and why, and no
    longer counts for 多数回."""
    reason = _text(reason)
    if not reason:
        raise KogakuCarriedError(E.REASON_REQUIRED, "取消の理由を入力してください")
    with transaction.atomic():
        done = KogakuCarriedMonth.objects.filter(pk=carried.pk, withdrawn_at__isnull=True).update(
            withdrawn_at=timezone.now(), withdrawn_by=actor, withdrawn_reason=reason
        )
        if not done:
            raise KogakuCarriedError(
                E.ALREADY_WITHDRAWN, f"{carried.month:%Y-%m} 診療分の引継ぎは取消済みです"
            )
        carried.refresh_from_db()
        _audit(carried, carried.household, actor, action="withdrawn", reason=reason)
    return carried


# --- Selectors -------------------------------------------------------------------------------


def _standing(household_ids: Iterable[int], first: dt.date, last: dt.date) -> QuerySet:
    return KogakuCarriedMonth.objects.filter(
        household_id__in=list(household_ids),
        month__range=(first, last),
        withdrawn_at__isnull=True,
    )


def kogaku_carried_insurers(
    *, household_ids: Iterable[int], first: dt.date, last: dt.date
) -> dict[int, dict[dt.date, str]]:
    """Standing carried months from `first` to `last` per household, each with the former
    city's 保険者番号 (one query)."""
    found: dict[int, dict[dt.date, str]] = {}
    for hh, month, insurer in (
        _standing(household_ids, first, last)
        .order_by("household_id", "month")
        .values_list("household_id", "month", "former_insurer_number")
    ):
        found.setdefault(hh, {})[month] = insurer
    return found


def kogaku_carried_months(
    *, household_ids: Iterable[int], first: dt.date, last: dt.date
) -> dict[int, list[dt.date]]:
    """Standing carried months from `first` to `last` per household, oldest first."""
    return {
        hh: sorted(months)
        for hh, months in kogaku_carried_insurers(
            household_ids=household_ids, first=first, last=last
        ).items()
    }


@dataclass(frozen=True)
class CarriedState:
    household: Household
    entries: list[KogakuCarriedMonth]  # standing and withdrawn, newest month first


def kogaku_carried_view(*, household_no: str, actor: Any, screen: str) -> CarriedState:
    """A household's carried months as the screen shows them (with the 世帯主); the access
    is recorded (世帯情報の閲覧)."""
    with transaction.atomic():
        household = get_object_or_404(
            Household.objects.select_related("head", "nhi_number"), household_no=household_no
        )
        entries = list(
            KogakuCarriedMonth.objects.filter(household=household)
            .select_related("recorded_by__staff_profile", "withdrawn_by__staff_profile")
            .order_by("-month", "-recorded_at", "-pk")
        )
        audit_event_record(
            event_type=EventType.HOUSEHOLD_VIEWED,
            actor=actor,
            subject_type=SubjectType.HOUSEHOLD,
            subject_id=household.household_no,
            purpose=Purpose.NHI_BENEFITS,
            extra={
                "screen": screen,
                "members_shown": [household.head.atena_no] if household.head else [],
            },
        )
    return CarriedState(household=household, entries=entries)
