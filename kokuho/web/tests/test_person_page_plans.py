"""The person page (個人照会) at city scale (issue 18): every query `person_detail` sends
for residents of a city large enough that PostgreSQL's planner prefers a sequential scan
wherever an index is missing — a bounded number of queries, the same for a one-person
household as for the biggest, and each one's plan on an index.

PostgreSQL only (its planner and `EXPLAIN` are what is checked; the SQLite pass skips).
The city is built once for the module, inside a transaction rolled back at the end (about
10 s on 2 cores): the demo city (`city_generate` + `city_load`, `HOUSEHOLDS` 世帯, ~6,500
residents), the initial eligibility, last month's 住基異動 through the real importer (former
residents, residents whose history names another household), a month of レセプト and its
高額療養費 run (the 給付 section's rows), one full extract of 資格情報（個人） (the 連携 section,
the アクセス記録's provisions), an audit trail of a city in use (`_audit_trail`), `ANALYZE`.
The page is rendered as 資格担当 (opened for 資格: 資格, 証・通知, 連携, アクセス記録) and as
給付担当 (opened for 給付: 資格, 給付, 振込先口座) for one resident of each kind `_residents`
picks, each viewed once before (the アクセス記録 then names a clerk, as in use).

The rules, for every SELECT the page sends (Django's captured SQL is already interpolated
on PostgreSQL — psycopg's client-side binding — so it is explained as it ran):

1. `EXPLAIN (ANALYZE, FORMAT JSON)` as the planner chooses. A `Seq Scan` is allowed only
   on a relation whose `pg_class.reltuples` is at most `BIG_TABLE_ROWS` (1,000): the
   clerk's session, account, groups and training record, the audit chain head, tables still
   empty here — read whole in microseconds; a table that grows with the city (~6,500
   residents, 8,000+ history rows, 20,000+ audit events here) may not be. Any other scan
   node (index, bitmap) reads at most `MAX_ROWS_READ` (200) rows — rows returned plus rows
   removed by a filter or a recheck, over all loops: an index used but not selective fails
   here (e.g. the アクセス記録 falling back to every list-screen event).
2. `EXPLAIN` with `enable_seqscan = off`: a `Seq Scan` that remains means no index can
   serve the query at all, whatever the table's size today — this covers the tables small
   in this city but large in production (証・通知, 支払, 振込先口座, 作業項目).
   `SEQ_SCAN_ALLOWED` would name a table exempt by design; none is needed today.

Planning + execution times (from EXPLAIN ANALYZE) are summed per page and printed for the
record; tests never assert times — the 1,000,000-resident figures are measured by hand
(docs/architecture.md "Performance").
"""

import datetime as dt
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.db.models import Count, Max
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kokuho.accounts.permissions import Role
from kokuho.testing import login_verified, make_staff

pytestmark = [
    pytest.mark.django_db(databases=["default", "vault"]),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="PostgreSQL の実行計画を検査するテスト（SQLite の回では実行しない）",
    ),
]

HOUSEHOLDS = 3000  # ~6,500 residents: every per-resident table is past BIG_TABLE_ROWS
SEED = 7
BIG_TABLE_ROWS = 1000
MAX_ROWS_READ = 200
MAX_QUERIES = 40  # measured: 38 (資格担当), 32 (給付担当), whatever the resident
SEQ_SCAN_ALLOWED: frozenset[str] = frozenset()


@dataclass(frozen=True)
class City:
    today: dt.date
    residents: dict[str, str]  # kind → 宛名番号


@pytest.fixture(scope="module")
def city(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[City]:
    from kokuho.benefits.kogaku.run import (
        kogaku_latest_confirmed_month,
        kogaku_run_create,
        kogaku_run_execute,
    )
    from kokuho.demo.changes import changes_generate
    from kokuho.demo.city import city_generate, city_load
    from kokuho.demo.claims import claims_csv_write
    from kokuho.eligibility.batch import eligibility_derive_initial
    from kokuho.interfaces.services import import_claims, import_residents_changes
    from kokuho.national.ledger import national_export
    from kokuho.national.models import Feed

    directory = tmp_path_factory.mktemp("city")
    today = timezone.localdate()
    last_month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    with (
        django_db_blocker.unblock(),
        override_settings(
            VAR_DIR=directory,
            KOKUHO_NATIONAL_DIR=directory / "national",
            KOKUHO_DOCUMENTS_DIR=directory / "documents",
        ),
    ):
        atomic = transaction.atomic(using="default")
        atomic.__enter__()
        try:
            started = time.perf_counter()
            city_load(city_generate(households=HOUSEHOLDS, seed=SEED, on=today), source="test")
            eligibility_derive_initial(on=today)
            changes = changes_generate(
                month=last_month, seed=SEED, directory=directory, today=today
            )
            import_residents_changes(path=changes.path, actor=None)
            month = kogaku_latest_confirmed_month(before=today)
            claims_csv_write(directory / "claims.csv", month=month, seed=SEED)
            import_claims(path=directory / "claims.csv", actor=None, reported_on=today)
            kogaku_run_execute(run_id=kogaku_run_create(month=month, actor=None).pk)
            national_export(feed=Feed.SHUYAKU_PERSON, as_of=today, full=True, actor=None)
            _audit_trail()
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            built = time.perf_counter() - started
            print(f"\ncity of {HOUSEHOLDS:,} households built in {built:.1f} s")
            yield City(today=today, residents=_residents(today))
        finally:
            transaction.set_rollback(True, using="default")
            atomic.__exit__(None, None, None)


def _audit_trail() -> None:
    """The audit trail of a city in use (監査ログ), appended the way batch jobs append: each
    resident viewed twice, each household once (with its members shown), and one list
    screen (`persons_shown`, `households_shown`) for every 10 residents — so that the
    アクセス記録's look-ups meet a trail much longer than any one resident's part of it."""
    from kokuho.audit.models import EventType, SubjectType
    from kokuho.audit.services import AuditEntry, audit_events_record
    from kokuho.core.purposes import Purpose
    from kokuho.people.models import Person

    people = list(Person.objects.order_by("pk").values_list("atena_no", "household__household_no"))
    viewed = [
        AuditEntry(EventType.PERSON_VIEWED, SubjectType.PERSON, atena_no, Purpose.NHI_ELIGIBILITY)
        for atena_no, _ in people * 2
    ]
    members: dict[str, list[str]] = {}
    for atena_no, household_no in people:
        members.setdefault(household_no, []).append(atena_no)
    households = [
        AuditEntry(
            EventType.HOUSEHOLD_VIEWED,
            SubjectType.HOUSEHOLD,
            number,
            Purpose.NHI_ELIGIBILITY,
            {"screen": "household_detail", "members_shown": shown},
        )
        for number, shown in members.items()
    ]
    lists = [
        AuditEntry(
            EventType.PERSON_VIEWED,
            SubjectType.SYSTEM,
            purpose=Purpose.NHI_ELIGIBILITY,
            extra={
                "screen": "queue",
                "persons_shown": [a for a, _ in people[i : i + 50]],
                "households_shown": sorted({h for _, h in people[i : i + 50]}),
            },
        )
        for i in range(0, len(people), 10)
    ]
    audit_events_record(viewed + households + lists, actor=None)


def _residents(today: dt.date) -> dict[str, str]:
    """One resident of each kind the page shows differently."""
    from kokuho.benefits.models import KogakuPersonResult
    from kokuho.people.models import Household, Person, PersonHistory

    living = Person.objects.filter(resident_until__isnull=True, household__dissolved_on=None)
    sizes = Household.objects.filter(members__resident_until__isnull=True).annotate(
        n=Count("members")
    )
    biggest = sizes.order_by("-n", "pk").first()
    single = sizes.filter(n=1).order_by("pk").first()
    seventy = living.filter(
        birth_date__gt=today.replace(year=today.year - 75),
        birth_date__lte=today.replace(year=today.year - 70),
        current_eligibility__isnull=False,
    )
    moved = PersonHistory.objects.filter(snapshot__has_key="household_no").exclude(
        person__resident_until__isnull=False
    )
    claimed = KogakuPersonResult.objects.values("person").annotate(n=Max("result__benefit"))
    print(f"biggest household: {biggest.n} members")
    return {
        "head of the biggest household": biggest.head.atena_no,
        "one-person household": single.members.get().atena_no,
        "70-74": seventy.order_by("pk").first().atena_no,
        "former resident": Person.objects.filter(resident_until__isnull=False)
        .order_by("pk")
        .first()
        .atena_no,
        "household changed": moved.order_by("pk").first().person.atena_no,
        "with 高額療養費": Person.objects.get(
            pk=claimed.order_by("-n", "person").first()["person"]
        ).atena_no,
    }


# --- plans -----------------------------------------------------------------------------


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


def _explain(sql: str, *, analyze: bool) -> dict[str, Any]:
    options = "ANALYZE, FORMAT JSON" if analyze else "FORMAT JSON"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN ({options}) {sql}")
        plan = cursor.fetchone()[0]
    return (plan if isinstance(plan, list) else json.loads(plan))[0]


def _reltuples(tables: set[str]) -> dict[str, float]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples FROM pg_class WHERE relname = ANY(%s) AND relkind = 'r'",
            [sorted(tables)],
        )
        return dict(cursor.fetchall())


def _rows_read(node: dict[str, Any]) -> float:
    per_loop = (
        node.get("Actual Rows", 0)
        + node.get("Rows Removed by Filter", 0)
        + node.get("Rows Removed by Index Recheck", 0)
    )
    return per_loop * node.get("Actual Loops", 1)


def _problems(sql: str) -> tuple[list[str], float, list[str]]:
    """What the query's plans break of the module's rules, its planning + execution time
    (ms), and its access paths (for the printed record)."""
    plan = _explain(sql, analyze=True)
    scans = [n for n in _nodes(plan["Plan"]) if "Relation Name" in n]
    sizes = _reltuples({n["Relation Name"] for n in scans})
    problems = []
    for node in scans:
        table = node["Relation Name"]
        if node["Node Type"] == "Seq Scan":
            if sizes.get(table, 0) > BIG_TABLE_ROWS:
                problems.append(f"Seq Scan on {table} ({sizes[table]:.0f} rows)")
        elif _rows_read(node) > MAX_ROWS_READ:
            problems.append(f"{node['Node Type']} on {table} reads {_rows_read(node):.0f} rows")
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
    try:
        forced = _explain(sql, analyze=False)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET enable_seqscan")
    for node in _nodes(forced["Plan"]):
        table = node.get("Relation Name")
        if node["Node Type"] == "Seq Scan" and table not in SEQ_SCAN_ALLOWED:
            problems.append(f"no index can serve the scan of {table}")
    paths = [
        f"{n['Node Type']} {n['Relation Name']}"
        + (f" ({n['Index Name']})" if "Index Name" in n else "")
        for n in scans
    ]
    return problems, plan["Planning Time"] + plan["Execution Time"], paths


@dataclass(frozen=True)
class Page:
    queries: int
    problems: list[str]
    db_ms: float
    record: list[str]


def _page(client, atena_no: str, purpose: str) -> Page:
    url = reverse("person_detail", args=[atena_no])
    with (
        CaptureQueriesContext(connection) as captured,
        CaptureQueriesContext(connections["vault"]) as vault,
    ):
        response = client.get(url, {"purpose": purpose})
    assert response.status_code == 200, atena_no
    assert len(vault) == 0  # the page never opens the identity vault
    problems, record, total = [], [], 0.0
    for query in captured:
        sql = query["sql"]
        if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
            record.append(f"  -- {sql[:70]}")
            continue
        assert "%s" not in sql, "the captured SQL is interpolated on PostgreSQL"
        found, ms, paths = _problems(sql)
        total += ms
        problems += [f"{p}: {sql[:300]}" for p in found]
        record.append(f"  {ms:6.2f} ms  {sql[:90]}…\n             {'; '.join(paths)}")
    return Page(len(captured), problems, total, record)


@pytest.mark.parametrize(
    ("role", "purpose"),
    [(Role.ELIGIBILITY, "nhi_eligibility"), (Role.BENEFITS, "nhi_benefits")],
    ids=["資格担当", "給付担当"],
)
def test_the_person_page_reads_each_resident_by_index(client, city, role, purpose):
    login_verified(client, make_staff(role=role))
    pages = {}
    for kind, atena_no in city.residents.items():
        # Viewed once before: the access record then holds a clerk, as it does in use.
        client.get(reverse("person_detail", args=[atena_no]), {"purpose": purpose})
        pages[kind] = _page(client, atena_no, purpose)
    print(f"\n== {role} ({purpose}), {HOUSEHOLDS:,} households")
    for kind, page in pages.items():
        print(f"{kind}: {page.queries} queries, {page.db_ms:.2f} ms of database time")
        print("\n".join(page.record))
    for kind, page in pages.items():
        assert not page.problems, f"{kind}:\n" + "\n".join(page.problems)
        assert page.queries <= MAX_QUERIES, f"{kind}: {page.queries} queries"
    assert pages["head of the biggest household"].queries == pages["one-person household"].queries
