"""自己点検 findings: one set-based selector per kind of finding (privacy.md §2 監査)."""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from kokuho.accounts.models import StaffProfile
from kokuho.accounts.selectors import AccessReviewRow, access_review_rows
from kokuho.audit.inspection.rules import (
    _ACCOUNT_FLAGS,
    SCHEMA_VERSION,
    FindingKind,
    InspectionRules,
    InspectionWindow,
)
from kokuho.audit.models import AuditEvent, EventType, SubjectType
from kokuho.people.models import Person, PersonHistory

# --- Findings ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountFinding:
    """An account the access review flags (利用期間終了・休眠・研修)."""

    username: str
    full_name: str
    department: str
    roles: tuple[str, ...]
    valid_until: dt.date | None
    last_login: dt.datetime | None
    training_valid_until: dt.date | None


@dataclass(frozen=True)
class OffHoursReveal:
    """勤務時間外の個人番号の表示: one reveal, when and whose number (宛名番号)."""

    username: str
    full_name: str
    occurred_at: dt.datetime
    reason: str  # 土曜日 / 日曜日 / 始業前 / 終業後
    atena_no: str
    purpose: str


@dataclass(frozen=True)
class BulkReveal:
    """個人番号の大量表示: one member of staff's day with too many reveals in the day or
    too many inside the short window."""

    username: str
    full_name: str
    day: dt.date
    day_count: int
    window_count: int  # the most reveals inside any window starting that day
    window_start: dt.datetime
    window_end: dt.datetime
    atena_nos: tuple[str, ...]


@dataclass(frozen=True)
class LoginFailureBurst:
    """ログイン失敗の集中 on one username (`by` = "username") or one terminal ("terminal")."""

    by: str
    key: str
    full_name: str  # of the account, when the username is a staff member's
    first_at: dt.datetime
    last_at: dt.datetime
    failures: int
    lockouts: int
    related: tuple[str, ...]  # the terminals used / the usernames tried


@dataclass(frozen=True)
class ExportFinding:
    """外部出力・開示資料の作成: every one of the month, always reviewed."""

    event_type: str
    username: str
    full_name: str
    occurred_at: dt.datetime
    kind: str
    export_id: int | None
    records: int | None
    atena_no: str  # the person a 開示資料 is about; empty for other exports
    purpose: str


@dataclass(frozen=True)
class OwnHouseholdView:
    """A member of staff reading their own record, a member of their household or the
    household itself (grouped by what was read and how)."""

    username: str
    full_name: str
    staff_atena_no: str
    subject_type: str
    subject_id: str  # 宛名番号 or 世帯番号
    relation: str  # 本人 / 同一世帯の世帯員 / 本人の世帯
    event_type: str
    count: int
    first_at: dt.datetime
    last_at: dt.datetime


@dataclass(frozen=True)
class ConcentratedViews:
    """同一住民への集中した閲覧: one resident read by many different staff in the month."""

    atena_no: str
    staff_count: int
    event_count: int
    usernames: tuple[str, ...]
    first_at: dt.datetime
    last_at: dt.datetime


@dataclass(frozen=True)
class EventCount:
    event_type: str
    label: str
    count: int


def _in_window(window: InspectionWindow) -> Q:
    return Q(occurred_at__gte=window.start, occurred_at__lt=window.end)


def _staff_names(usernames: Iterable[str]) -> dict[str, str]:
    """氏名 by username, one query."""
    wanted = sorted(set(usernames) - {""})
    if not wanted:
        return {}
    return dict(
        StaffProfile.objects.filter(user__username__in=wanted).values_list(
            "user__username", "full_name"
        )
    )


def account_findings(*, rows: Sequence[AccessReviewRow], kind: FindingKind) -> list[AccountFinding]:
    """Accounts the access review (`access_review_rows`) flags for `kind` — the 定期点検's
    own rule, so that the two reports never disagree."""
    flag = _ACCOUNT_FLAGS[kind]
    return [
        AccountFinding(
            username=r.username,
            full_name=r.full_name,
            department=r.department,
            roles=r.roles,
            valid_until=r.valid_until,
            last_login=r.last_login,
            training_valid_until=r.training_valid_until,
        )
        for r in rows
        if flag in r.flags
    ]


def _reveals(window: InspectionWindow) -> list[tuple[dt.datetime, str, str, str]]:
    """(local time, username, 宛名番号, 事務) of every My Number reveal of the month."""
    rows = (
        AuditEvent.objects.filter(_in_window(window), event_type=EventType.MY_NUMBER_REVEALED)
        .order_by("occurred_at", "seq")
        .values_list("occurred_at", "actor_username", "subject_id", "purpose")
    )
    return [(timezone.localtime(at), user, atena, purpose) for at, user, atena, purpose in rows]


def _off_hours_reason(at: dt.datetime, rules: InspectionRules) -> str | None:
    if at.weekday() == 5:
        return "土曜日"
    if at.weekday() == 6:
        return "日曜日"
    if at.time() < rules.office_start:
        return "始業前"
    if at.time() >= rules.office_end:
        return "終業後"
    return None


def reveals_off_hours(*, window: InspectionWindow, rules: InspectionRules) -> list[OffHoursReveal]:
    """勤務時間外の個人番号の表示: each reveal on a weekend or outside the office hours."""
    found = []
    reveals = _reveals(window)
    names = _staff_names(user for _, user, _, _ in reveals)
    for at, user, atena, purpose in reveals:
        reason = _off_hours_reason(at, rules)
        if reason is not None:
            found.append(OffHoursReveal(user, names.get(user, ""), at, reason, atena, purpose))
    return found


def _busiest_windows(times: Sequence[dt.datetime], span: dt.timedelta) -> list[int]:
    """For each i, how many of the sorted `times` lie in [times[i], times[i] + span]."""
    return [bisect.bisect_right(times, t + span) - i for i, t in enumerate(times)]


def reveals_in_bulk(*, window: InspectionWindow, rules: InspectionRules) -> list[BulkReveal]:
    """個人番号の大量表示: a member of staff's day with more reveals than the daily limit, or
    with the burst count reached inside the burst window (counted from a reveal that day)."""
    by_actor: dict[str, list[tuple[dt.datetime, str]]] = defaultdict(list)
    for at, user, atena, _purpose in _reveals(window):
        by_actor[user].append((at, atena))
    span = dt.timedelta(minutes=rules.reveal_burst_minutes)
    found = []
    for user, reveals in by_actor.items():
        times = [at for at, _ in reveals]
        counts = _busiest_windows(times, span)
        days: dict[dt.date, list[int]] = defaultdict(list)
        for i, at in enumerate(times):
            days[at.date()].append(i)
        for day, indexes in days.items():
            # The busiest window starting that day (the earliest of equals).
            best = max(indexes, key=counts.__getitem__)
            if len(indexes) <= rules.reveal_daily_limit and counts[best] < rules.reveal_burst_count:
                continue
            last = best + counts[best] - 1
            found.append(
                BulkReveal(
                    username=user,
                    full_name="",
                    day=day,
                    day_count=len(indexes),
                    window_count=counts[best],
                    window_start=times[best],
                    window_end=times[last],
                    atena_nos=tuple(dict.fromkeys(reveals[i][1] for i in indexes)),
                )
            )
    names = _staff_names(f.username for f in found)
    found = [dataclasses.replace(f, full_name=names.get(f.username, "")) for f in found]
    return sorted(found, key=lambda f: (f.day, f.username))


def _episodes(times: Sequence[dt.datetime], *, count: int, span: dt.timedelta) -> list[range]:
    """Runs of events each lying in some window of `span` that holds at least `count`
    events; overlapping windows make one run."""
    marked = [False] * len(times)
    for i, n in enumerate(_busiest_windows(times, span)):
        if n >= count:
            for k in range(i, i + n):
                marked[k] = True
    runs: list[range] = []
    start: int | None = None
    for i, flag in enumerate([*marked, False]):
        joined = start is not None and flag and times[i] - times[i - 1] <= span
        if start is not None and not joined:
            runs.append(range(start, i))
            start = None
        if flag and start is None:
            start = i
    return runs


def login_failure_bursts(
    *, window: InspectionWindow, rules: InspectionRules
) -> list[LoginFailureBurst]:
    """ログイン失敗の集中: the burst count of failed logins inside the burst window, on one
    username or from one terminal (`remote_addr`, which the login signals record). Lockouts
    are counted with the burst they end; a lockout outside any burst is listed by itself.
    A terminal's burst that is only one username's burst is listed once, by username."""
    rows = (
        AuditEvent.objects.filter(
            _in_window(window),
            event_type__in=[EventType.LOGIN_FAILED, EventType.LOGIN_LOCKED_OUT],
        )
        .order_by("occurred_at", "seq")
        .values_list("seq", "event_type", "occurred_at", "subject_id", "extra")
    )
    failures: dict[tuple[str, str], list[tuple[int, dt.datetime, str, str]]] = defaultdict(list)
    lockouts: list[tuple[int, dt.datetime, str, str, int]] = []
    for seq, event_type, at, username, extra in rows:
        addr = str((extra or {}).get("remote_addr", ""))
        if event_type == EventType.LOGIN_LOCKED_OUT:
            lockouts.append((seq, at, username, addr, int((extra or {}).get("failures") or 0)))
            continue
        failures[("username", username)].append((seq, at, username, addr))
        if addr:
            failures[("terminal", addr)].append((seq, at, username, addr))
    span = dt.timedelta(minutes=rules.login_burst_minutes)
    bursts: list[tuple[str, str, list[tuple[int, dt.datetime, str, str]]]] = []
    for (by, key), events in failures.items():
        times = [at for _, at, _, _ in events]
        for run in _episodes(times, count=rules.login_burst_count, span=span):
            bursts.append((by, key, [events[i] for i in run]))
    by_user = [frozenset(e[0] for e in evs) for by, _, evs in bursts if by == "username"]
    bursts = [
        b
        for b in bursts
        if b[0] == "username" or not any(frozenset(e[0] for e in b[2]) <= u for u in by_user)
    ]
    found: list[LoginFailureBurst] = []
    attached: set[int] = set()
    for by, key, events in bursts:
        first, last = events[0][1], events[-1][1]
        locks = [
            lock
            for lock in lockouts
            if first <= lock[1] <= last + span and (lock[2] if by == "username" else lock[3]) == key
        ]
        attached |= {lock[0] for lock in locks}
        related = {e[3] for e in events} if by == "username" else {e[2] for e in events}
        found.append(
            LoginFailureBurst(
                by=by,
                key=key,
                full_name="",
                first_at=timezone.localtime(first),
                last_at=timezone.localtime(last),
                failures=len(events),
                lockouts=len(locks),
                related=tuple(sorted(related - {""})),
            )
        )
    for seq, at, username, addr, count in lockouts:
        if seq not in attached:
            local = timezone.localtime(at)
            related = (addr,) if addr else ()
            found.append(
                LoginFailureBurst("username", username, "", local, local, count, 1, related)
            )
    names = _staff_names(f.key for f in found if f.by == "username")
    found = [
        dataclasses.replace(f, full_name=names.get(f.key, "")) if f.by == "username" else f
        for f in found
    ]
    return sorted(found, key=lambda f: (f.first_at, f.by, f.key))


def exports_in_month(*, window: InspectionWindow) -> list[ExportFinding]:
    """外部出力・開示資料の作成: every such event of the month, who, when, what, how many."""
    rows = (
        AuditEvent.objects.filter(
            _in_window(window),
            event_type__in=[EventType.PERSONAL_DATA_EXPORTED, EventType.DISCLOSURE_PRODUCED],
        )
        .order_by("occurred_at", "seq")
        .values_list(
            "event_type",
            "occurred_at",
            "actor_username",
            "subject_type",
            "subject_id",
            "purpose",
            "extra",
        )
    )
    rows = list(rows)
    names = _staff_names(row[2] for row in rows)
    found = []
    for event_type, at, user, subject_type, subject_id, purpose, extra in rows:
        extra = extra or {}
        export_id = extra.get("export")
        records = extra.get("records")
        found.append(
            ExportFinding(
                event_type=event_type,
                username=user,
                full_name=names.get(user, ""),
                occurred_at=timezone.localtime(at),
                kind=str(extra.get("kind", "")),
                export_id=int(export_id) if export_id is not None else None,
                records=int(records) if records is not None else None,
                atena_no=subject_id if subject_type == SubjectType.PERSON else "",
                purpose=purpose,
            )
        )
    return found


def _households_during(
    *, atena_nos: Iterable[str], first: dt.date, last: dt.date
) -> dict[str, set[str]]:
    """世帯番号s each resident belonged to on some day of [first, last], from the registry
    history (the household in force on `first`, and any joined during the period). A
    resident whose history names no household (an initial load) is taken to be in their
    current household throughout. Two queries."""
    wanted = sorted(set(atena_nos))
    current = dict(
        Person.objects.filter(atena_no__in=wanted).values_list(
            "atena_no", "household__household_no"
        )
    )
    timeline: dict[str, list[tuple[dt.date, str]]] = defaultdict(list)
    # Whole snapshots (see eligibility.selectors.household_members_on: a key read on SQLite
    # turns a numeric 世帯番号 into an int).
    rows = PersonHistory.objects.filter(person__atena_no__in=wanted).order_by(
        "person_id", "change_date", "id"
    )
    for atena, day, snapshot in rows.values_list("person__atena_no", "change_date", "snapshot"):
        number = (snapshot or {}).get("household_no")
        if number:
            timeline[atena].append((day, str(number)))
    found: dict[str, set[str]] = {}
    for atena, household_no in current.items():
        entries = timeline.get(atena)
        if not entries:
            found[atena] = {household_no}
            continue
        before = [no for day, no in entries if day <= first]
        found[atena] = set(before[-1:]) | {no for day, no in entries if first < day <= last}
    return found


_PERSON_READS = tuple(
    [EventType.PERSON_VIEWED] + [t for t in EventType if t.value.startswith("my_number_")]
)


def own_household_views(*, window: InspectionWindow) -> list[OwnHouseholdView]:
    """自己・同一世帯の閲覧: events by a member of staff who is a resident
    (`StaffProfile.resident_atena_no`) on themselves, on anyone in a household they belonged
    to during the month (while that person was in it during the month), or on that
    household. Seven queries whatever the number of staff and events."""
    staff = list(
        StaffProfile.objects.exclude(resident_atena_no="").values_list(
            "user_id", "user__username", "full_name", "resident_atena_no"
        )
    )
    if not staff:
        return []
    first, last = window.month, window.end.date() - dt.timedelta(days=1)
    own = _households_during(atena_nos=(s[3] for s in staff), first=first, last=last)
    households = set().union(*own.values()) if own else set()
    if not households:
        return []
    in_history = PersonHistory.objects.filter(snapshot__household_no__in=sorted(households)).values(
        "person_id"
    )
    candidates = Person.objects.filter(
        Q(household__household_no__in=sorted(households)) | Q(pk__in=in_history)
    ).values_list("atena_no", flat=True)
    membership = _households_during(atena_nos=candidates, first=first, last=last)
    members: dict[str, set[str]] = defaultdict(set)  # 世帯番号 → 宛名番号s
    for atena, numbers in membership.items():
        for number in numbers & households:
            members[number].add(atena)
    people = set().union(*(members[n] for n in households))
    events = (
        AuditEvent.objects.filter(_in_window(window), actor_id__in=[s[0] for s in staff])
        .filter(
            Q(event_type__in=_PERSON_READS, subject_type=SubjectType.PERSON, subject_id__in=people)
            | Q(
                event_type=EventType.HOUSEHOLD_VIEWED,
                subject_type=SubjectType.HOUSEHOLD,
                subject_id__in=households,
            )
        )
        .order_by("occurred_at", "seq")
        .values_list("actor_id", "event_type", "subject_type", "subject_id", "occurred_at")
    )
    by_user = {s[0]: s for s in staff}
    grouped: dict[tuple[int, str, str, str], list[dt.datetime]] = defaultdict(list)
    for actor_id, event_type, subject_type, subject_id, at in events:
        _, _, _, staff_atena = by_user[actor_id]
        theirs = own.get(staff_atena, set())
        if subject_type == SubjectType.HOUSEHOLD:
            hit = subject_id in theirs
        else:
            hit = any(subject_id in members[n] for n in theirs)
        if hit:
            grouped[(actor_id, event_type, subject_type, subject_id)].append(at)
    found = []
    for (actor_id, event_type, subject_type, subject_id), times in grouped.items():
        _, username, full_name, staff_atena = by_user[actor_id]
        if subject_type == SubjectType.HOUSEHOLD:
            relation = "本人の世帯"
        elif subject_id == staff_atena:
            relation = "本人"
        else:
            relation = "同一世帯の世帯員"
        found.append(
            OwnHouseholdView(
                username=username,
                full_name=full_name,
                staff_atena_no=staff_atena,
                subject_type=subject_type,
                subject_id=subject_id,
                relation=relation,
                event_type=event_type,
                count=len(times),
                first_at=timezone.localtime(times[0]),
                last_at=timezone.localtime(times[-1]),
            )
        )
    return sorted(found, key=lambda f: (f.username, f.first_at))


_CONCENTRATION_READS = (
    EventType.PERSON_VIEWED,
    EventType.MY_NUMBER_REVEALED,
    EventType.MY_NUMBER_LOOKED_UP,
)


def concentrated_views(
    *, window: InspectionWindow, rules: InspectionRules
) -> list[ConcentratedViews]:
    """同一住民への集中した閲覧: residents whose record (or My Number) was read by at least
    `many_viewers` different members of staff in the month. Two queries."""
    reads = AuditEvent.objects.filter(
        _in_window(window),
        event_type__in=_CONCENTRATION_READS,
        subject_type=SubjectType.PERSON,
    ).exclude(actor_username="")
    heavy = list(
        reads.values("subject_id")
        .annotate(
            staff=Count("actor_username", distinct=True),
            events=Count("seq"),
            first=Min("occurred_at"),
            last=Max("occurred_at"),
        )
        .filter(staff__gte=rules.many_viewers)
        .order_by("-staff", "subject_id")
    )
    who: dict[str, set[str]] = defaultdict(set)
    pairs = reads.filter(subject_id__in=[h["subject_id"] for h in heavy]).values_list(
        "subject_id", "actor_username"
    )
    for subject_id, username in pairs.distinct():
        who[subject_id].add(username)
    return [
        ConcentratedViews(
            atena_no=h["subject_id"],
            staff_count=h["staff"],
            event_count=h["events"],
            usernames=tuple(sorted(who[h["subject_id"]])),
            first_at=timezone.localtime(h["first"]),
            last_at=timezone.localtime(h["last"]),
        )
        for h in heavy
    ]


def event_counts(*, window: InspectionWindow) -> list[EventCount]:
    """イベントの種類別件数 of the month, in the order of `EventType`."""
    counted = dict(
        AuditEvent.objects.filter(_in_window(window))
        .values("event_type")
        .annotate(n=Count("seq"))
        .order_by()
        .values_list("event_type", "n")
    )
    labels = dict(EventType.choices)
    order = [t.value for t in EventType] + sorted(set(counted) - set(labels))
    return [EventCount(t, labels.get(t, t), counted[t]) for t in order if t in counted]


# --- The snapshot --------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


@dataclass(frozen=True)
class InspectionFindings:
    window: InspectionWindow
    rules: InspectionRules
    findings: dict[FindingKind, list[Any]]
    events: list[EventCount]

    @property
    def counts(self) -> dict[str, int]:
        return {kind.value: len(self.findings[kind]) for kind in FindingKind}

    def snapshot(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "month": self.window.month.strftime("%Y-%m"),
            "as_of": self.window.as_of.isoformat(),
            "period": {"from": _jsonable(self.window.start), "until": _jsonable(self.window.end)},
            "rules": self.rules.as_json(),
            "findings": {kind.value: _jsonable(self.findings[kind]) for kind in FindingKind},
            "event_counts": _jsonable(self.events),
        }


def inspection_findings(*, window: InspectionWindow, rules: InspectionRules) -> InspectionFindings:
    """Every finding of the month (no writes)."""
    rows = access_review_rows(on=window.as_of)
    findings: dict[FindingKind, list[Any]] = {
        kind: account_findings(rows=rows, kind=kind) for kind in _ACCOUNT_FLAGS
    }
    findings[FindingKind.REVEAL_OFF_HOURS] = reveals_off_hours(window=window, rules=rules)
    findings[FindingKind.REVEAL_BULK] = reveals_in_bulk(window=window, rules=rules)
    findings[FindingKind.LOGIN_FAILURE_BURST] = login_failure_bursts(window=window, rules=rules)
    findings[FindingKind.EXPORT] = exports_in_month(window=window)
    findings[FindingKind.OWN_HOUSEHOLD] = own_household_views(window=window)
    findings[FindingKind.CONCENTRATED_VIEWS] = concentrated_views(window=window, rules=rules)
    return InspectionFindings(window, rules, findings, event_counts(window=window))
