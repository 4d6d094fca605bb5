"""Reading and checking the audit trail; the incident register's deadlines."""

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet
from django.utils import timezone

from kokuho.audit.models import (
    AuditChainHead,
    AuditCheckpoint,
    AuditEvent,
    Incident,
    ReportKind,
)
from kokuho.audit.services import GENESIS_HASH, event_hash
from kokuho.rules.params import parameters

# Rows fetched per round trip while verifying: memory stays bounded by this, not by the
# size of the trail (seven years of counter reads).
VERIFY_CHUNK = 2000


class ChainFault(StrEnum):
    """What is wrong at the first broken link (改ざん検知の結果)."""

    EDITED = "edited"
    MISSING = "missing"
    REORDERED = "reordered"
    INSERTED = "inserted"
    HEAD_MISMATCH = "head_mismatch"

    @property
    def label(self) -> str:
        return {
            ChainFault.EDITED: "行の改ざん",
            ChainFault.MISSING: "行の欠落",
            ChainFault.REORDERED: "行の順序の入れ替え",
            ChainFault.INSERTED: "行の挿入",
            ChainFault.HEAD_MISMATCH: "チェーン先頭との不一致",
        }[self]


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str = ""
    fault: ChainFault | None = None
    # The event named by first_bad_seq, when it is still there.
    occurred_at: dt.datetime | None = None
    event_type: str = ""
    # Where the verified chain ends: an operator may copy these outside the database.
    last_seq: int = 0
    last_hash: str = ""


@dataclass(frozen=True)
class _Head:
    last_seq: int
    last_hash: str


def _head() -> _Head:
    head = AuditChainHead.objects.filter(id=1).first()
    if head is None:  # an empty database (see services.chain_head_locked)
        return _Head(0, GENESIS_HASH)
    return _Head(head.last_seq, head.last_hash)


def _fault(
    fault: ChainFault, checked: int, seq: int, reason: str, event: AuditEvent | None = None
) -> ChainReport:
    if event is None:
        event = AuditEvent.objects.filter(seq=seq).first()
    return ChainReport(
        ok=False,
        checked=checked,
        first_bad_seq=seq,
        reason=reason,
        fault=fault,
        occurred_at=event.occurred_at if event else None,
        event_type=event.event_type if event else "",
    )


def _seqs(first: int, last: int) -> str:
    return f"seq {first}" if first == last else f"seq {first}〜{last}"


def _broken_link(
    event: AuditEvent,
    *,
    prev: AuditEvent | None,
    prev_hash: str,
    checked: int,
    checkpoint: AuditCheckpoint | None = None,
) -> ChainReport:
    """The row's `prev_hash` is not the previous row's hash: find out why. Without a
    previous row, the chain starts at the newest checkpoint when there is one."""
    prev_seq = prev.seq if prev else (checkpoint.through_seq if checkpoint else 0)
    if event_hash(prev_hash, event) == event.row_hash:
        # The row fits where it stands; only its link field was changed.
        return _fault(
            ChainFault.EDITED,
            checked,
            event.seq,
            "前の行へのハッシュ（prev_hash）が書き換えられています",
            event,
        )
    owner = AuditEvent.objects.filter(row_hash=event.prev_hash).only("seq").first()
    if owner is not None and owner.seq > event.seq:
        return _fault(
            ChainFault.REORDERED,
            checked,
            event.seq,
            f"seq {event.seq} の行は seq {owner.seq} の次にあるべき行です",
            event,
        )
    if owner is not None and owner.seq < prev_seq:
        # The row links back past its predecessor: what lies between is not in the chain.
        stranger = AuditEvent.objects.filter(seq__gt=owner.seq).order_by("seq").first()
        assert stranger is not None  # prev itself lies after owner
        return _fault(
            ChainFault.INSERTED,
            checked,
            stranger.seq,
            f"{_seqs(stranger.seq, prev_seq)} はチェーンに含まれない行です"
            f"（seq {event.seq} は seq {owner.seq} に連結しています）",
            stranger,
        )
    if event.seq > prev_seq + 1:
        # PostgreSQL leaves gaps in seq when a transaction rolls back, so a gap alone is
        # no evidence; a gap where the link also breaks is.
        return _fault(
            ChainFault.MISSING,
            checked,
            event.seq,
            f"{_seqs(prev_seq + 1, event.seq - 1)} の行が失われています"
            f"（seq {event.seq} の前の行のハッシュがどこにもありません）",
            event,
        )
    if prev is not None:
        return _fault(
            ChainFault.EDITED,
            checked - 1,
            prev.seq,
            f"seq {prev.seq} の内容が書き換えられ、ハッシュも計算し直されています"
            f"（seq {event.seq} の連結と一致しません）",
            prev,
        )
    if checkpoint is not None:
        return _fault(
            ChainFault.MISSING,
            checked,
            event.seq,
            f"最初の行が消去記録（seq {checkpoint.through_seq} まで消去）のハッシュに連結して"
            "いません（消去記録の書き換え、または記録されていない消去）",
            event,
        )
    return _fault(
        ChainFault.EDITED, checked, event.seq, "最初の行の連結が書き換えられています", event
    )


def _edited_or_moved(event: AuditEvent, *, checked: int) -> ChainReport:
    """The row's content does not give its hash. If the content that belongs here sits
    further down, the rows were reordered; otherwise the row was edited."""
    later = AuditEvent.objects.filter(seq__gt=event.seq).order_by("seq")
    for other in later.iterator(chunk_size=VERIFY_CHUNK):
        if event_hash(event.prev_hash, other) == event.row_hash:
            return _fault(
                ChainFault.REORDERED,
                checked,
                event.seq,
                f"seq {event.seq} にあるべき内容が seq {other.seq} にあります",
                event,
            )
    return _fault(
        ChainFault.EDITED,
        checked,
        event.seq,
        "内容がハッシュと一致しません（記録後に書き換えられています）",
        event,
    )


def _head_fault(*, checked: int, last_seq: int, last_hash: str, head: _Head) -> ChainReport:
    if last_seq < head.last_seq:
        return _fault(
            ChainFault.MISSING,
            checked,
            last_seq + 1,
            f"末尾の {_seqs(last_seq + 1, head.last_seq)} の行が失われています"
            f"（チェーンの先頭は seq {head.last_seq} を指しています）",
        )
    return _fault(
        ChainFault.HEAD_MISMATCH,
        checked,
        last_seq,
        f"seq {last_seq} のハッシュがチェーンの先頭（AuditChainHead）の記録と一致しません",
    )


def audit_checkpoint_newest() -> AuditCheckpoint | None:
    """The newest 監査ログの消去記録: where the verified chain starts (decision 42)."""
    return AuditCheckpoint.objects.order_by("-through_seq").first()


def audit_chain_verify() -> ChainReport:
    """Recompute every hash in order; report the first row that does not fit (改ざん検知).

    Each row must (1) link to the previous row's hash and (2) give its own hash from its
    content. The chain head, read before the scan, must name the row where the chain was
    when the scan began; rows after it must link on and be covered by the head as it is
    after the scan (appends while verifying are normal, forged rows past the head are not).
    Streams in chunks; on a fault one more look-up (or one more scan, for content found
    elsewhere) says whether a row was edited, lost, moved or inserted.

    After the retention job has cut the trail (decision 42), the chain starts from the
    newest checkpoint's hash instead of the genesis hash: the first remaining row must link
    to it (else 行の欠落), and a row at or below the checkpoint's seq is one that should
    have been erased (行の挿入: put back after the cut)."""
    head = _head()
    checkpoint = audit_checkpoint_newest()
    start_seq, start_hash = (
        (checkpoint.through_seq, checkpoint.through_hash) if checkpoint else (0, GENESIS_HASH)
    )
    if checkpoint is not None:
        stale = AuditEvent.objects.filter(seq__lte=start_seq).order_by("seq").first()
        if stale is not None:
            return _fault(
                ChainFault.INSERTED,
                0,
                stale.seq,
                f"seq {stale.seq} は消去済みの範囲（消去記録: seq {start_seq} まで）にある行です"
                "（消去後に書き戻された行）",
                stale,
            )
    prev: AuditEvent | None = None
    prev_hash, checked = start_hash, 0
    past_head = False
    rows = AuditEvent.objects.filter(seq__gt=start_seq).order_by("seq")
    for event in rows.iterator(chunk_size=VERIFY_CHUNK):
        last_seq = prev.seq if prev else start_seq
        if not past_head and event.seq > head.last_seq:
            past_head = True
            if last_seq != head.last_seq or prev_hash != head.last_hash:
                return _head_fault(
                    checked=checked, last_seq=last_seq, last_hash=prev_hash, head=head
                )
        if event.prev_hash != prev_hash:
            return _broken_link(
                event, prev=prev, prev_hash=prev_hash, checked=checked, checkpoint=checkpoint
            )
        if event_hash(event.prev_hash, event) != event.row_hash:
            return _edited_or_moved(event, checked=checked)
        prev, prev_hash = event, event.row_hash
        checked += 1
    last_seq = prev.seq if prev else start_seq
    if not past_head:
        if last_seq != head.last_seq or prev_hash != head.last_hash:
            return _head_fault(checked=checked, last_seq=last_seq, last_hash=prev_hash, head=head)
    else:
        now = _head()
        if last_seq > now.last_seq:
            first = AuditEvent.objects.filter(seq__gt=now.last_seq).order_by("seq").first()
            seq = first.seq if first else last_seq
            return _fault(
                ChainFault.HEAD_MISMATCH,
                checked,
                seq,
                f"チェーンの先頭（seq {now.last_seq}）より後に行があります"
                "（先頭を動かさずに追加された行：偽造の疑い）",
                first,
            )
        if last_seq == now.last_seq and prev_hash != now.last_hash:
            return _head_fault(checked=checked, last_seq=last_seq, last_hash=prev_hash, head=now)
        # last_seq < now.last_seq: events appended after the scan began; checked next time.
    return ChainReport(True, checked, last_seq=last_seq, last_hash=prev_hash)


def events_for_subject(*, subject_type: str, subject_id: str) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(subject_type=subject_type, subject_id=subject_id).order_by(
        "-seq"
    )


# --- Retention (保存期間) ---------------------------------------------------------------


def audit_retention_years() -> int:
    """アクセス記録・監査ログの保存年数 (privacy.md §3; `KOKUHO_AUDIT_RETENTION_YEARS`)."""
    years = int(settings.KOKUHO_AUDIT_RETENTION_YEARS)
    if years < 1:
        raise ImproperlyConfigured("KOKUHO_AUDIT_RETENTION_YEARS は1以上の年数です")
    return years


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        # 29 February: keep until 1 March rather than erase a day early.
        return dt.date(day.year + years, 3, 1)


def audit_retention_until(*, event: AuditEvent) -> dt.date:
    """保存期限: the last day the event must be kept — the same calendar day N years after
    the local date it occurred. The retention job may erase it from the next day."""
    occurred = timezone.localtime(event.occurred_at).date()
    return _add_years(occurred, audit_retention_years())


# --- Incident register (重大事故・漏えい等報告) -----------------------------------------

# 期限間近: how many days before a deadline the register starts warning. A working habit
# of the section, not law, so it lives here rather than among the legal parameters.
DUE_SOON_DAYS = 2


class DeadlineState(StrEnum):
    ON_TRACK = "期限内"
    DUE_SOON = "期限間近"
    OVERDUE = "期限超過"


@dataclass(frozen=True)
class IncidentDeadline:
    kind: ReportKind
    due: dt.date
    done_on: dt.date | None
    state: DeadlineState | None  # None once done
    days_left: int  # negative when overdue

    @property
    def days_overdue(self) -> int:
        return max(0, -self.days_left)


@dataclass(frozen=True)
class IncidentStatus:
    incident: Incident
    deadlines: tuple[IncidentDeadline, ...]

    @property
    def pending(self) -> tuple[IncidentDeadline, ...]:
        return tuple(d for d in self.deadlines if d.done_on is None)

    @property
    def state(self) -> DeadlineState | None:
        """The worst state of the reports still due (None: nothing due)."""
        order = [DeadlineState.OVERDUE, DeadlineState.DUE_SOON, DeadlineState.ON_TRACK]
        states = {d.state for d in self.pending}
        return next((s for s in order if s in states), None)

    @property
    def needs_notification(self) -> bool:
        """本人通知 is owed for every reportable incident; the law sets no day count."""
        return self.incident.reportable and self.incident.persons_notified_at is None


def local_date(value: dt.datetime | None) -> dt.date | None:
    return timezone.localtime(value).date() if value else None


def incident_due_dates(*, incident: Incident) -> dict[ReportKind, dt.date]:
    """速報・確報の期限 for a reportable incident: days counted from the day it was
    discovered (知った日), by the parameters in force on that day."""
    discovered = local_date(incident.discovered_at)
    assert discovered is not None
    rules = parameters().at(discovered).privacy
    final_days = (
        rules.final_report_days_wrongful_intent
        if incident.wrongful_intent
        else rules.final_report_days
    )
    return {
        ReportKind.PRELIMINARY: discovered + dt.timedelta(days=rules.preliminary_report_days),
        ReportKind.FINAL: discovered + dt.timedelta(days=final_days),
    }


def _state(days_left: int) -> DeadlineState:
    if days_left < 0:
        return DeadlineState.OVERDUE
    if days_left <= DUE_SOON_DAYS:
        return DeadlineState.DUE_SOON
    return DeadlineState.ON_TRACK


def incident_status(*, incident: Incident, on: dt.date) -> IncidentStatus:
    """The incident's report deadlines as of `on` (none when it is not 報告対象)."""
    if not incident.reportable:
        return IncidentStatus(incident, ())
    done = {
        ReportKind.PRELIMINARY: local_date(incident.preliminary_reported_at),
        ReportKind.FINAL: local_date(incident.final_reported_at),
    }
    deadlines = []
    for kind, due in incident_due_dates(incident=incident).items():
        days_left = (due - on).days
        state = None if done[kind] else _state(days_left)
        deadlines.append(IncidentDeadline(kind, due, done[kind], state, days_left))
    return IncidentStatus(incident, tuple(deadlines))


def incidents_open(*, on: dt.date) -> list[IncidentStatus]:
    """未終結の重大事故等 with their deadline state as of `on`, most urgent first."""
    incidents = Incident.objects.filter(closed_at__isnull=True).order_by("discovered_at", "pk")
    statuses = [incident_status(incident=i, on=on) for i in incidents]
    rank = {DeadlineState.OVERDUE: 0, DeadlineState.DUE_SOON: 1, DeadlineState.ON_TRACK: 2}
    return sorted(statuses, key=lambda s: rank[s.state] if s.state else len(rank))


def incidents_closed(*, limit: int = 50) -> QuerySet[Incident]:
    return Incident.objects.filter(closed_at__isnull=False).order_by("-closed_at")[:limit]


def incident_reminders(*, on: dt.date) -> list[IncidentStatus]:
    """What cron reminds of: reports due soon or overdue, and 本人通知 not yet recorded."""
    return [
        s
        for s in incidents_open(on=on)
        if s.state in (DeadlineState.DUE_SOON, DeadlineState.OVERDUE) or s.needs_notification
    ]
