"""ホーム (the staff home): each role's open work as sections with a count and a link.

Every section names the right whose work it is (`work_of`) and the right its list needs
(`opens`); a section is shown to an account holding both, so an account with several roles
gets the union and no link on the home leads to a 403. Each count is one small query (or an
existing selector); the home names no resident — counts and links only — so it is open to
every signed-in account (`accounts.decorators.signed_in`).

The 所属長's 課の状況 (`section_summary`) shows the section's queues as counts without links:
the 所属長 confirms the 自己点検 and reads no resident's data, but answers for the backlog.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef
from django.urls import reverse

from kokuho.accounts.permissions import PERSONAL_DATA_PERMISSIONS, Perm, permissions_for_roles
from kokuho.workqueue.models import Queue
from kokuho.workqueue.queues import QUEUES
from kokuho.workqueue.selectors import QueueCounts, queue_counts


@dataclass(frozen=True)
class HomeSection:
    """One piece of open work on the home: `count` items, the list at `url`."""

    key: str
    title: str
    count: int
    url: str
    note: str = ""
    queue: QueueCounts | None = None  # a work queue's: the account's own, unassigned, overdue
    mine_url: str = ""
    unassigned_url: str = ""
    overdue_url: str = ""

    @property
    def has_work(self) -> bool:
        return self.count > 0


@dataclass(frozen=True)
class HomePage:
    sections: list[HomeSection]
    summary: list[HomeSection]  # 所属長: counts without links
    can_search: bool
    rights: list[str]  # what the account may do, in words (委託事業者 reads its one job here)
    training_lapsed: bool


@dataclass(frozen=True)
class _Spec:
    key: str
    title: str
    work_of: Perm
    opens: Perm
    url_name: str
    count: Callable[[dt.date], int]
    note: str = ""
    query: str = ""
    queue: str = ""  # the work queue the list is (its counts replace `count`)


# --- counts (one query each) ------------------------------------------------------------


def _queue_total(queue: Queue) -> Callable[[dt.date], int]:
    """A work queue's open items, counted as the queue itself defines them."""

    def count(today: dt.date) -> int:
        return QUEUES[queue].items().order_by().count()

    return count


def _start_of(day: dt.date) -> dt.datetime:
    """Local midnight of `day` (a range on an indexed column, not a `__date` cast)."""
    from django.utils import timezone

    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


def _imports_unfinished(today: dt.date) -> int:
    """取込依頼 still queued or running, and those that failed in the last week."""
    from django.db.models import Q

    from kokuho.interfaces.models import IMPORT_JOB_OPEN, ImportJob, ImportJobStatus

    since = _start_of(today - dt.timedelta(days=7))
    failed = (ImportJobStatus.FAILED, ImportJobStatus.REJECTED, ImportJobStatus.INTERRUPTED)
    return ImportJob.objects.filter(
        Q(status__in=IMPORT_JOB_OPEN) | Q(status__in=failed, created_at__gte=since)
    ).count()


def _continuity_open(today: dt.date) -> int:
    from kokuho.national.continuity import continuity_items

    return continuity_items().order_by().count()


def _national_alerts(today: dt.date) -> int:
    from kokuho.national.selectors import national_alerts

    return len(national_alerts())


def _applications_today(today: dt.date) -> int:
    from kokuho.benefits.lifecycle.models import BenefitApplication

    return BenefitApplication.objects.filter(received_on=today).count()


def _reductions_in_review(today: dt.date) -> int:
    from kokuho.benefits.reduction.models import CopayReductionApplication, CopayReductionDecision

    decided = CopayReductionDecision.objects.filter(application=OuterRef("pk"))
    return CopayReductionApplication.objects.filter(~Exists(decided)).count()


def _kogaku_applications_undecided(today: dt.date) -> int:
    from kokuho.benefits.models import KogakuApplication, KogakuDecision

    decided = KogakuDecision.objects.filter(
        household_id=OuterRef("household_id"), month=OuterRef("month")
    )
    return KogakuApplication.objects.filter(~Exists(decided)).count()


def _carry_candidates(today: dt.date) -> int:
    from kokuho.benefits.kogaku.carry_candidates import kogaku_carry_candidates

    return kogaku_carry_candidates().order_by().count()


def _payments(*statuses: str) -> Callable[[dt.date], int]:
    def count(today: dt.date) -> int:
        from kokuho.payments.models import Payment

        return Payment.objects.filter(status__in=statuses).count()

    return count


def _accounts_flagged(today: dt.date) -> int:
    from kokuho.accounts.selectors import access_review_flagged, access_review_rows

    return len(access_review_flagged(rows=access_review_rows(on=today)))


def _login_locks(today: dt.date) -> int:
    from kokuho.accounts.selectors import login_locks_current

    return len(login_locks_current())


def _incidents_open(today: dt.date) -> int:
    from kokuho.audit.models import Incident

    return Incident.objects.filter(closed_at__isnull=True).count()


def _inspections_unsigned(today: dt.date) -> int:
    """Months whose newest 自己点検 run is not yet confirmed by the 所属長."""
    from kokuho.audit.models import SelfInspection

    later = SelfInspection.objects.filter(month=OuterRef("month"), run_at__gt=OuterRef("run_at"))
    return SelfInspection.objects.filter(signed_at__isnull=True).filter(~Exists(later)).count()


def _exports_this_month(today: dt.date) -> int:
    from kokuho.interfaces.models import ExportRecord

    return ExportRecord.objects.filter(produced_at__gte=_start_of(today.replace(day=1))).count()


# --- the sections, in the order the home shows them -------------------------------------

_HELD, _RETURNED, _DUE = "held", "returned", "due"

SECTIONS: tuple[_Spec, ...] = (
    # 窓口担当: today's counter work beside the search box.
    _Spec(
        "applications_today",
        "本日受付の給付申請",
        Perm.BENEFITS_VIEW,
        Perm.BENEFITS_VIEW,
        "benefit_applications",
        _applications_today,
    ),
    _Spec(
        "returns",
        "返還未済の証",
        Perm.ELIGIBILITY_VIEW,
        Perm.ELIGIBILITY_VIEW,
        "documents_returns",
        _queue_total(Queue.DOCUMENT_RETURNS),
        queue=Queue.DOCUMENT_RETURNS,
    ),
    # 資格担当
    _Spec(
        "imports",
        "取込依頼（処理中・直近の失敗）",
        Perm.IMPORT_FILES,
        Perm.IMPORT_FILES,
        "imports",
        _imports_unfinished,
    ),
    _Spec(
        "quarantine",
        "取込の保留行",
        Perm.ELIGIBILITY_CHANGE,
        Perm.ELIGIBILITY_CHANGE,
        "quarantine_list",
        _queue_total(Queue.QUARANTINE),
        queue=Queue.QUARANTINE,
    ),
    _Spec(
        "national_items",
        "連携の作業項目",
        Perm.ELIGIBILITY_CHANGE,
        Perm.ELIGIBILITY_CHANGE,
        "national_work_items",
        _queue_total(Queue.NATIONAL_ITEMS),
        queue=Queue.NATIONAL_ITEMS,
    ),
    _Spec(
        "continuity",
        "資格継続の作業項目",
        Perm.ELIGIBILITY_CHANGE,
        Perm.ELIGIBILITY_VIEW,
        "national_continuity",
        _continuity_open,
    ),
    _Spec(
        "national_status",
        "連携状況の警告",
        Perm.SYSTEM_STATUS_VIEW,
        Perm.SYSTEM_STATUS_VIEW,
        "national_status",
        _national_alerts,
        note="各連携の最終ファイル・処理結果の未着・作業項目の件数（住民の情報は表示しません）",
    ),
    # 給付担当: what to decide, then what to pay.
    _Spec(
        "applications",
        "審査中の給付の申請",
        Perm.BENEFITS_DECIDE,
        Perm.BENEFITS_VIEW,
        "benefit_applications",
        _queue_total(Queue.APPLICATIONS),
        queue=Queue.APPLICATIONS,
    ),
    _Spec(
        "kogaku_applications",
        "未決定の高額療養費の申請",
        Perm.BENEFITS_DECIDE,
        Perm.BENEFITS_VIEW,
        "kogaku_runs",
        _kogaku_applications_undecided,
    ),
    _Spec(
        "reductions",
        "審査中の一部負担金の減免",
        Perm.BENEFITS_DECIDE,
        Perm.BENEFITS_VIEW,
        "reduction_applications",
        _reductions_in_review,
    ),
    _Spec(
        "claims_unmatched",
        "未照合レセプト",
        Perm.BENEFITS_DECIDE,
        Perm.BENEFITS_VIEW,
        "claims_unmatched",
        _queue_total(Queue.CLAIMS_UNMATCHED),
        queue=Queue.CLAIMS_UNMATCHED,
    ),
    _Spec(
        "cases",
        "調査・求償の案件（未終結）",
        Perm.BENEFITS_DECIDE,
        Perm.BENEFITS_VIEW,
        "cases_list",
        _queue_total(Queue.CASES),
        queue=Queue.CASES,
    ),
    _Spec(
        "carry_candidates",
        "高額該当引継の候補",
        Perm.BENEFITS_DECIDE,
        Perm.BENEFITS_VIEW,
        "national_carry_candidates",
        _carry_candidates,
    ),
    _Spec(
        "payments_due",
        "支払待ち（次の支払処理の対象）",
        Perm.PAYMENTS_VIEW,
        Perm.PAYMENTS_VIEW,
        "payment_runs",
        _payments(_DUE),
    ),
    _Spec(
        "payments_held",
        "保留・振込不能の支払",
        Perm.PAYMENTS_VIEW,
        Perm.PAYMENTS_VIEW,
        "payments_held",
        _payments(_HELD, _RETURNED),
    ),
    # 管理者
    _Spec(
        "accounts_flagged",
        "点検で指摘のあるアカウント",
        Perm.STAFF_MANAGE,
        Perm.STAFF_MANAGE,
        "account_access_review",
        _accounts_flagged,
    ),
    _Spec(
        "login_locks",
        "ログイン停止中のアカウント・端末",
        Perm.STAFF_MANAGE,
        Perm.STAFF_MANAGE,
        "account_locks",
        _login_locks,
    ),
    # 監査担当
    _Spec(
        "incidents",
        "未終結の重大事故等",
        Perm.INCIDENT_MANAGE,
        Perm.INCIDENT_MANAGE,
        "incident_list",
        _incidents_open,
    ),
    _Spec(
        "inspections",
        "所属長の確認待ちの自己点検",
        Perm.SELF_INSPECTION,
        Perm.SELF_INSPECTION,
        "inspection_list",
        _inspections_unsigned,
    ),
    _Spec(
        "exports",
        "今月の外部出力（記録）",
        Perm.AUDIT_VIEW,
        Perm.AUDIT_VIEW,
        "export_register",
        _exports_this_month,
    ),
    # 所属長
    _Spec(
        "sign_offs",
        "確認待ちの自己点検",
        Perm.SELF_INSPECTION_SIGN_OFF,
        Perm.SELF_INSPECTION_SIGN_OFF,
        "inspection_review_list",
        _inspections_unsigned,
    ),
)

# 課の状況 for the 所属長: the queues by count, no links (the lists name residents).
SUMMARY: tuple[tuple[str, str, Callable[[dt.date], int]], ...] = (
    ("quarantine", "取込の保留行", _queue_total(Queue.QUARANTINE)),
    ("national_items", "連携の作業項目", _queue_total(Queue.NATIONAL_ITEMS)),
    ("applications", "審査中の給付の申請", _queue_total(Queue.APPLICATIONS)),
    ("reductions", "審査中の一部負担金の減免", _reductions_in_review),
    ("claims_unmatched", "未照合レセプト", _queue_total(Queue.CLAIMS_UNMATCHED)),
    ("payments_held", "保留・振込不能の支払", _payments(_HELD, _RETURNED)),
)


def _section(spec: _Spec, *, user: User, today: dt.date) -> HomeSection:
    url = reverse(spec.url_name) + spec.query
    if not spec.queue:
        return HomeSection(spec.key, spec.title, spec.count(today), url, spec.note)
    counts = queue_counts(QUEUES[spec.queue], user=user, today=today)
    join = "&" if "?" in url else "?"
    return HomeSection(
        spec.key,
        spec.title,
        counts.total,
        url,
        spec.note,
        queue=counts,
        mine_url=f"{url}{join}assignee=me",
        unassigned_url=f"{url}{join}assignee=none",
        overdue_url=f"{url}{join}due=overdue",
    )


def home_sections(*, user: User, today: dt.date, training_valid: bool) -> HomePage:
    """The home of `user`: the sections of every role it holds (see the module docstring).
    An account whose 研修 has lapsed gets no section that opens personal data (the
    middleware would refuse the list) and is told why instead."""
    granted = permissions_for_roles({g.name for g in user.groups.all()})
    usable = granted if training_valid else granted - PERSONAL_DATA_PERMISSIONS
    sections = [
        _section(spec, user=user, today=today)
        for spec in SECTIONS
        if spec.work_of in usable and spec.opens in usable
    ]
    summary = []
    if Perm.SELF_INSPECTION_SIGN_OFF in granted:
        summary = [HomeSection(key, title, count(today), "") for key, title, count in SUMMARY]
    rights = [perm.label for perm in Perm if perm in granted]
    return HomePage(
        sections=sections,
        summary=summary,
        can_search=Perm.PEOPLE_SEARCH in usable,
        rights=rights,
        training_lapsed=not training_valid and bool(granted & PERSONAL_DATA_PERMISSIONS),
    )
