"""高額療養費 月次計算 (`kokuho kogaku run --month YYYY-MM`, and the screen's button).

`kogaku_run_submit` records a `KogakuRun` and enqueues `kogaku_run_task` in the same
transaction (the task queue is a table of the business database, as for 取込依頼); the
worker — or the command, in the foreground — calls `kogaku_run_execute`, which reads the
month in bulk (`kogaku.month`), runs the engine once over every candidate household, and
stores the results in bulk. A month whose limits are not confirmed ends `refused` with the
reason and stores nothing. Running a month again makes a new run; the newest finished run of
a month is the current one (`kogaku_current_run`).
"""

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable
from typing import Any

import duckdb
import pyarrow as pa
from django.conf import settings
from django.db import connection, transaction
from django.tasks import task
from django.utils import timezone

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.benefits.kogaku.carried import kogaku_carried_insurers
from kokuho.benefits.kogaku.engine import engine_run
from kokuho.benefits.kogaku.month import (
    CATEGORY_SCHEMA,
    MANY_SCHEMA,
    RAW_SCHEMA,
    candidates_find,
    claims_load,
    engine_tables_load,
    many_window,
)
from kokuho.benefits.kogaku.recompute import kogaku_redetermine
from kokuho.benefits.kogaku.rules import MonthRules, MonthUnconfirmed, month_rules
from kokuho.benefits.kogaku.stored import explanations_read
from kokuho.benefits.kogaku.workflow import (
    kogaku_current_runs,
    kogaku_followups,
)
from kokuho.benefits.models import (
    Claim,
    ClaimMatch,
    KogakuPersonResult,
    KogakuResult,
    KogakuRun,
    KogakuRunStatus,
)
from kokuho.core.bulkwrite import row_writer
from kokuho.core.forking import reads_map
from kokuho.core.liveness import dead_runs_close, worker_id
from kokuho.core.mynumber import mask_my_numbers_in
from kokuho.core.purposes import Purpose
from kokuho.eligibility.selectors import (
    burden_bases_load,
    current_periods_by_person,
    person_state_from,
)
from kokuho.people.models import Person

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]

# What a household's largest step was, for the run's summary (reasons shown to staff).
STEP_REASONS = {
    "1": "70〜74歳の外来（個人）",
    "1a": "70〜74歳の外来年間上限",
    "5": "75歳到達月の特例",
    "2": "70〜74歳の世帯合算",
    "3": "世帯合算",
}
_CHUNK = 5000


INTERRUPTED_MESSAGE = (
    "計算していたプロセスが途中で停止しました（中断）。この計算の結果は保存されていません。"
    "もう一度実行してください。"
)


def kogaku_runs_interrupted_mark(*, now: dt.datetime | None = None) -> int:
    """Close as 失敗 every 計算中 run whose process is gone (`kokuho.core.liveness`); the
    number closed. Its results were never saved: they are written with the run's end."""
    now = now or timezone.now()
    return dead_runs_close(
        KogakuRun.objects.filter(status=KogakuRunStatus.RUNNING),
        now=now,
        status=KogakuRunStatus.FAILED,
        finished_at=now,
        error_message=INTERRUPTED_MESSAGE,
    )


def kogaku_run_create(*, month: dt.date, actor: Any | None) -> KogakuRun:
    kogaku_runs_interrupted_mark()
    return KogakuRun.objects.create(
        month=month.replace(day=1),
        requested_by=actor,
        created_at=timezone.now(),
    )


def kogaku_run_submit(*, month: dt.date, actor: Any) -> KogakuRun:
    """Queue the month for the background worker (the screen's path)."""
    with transaction.atomic():
        run = kogaku_run_create(month=month, actor=actor)
        result = kogaku_run_task.enqueue(run_id=run.pk)
        KogakuRun.objects.filter(pk=run.pk).update(task_id=str(result.id))
    return run


@task()
def kogaku_run_task(*, run_id: int) -> str:
    """The worker's task (thin; the work is `kogaku_run_execute`)."""
    return kogaku_run_execute(run_id=run_id).status


def _progress(run_id: int, on_progress: Progress | None) -> Progress:
    def report(stage: str, done: int, total: int) -> None:
        KogakuRun.objects.filter(pk=run_id).update(
            stage=stage, done=done, total=total, heartbeat_at=timezone.now()
        )
        if on_progress:
            on_progress(stage, done, total)

    return report


def _finish(run_id: int, status: KogakuRunStatus, **fields: Any) -> KogakuRun:
    KogakuRun.objects.filter(pk=run_id).update(status=status, finished_at=timezone.now(), **fields)
    return KogakuRun.objects.get(pk=run_id)


def kogaku_run_execute(*, run_id: int, on_progress: Progress | None = None) -> KogakuRun:
    """Compute a queued run; the run as it ended. A run no longer queued is left alone."""
    now = timezone.now()
    claimed = KogakuRun.objects.filter(pk=run_id, status=KogakuRunStatus.QUEUED).update(
        status=KogakuRunStatus.RUNNING, started_at=now, worker=worker_id(), heartbeat_at=now
    )
    run = KogakuRun.objects.get(pk=run_id)
    if not claimed:
        return run
    try:
        rules = month_rules(run.month)
    except MonthUnconfirmed as refused:
        return _finish(run_id, KogakuRunStatus.REFUSED, error_message=str(refused))
    try:
        _compute(run, rules, _progress(run_id, on_progress))
    except BaseException as error:
        logger.exception("kogaku run %s failed", run_id)
        failed = _finish(
            run_id,
            KogakuRunStatus.FAILED,
            error_message=mask_my_numbers_in(f"{type(error).__name__}: {error}"),
        )
        if not isinstance(error, Exception):
            raise
        return failed
    return KogakuRun.objects.get(pk=run_id)


def _claims_read(month: dt.date) -> pa.Table:
    rows = (
        Claim.objects.filter(service_month=month, match=ClaimMatch.MATCHED)
        .order_by("pk")
        .values_list(
            "pk",
            "household_number__household_id",
            "person_id",
            "person__birth_date",
            "provider",
            "setting",
            "kind",
            "prescribed_by",
            "points",
            "copay",
            "specific_disease",
            "limit_applied",
        )
    )
    everything = [*rows.iterator(chunk_size=20000), *_ryoyohi_rows(month)]
    columns = list(zip(*everything, strict=True)) or [[] for _ in RAW_SCHEMA]
    return pa.Table.from_arrays(
        [pa.array(col, type=f.type) for col, f in zip(columns, RAW_SCHEMA, strict=True)],
        schema=RAW_SCHEMA,
    )


RYOYOHI_BENEFITS = ("ryoyohi", "kaigai")


def _ryoyohi_rows(month: dt.date) -> list[tuple]:
    """The month's 療養費 as claims (payments.md §2): each standing 支給 of a 療養費 or
    海外療養費 whose care was in `month` brings its 一部負担金相当額, outpatient 医科 at a
    provider of its own (a negative claim id, a code no real provider has), so the engine
    counts it like a claim — under 70 when it reaches the 21,000 floor on its own."""
    from kokuho.benefits.models import BenefitDecision

    rows = []
    for pk, household_id, person_id, birth, inputs, amount in (
        BenefitDecision.objects.filter(
            application__benefit__in=RYOYOHI_BENEFITS,
            outcome__in=["paid", "partial"],
            changed_by__isnull=True,
            inputs__facts__service_date__startswith=f"{month:%Y-%m}",
        )
        .order_by("pk")
        .values_list(
            "pk",
            "application__household_id",
            "application__subject_id",
            "application__subject__birth_date",
            "inputs",
            "amount",
        )
    ):
        counted = int(inputs.get("counted_copay") or 0)
        if counted <= 0:
            continue
        points = (counted + amount + 5) // 10
        rows.append(
            (-pk, household_id, person_id, birth, f"R{pk:09d}", 2, 1, "", points, counted,
             False, False)
        )  # fmt: skip
    return rows


def _insured_day(periods: list, month: dt.date) -> dt.date:
    """The first day of `month` on which the person was insured (the month's 1st if none)."""
    last = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    for period in periods:
        start, end = period.start, period.end or last
        if start <= last and end >= month:
            return max(start, month)
    return month


CATEGORY_CHUNK = 2000


def _categories(
    con: duckdb.DuckDBPyConnection, month: dt.date, rules: MonthRules, progress: Progress
) -> tuple[dict[tuple[int, str], str], list[int]]:
    """(household, age group) → band key, deciding one member per group by the eligibility
    rules; households whose category cannot be decided are returned apart.

    Deciding is in bulk (`burden_bases_load`, a fixed number of queries per chunk of
    members who share the day they are decided on — the month's 1st for nearly all, the
    day they joined for those insured part of it), exactly as `person_state_on` decides
    one person (tested): one person at a time cost ~40 ms each, hours at city scale."""
    pairs = con.execute(
        """
        SELECT hh, grp, arg_min(pid, ord) AS pid FROM m_people
        WHERE hh IN (SELECT hh FROM m_candidates) GROUP BY hh, grp ORDER BY hh, grp
        """
    ).fetchall()
    periods = current_periods_by_person(person_ids=[pid for _, _, pid in pairs])
    by_day: dict[dt.date, list[tuple[int, str, int]]] = {}
    for hh, group, pid in pairs:
        by_day.setdefault(_insured_day(periods[pid], month), []).append((hh, group, pid))
    tasks = [
        (day, members[start : start + CATEGORY_CHUNK])
        for day, members in sorted(by_day.items())
        for start in range(0, len(members), CATEGORY_CHUNK)
    ]
    categories: dict[tuple[int, str], str] = {}
    unknown: set[int] = set()
    done = 0
    progress("所得区分の判定", 0, len(pairs))
    # Reads only: in forked workers on PostgreSQL, a chunk each (core.forking.reads_map).
    for labels in reads_map(_chunk_labels, tasks, workers=settings.KOKUHO_READ_WORKERS):
        for hh, group, label in labels:
            band = rules.band_for_label(group, label) if label is not None else None
            if band is None:
                unknown.add(hh)
            else:
                categories[(hh, group)] = band.key
        done += len(labels)
        progress("所得区分の判定", done, len(pairs))
    return {k: v for k, v in categories.items() if k[0] not in unknown}, sorted(unknown)


def _chunk_labels(
    task: tuple[dt.date, list[tuple[int, str, int]]],
) -> list[tuple[int, str, str | None]]:
    """(household, age group, 所得区分 label or None) for one chunk of members decided on one
    day, in a fixed number of queries."""
    day, members = task
    people = Person.objects.in_bulk([pid for _, _, pid in members])
    bases = burden_bases_load(persons=list(people.values()), day=day)
    labels = []
    for hh, group, pid in members:
        state = person_state_from(basis=bases[pid], on=day)
        labels.append((hh, group, str(state.category.value) if state.category else None))
    return labels


def kogaku_latest_confirmed_month(*, before: dt.date) -> dt.date:
    """The latest 診療月 before `before`'s month whose limits are all confirmed."""
    month = (before.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    for _ in range(36):
        try:
            month_rules(month)
        except MonthUnconfirmed:
            month = (month - dt.timedelta(days=1)).replace(day=1)
            continue
        return month
    raise MonthUnconfirmed(f"{before:%Y-%m} より前の3年間に限度額の確定した月がありません")


def _paid_months(
    households: list[int], month: dt.date, rules: MonthRules
) -> tuple[dict[int, list[dt.date]], dict[int, dict[dt.date, str]]]:
    """The months of the 多数回 window in which each household was paid by a household step:
    here (current runs only), or at a former city of the prefecture (高額該当の引継ぎ, standing
    entries only) — a month both here and carried counts once. Also the months counted only
    because they were carried, with the former city's 保険者番号 (for the 計算明細)."""
    first, last = many_window(month, rules)
    current = kogaku_current_runs(first=first, last=last)
    paid: dict[int, set[dt.date]] = {}
    for hh, paid_month in KogakuResult.objects.filter(
        run_id__in=list(current.values()),
        household_id__in=households,
        household_step_benefit__gt=0,
    ).values_list("household_id", "month"):
        paid.setdefault(hh, set()).add(paid_month)
    carried: dict[int, dict[dt.date, str]] = {}
    for hh, months in kogaku_carried_insurers(
        household_ids=households, first=first, last=last
    ).items():
        own = paid.setdefault(hh, set())
        carried[hh] = {m: insurer for m, insurer in months.items() if m not in own}
        own.update(months)
    return (
        {hh: sorted(months) for hh, months in paid.items() if months},
        {hh: months for hh, months in carried.items() if months},
    )


def _compute(run: KogakuRun, rules: MonthRules, progress: Progress) -> None:
    month = run.month
    progress("レセプトの読み込み", 0, 1)
    rows = _claims_read(month)
    progress("レセプトの読み込み", 1, 1)
    unmatched = Claim.objects.filter(service_month=month).exclude(match=ClaimMatch.MATCHED)
    with duckdb.connect() as con:
        claims_load(con, rows, month)
        (households,) = con.execute("SELECT count(DISTINCT hh) FROM m_people").fetchall()[0]
        candidates = candidates_find(con, rules)
        categories, unknown = _categories(con, month, rules, progress)
        prior, carried = _paid_months(candidates, month, rules)
        many = {hh for hh, months in prior.items() if len(months) >= rules.many_min_prior_months}
        progress("計算", 0, 1)
        engine_tables_load(
            con,
            categories=pa.Table.from_pylist(
                [{"hh": hh, "grp": grp, "cat": cat} for (hh, grp), cat in categories.items()],
                schema=CATEGORY_SCHEMA,
            ),
            many=pa.Table.from_pylist([{"hh": hh} for hh in sorted(many)], schema=MANY_SCHEMA),
        )
        engine_run(con, rules)
        results = con.execute(
            """
            SELECT r.hh, r.benefit, r.household_step_benefit, r.many_times,
                r.household_limit, s.step
            FROM k_results r LEFT JOIN (
                SELECT hh, arg_max(step, benefit) AS step FROM k_steps WHERE benefit > 0
                GROUP BY hh) s USING (hh)
            ORDER BY r.hh
            """
        ).fetchall()
        persons = con.execute(
            "SELECT hh, pid, counted_copay, benefit FROM k_persons ORDER BY hh, pid"
        ).fetchall()
        explanations = explanations_read(con, prior, carried)
        progress("計算", 1, 1)
    # Everything the run writes, and its end, in one transaction: a run cut off part-way
    # (a killed process included) leaves no results, invitations or decisions behind, and
    # the next run of the month starts from the same state as if it had never begun.
    with transaction.atomic():
        _store(run, results, persons, explanations, progress)
        followups = kogaku_followups(run=run)
        # A month computed again decides its decided households again (変更決定).
        changes = kogaku_redetermine(run=run)
        paid = [r for r in results if r[1] > 0]
        reasons = Counter(STEP_REASONS[r[5]] for r in paid)
        counts = {
            "claims": rows.num_rows,
            "claims_unmatched": unmatched.count(),
            "households_with_claims": households,
            "candidates": len(candidates),
            "category_unknown": len(unknown),
            "computed": len(results),
            "paid": len(paid),
            "total_benefit": sum(r[1] for r in paid),
            "many_times": sum(1 for r in paid if r[3]),
            "reasons": dict(reasons.most_common()),
            "invitations": followups["invited"],
            "automatic_decisions": followups["decided"],
            "already_decided": followups["already_decided"],
            "changed_decisions": changes.changed,
            "additional_total": changes.additional,
            "refund_total": changes.refund,
        }
        audit_event_record(
            actor=run.requested_by,
            event_type=EventType.KOGAKU_RUN,
            purpose=Purpose.NHI_BENEFITS,
            subject_type=SubjectType.SYSTEM,
            subject_id=f"kogaku:{month:%Y-%m}",
            extra={k: v for k, v in counts.items() if k != "reasons"},
        )
        _finish(
            run.pk,
            KogakuRunStatus.DONE,
            counts=counts,
            parameters=[
                {"name": u.name, "from": u.start.isoformat(), "status": u.status}
                for u in rules.used
            ],
        )


RESULT_FIELDS = (
    "run", "month", "household", "benefit", "household_step_benefit", "many_times",
    "household_limit", "main_step", "explanation",
)  # fmt: skip


def _store(
    run: KogakuRun,
    results: list,
    persons: list,
    explanations: dict[int, dict[str, Any]],
    progress: Progress,
) -> None:
    by_household: dict[int, list] = {}
    for hh, pid, counted, benefit in persons:
        by_household.setdefault(hh, []).append((pid, counted, benefit))
    total = len(results)
    # Plain rows below the ORM (`core.bulkwrite`: a binary COPY on PostgreSQL): a model
    # instance and an adapted expression per value were most of this stage at city scale.
    writer = row_writer(connection)
    for start in range(0, total, _CHUNK):
        chunk = results[start : start + _CHUNK]
        with transaction.atomic():
            ids = writer.create_rows(
                KogakuResult,
                RESULT_FIELDS,
                [
                    (run.pk, run.month, hh, benefit, household_steps, many, limit, step or "",
                     explanations.get(hh))
                    for hh, benefit, household_steps, many, limit, step in chunk
                ],
            )  # fmt: skip
            writer.insert(
                KogakuPersonResult,
                ["result", "person", "counted_copay", "benefit"],
                [
                    (result_id, pid, counted, benefit)
                    for result_id, row in zip(ids, chunk, strict=True)
                    for pid, counted, benefit in by_household.get(row[0], [])
                ],
            )
        progress("結果の保存", min(start + _CHUNK, total), total)


def kogaku_run_summary(run: KogakuRun) -> str:
    """The run's outcome as staff read it at the end of the command and in the demo."""
    c = run.counts
    lines = [
        f"高額療養費 月次計算 {run.month:%Y-%m}（{run.get_status_display()}）",
        f"  レセプト {c.get('claims', 0):,} 件（照合できなかったもの "
        f"{c.get('claims_unmatched', 0):,} 件は計算に含めず）",
        f"  レセプトのある世帯 {c.get('households_with_claims', 0):,}・"
        f"支給の可能性がある世帯 {c.get('candidates', 0):,}・計算 {c.get('computed', 0):,}",
        f"  支給対象 {c.get('paid', 0):,} 世帯・支給額 合計 {c.get('total_benefit', 0):,} 円"
        f"（うち多数回該当 {c.get('many_times', 0):,} 世帯）",
    ]
    lines.append(
        f"  申請勧奨 {c.get('invitations', 0):,} 世帯・申請簡素化による支給決定 "
        f"{c.get('automatic_decisions', 0):,} 世帯"
        + (
            f"（決定済みのため対象外 {c['already_decided']:,} 世帯）"
            if c.get("already_decided")
            else ""
        )
    )
    if c.get("changed_decisions"):
        lines.append(
            f"  再計算による変更決定 {c['changed_decisions']:,} 世帯（追加支給 "
            f"{c.get('additional_total', 0):,} 円・返納 {c.get('refund_total', 0):,} 円）"
        )
    if c.get("category_unknown"):
        lines.append(f"  所得区分を判定できず計算しなかった世帯 {c['category_unknown']:,}")
    reasons = c.get("reasons") or {}
    if reasons:
        lines.append(
            "  主な理由: " + "、".join(f"{reason} {n:,} 世帯" for reason, n in reasons.items())
        )
    return "\n".join(lines)
