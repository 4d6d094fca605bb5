"""Counter load (窓口の負荷): the production server on PostgreSQL, a city of a million, and
simulated clerks searching and opening residents through the real pages.

    .venv/bin/python bench/counter_load.py [--households 476000] [--clients 20] [--duration 60]
                                           [--warmup 15] [--think 1.0] [--saturate 0]
                                           [--workers N] [--explain] [--profile] [--keep]

Setup (printed, not measured): the databases kokuho_bench_counter and
kokuho_bench_counter_vault (``KOKUHO_BENCH_PG``, default postgresql://postgres@127.0.0.1:5432,
trust auth) are created here and dropped at the end unless ``--keep``; both are migrated,
the vault's key file made (``kokuho vault init``), the demo city loaded by ``kokuho demo_city
--households N`` (476,000 households ≈ 1,000,000 residents), eligibility derived
(``eligibility_derive_initial``: the person page's 資格 and the 記号・番号 search need it),
one clerk account per client (``kokuho.testing.make_staff``: trained; even clients 窓口担当,
odd clients 資格担当, whose role needs the TOTP second factor), then ``VACUUM (ANALYZE)``.

The server is ``kokuho serve`` (gunicorn, its default workers) with the environment of
deploy/kokuho.env.example: ``KOKUHO_PRODUCTION=1`` (secure cookies, HSTS, the HTTPS
redirect, trust of the proxy), JSON logs at INFO, ``KOKUHO_DB_CONN_MAX_AGE=60``. Nothing is
relaxed for the benchmark: each client speaks to gunicorn as the city's TLS-terminating
proxy does — ``X-Forwarded-Proto: https`` and ``X-Forwarded-For`` with the clerk's own
terminal address — and keeps the (Secure) cookies itself, as the browser behind the proxy
does. What is not measured is TLS and the proxy's own hop.

Measured: each client (a process of its own, so no client waits on another's interpreter)
logs in through the real pages as a browser does (GET /login/, POST with the CSRF token;
for 資格担当 the 二要素認証 page with the current TOTP code), then loops over

* ``kana`` — 氏名カナ prefix search: the demo city's most common family names (Faker's ja_JP
  list, weighted as city.py draws them), whole (サトウ: ~6.5 % of the city) or their first
  two kana (サト, タカ …), up to the 100 rows the page shows;
* ``birth`` — 生年月日 search, dates of residents drawn from the city;
* ``number`` — alternately 宛名番号 and 記号・番号・枝番 (as printed on the 資格確認書) of a
  resident drawn from the city;
* ``person`` — the person page (資格, 証・通知, 連携 …) of one resident from the loop's results,

searches as htmx requests (the partial the search form asks for), each followed by a think
time drawn uniformly from [0, 2 × ``--think``] seconds (default 1 s: far busier than a real
counter). Only requests started after ``--warmup`` seconds count. Per operation: count,
errors (a status other than 200, a page without its result count, a search that found nothing
although its input was drawn from the city, a connection error), p50/p95/p99/max in ms. The
machine's CPU busy share and load averages during the run are printed too (the client
processes run on the same 2 cores as the server and the database: their CPU time is printed),
with the CPU time gunicorn and this run's PostgreSQL backends spent per request (what a
request costs whatever else the machine is doing) and gunicorn's own duration of the
searches and person pages from its access log (the time a request waited for a free worker
is not in it). ``--saturate S`` adds a second phase of S seconds without think time: the most
the server does.

Floors, measured in the same run with the server stopped, one process, the same inputs:

* ``sql`` — the search's own SQL (the selector's query, compiled by Django) run through a
  bare psycopg connection, rows fetched; for ``number`` both queries of the 記号・番号 path;
  for ``person`` the person row with its household;
* ``selector`` — ``person_search`` called directly (for 記号・番号 with
  ``person_ids_by_insured_number``); for ``person`` the reads the page makes (person,
  history, ``eligibility_summary``, 証・通知, 連携) without the audit event, session or HTML;
* ``view`` — the whole Django stack in one process (middleware, session, audit event,
  template) through Django's test client, one clerk of each role: no gunicorn, no HTTP,
  nothing else at the same time.

``ratio`` = the HTTP p95 ÷ the sql floor's p95. ``--explain`` prints ``EXPLAIN (ANALYZE,
BUFFERS)`` of each search and the indexes of the tables they read; ``--profile`` a cProfile
of a separate pass of the view floor (by cumulative and by own time), per operation.
Target (issue 18): p95 ≤ 30 ms for each search, no error. The last line is
``RESULT key=value ...``.
"""

import argparse
import contextlib
import hashlib
import hmac
import http.client
import http.cookies
import json
import multiprocessing
import os
import random
import re
import resource
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import Counter
from pathlib import Path
from typing import Any

from bench_databases import PG_SERVER, pg_create, pg_drop

ROOT = Path(__file__).resolve().parent.parent
PG_DB = "kokuho_bench_counter"
PG_VAULT_DB = "kokuho_bench_counter_vault"
KOKUHO = Path(sys.executable).with_name("kokuho")
MARKER = "BENCH_JSON "
TARGET_SEARCH_P95_MS = 30
SEARCHES = ("kana", "birth", "number")
OPS = (*SEARCHES, "person")
PURPOSE = "nhi_eligibility"
SAMPLE_PERSONS = 3000
SAMPLE_NUMBERS = 1500
KANA_NAMES = 12  # the most common family names, whole and by their first two kana
FLOOR_PER_OP = 300
VIEW_FLOOR_PER_OP = 100
PROFILE_LINES = 40
PROFILED = 50  # requests of each kind in the profiled pass


# --- children: setup and floors, in a Django process with the benchmark's environment -----


def _django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kokuho.settings")
    import django

    django.setup()


def _kana_inputs() -> list[str]:
    """The city's most common family names (city.py draws them with Faker's weights, in
    the order of its list), whole, then their first two kana."""
    from faker.providers.person.ja_JP import Provider

    from kokuho.demo.city import LAST_NAME_PAIRS

    weights = [float(w) for w in Provider.last_name_pairs.values()]
    ranked = sorted(zip(weights, LAST_NAME_PAIRS, strict=True), key=lambda item: -item[0])
    names = [kana for _weight, (_kanji, kana) in ranked[:KANA_NAMES]]
    return names + sorted({name[:2] for name in names})


def child_setup(clients: int, seed: int) -> None:
    _django()
    from django.db import connections
    from django.utils import timezone

    from kokuho.accounts.permissions import Role
    from kokuho.accounts.selectors import mfa_device_confirmed
    from kokuho.eligibility.batch import eligibility_derive_initial
    from kokuho.eligibility.models import BranchNumber
    from kokuho.people.models import Person
    from kokuho.people.selectors import SearchCriteria, person_search_query
    from kokuho.testing import TEST_PASSWORD, make_staff

    today = timezone.localdate()
    started = time.perf_counter()
    derived = eligibility_derive_initial(on=today)
    derive_s = time.perf_counter() - started

    started = time.perf_counter()
    clerks = []
    for index in range(clients):
        role = Role.COUNTER if index % 2 == 0 else Role.ELIGIBILITY
        user = make_staff(role=role, username=f"bench-clerk-{index:02d}")
        device = mfa_device_confirmed(user=user)
        totp = None
        if device is not None:
            totp = {
                "key": device.bin_key.hex(),
                "step": device.step,
                "t0": device.t0,
                "digits": device.digits,
                "drift": device.drift,
            }
        clerks.append(
            {"username": user.username, "password": TEST_PASSWORD, "role": role.name, "totp": totp}
        )
    staff_s = time.perf_counter() - started

    # VACUUM as well: the first read of freshly loaded rows sets their hint bits and writes
    # the pages again, which a database in service (autovacuum) has long done.
    started = time.perf_counter()
    for alias in ("default", "vault"):
        with connections[alias].cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")
    analyze_s = time.perf_counter() - started

    # Inputs drawn from the city (ids are allocated in one run by the loader: a range).
    rng = random.Random(seed)
    ids = Person.objects.order_by("id").values_list("id", flat=True)
    first, last = ids.first(), ids.last()
    picked = rng.sample(range(first, last + 1), min(SAMPLE_PERSONS, last - first + 1))
    persons = [
        (atena, birth.isoformat())
        for atena, birth in Person.objects.filter(pk__in=picked)
        .order_by("id")
        .values_list("atena_no", "birth_date")
    ]
    branch_ids = BranchNumber.objects.order_by("id").values_list("id", flat=True)
    numbers: list[str] = []
    if branch_ids.exists():
        low, high = branch_ids.first(), branch_ids.last()
        chosen = rng.sample(range(low, high + 1), min(SAMPLE_NUMBERS, high - low + 1))
        numbers = [
            f"{symbol}-{number}-{branch}"
            for symbol, number, branch in BranchNumber.objects.filter(pk__in=chosen)
            .order_by("id")
            .values_list("household_number__symbol", "household_number__number", "branch")
        ]
    kana = _kana_inputs()
    kana_rows = {k: person_search_query(SearchCriteria(kana=k)).count() for k in kana}
    result = {
        "today": today.isoformat(),
        "residents": Person.objects.count(),
        "derive_s": derive_s,
        "derive_stats": f"{derived.with_periods:,} of {derived.persons:,} persons with NHI "
        f"periods, {derived.households_numbered:,} households numbered",
        "staff_s": staff_s,
        "analyze_s": analyze_s,
        "clerks": clerks,
        "inputs": {
            "kana": kana,
            "kana_rows": kana_rows,
            "birth": sorted({birth for _atena, birth in persons}),
            "atena": [atena for atena, _birth in persons],
            "insured": numbers,
        },
    }
    print(MARKER + json.dumps(result, ensure_ascii=False), flush=True)


def _quantile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _timed(call: Any, inputs: list[Any]) -> list[float]:
    times = []
    for item in inputs:
        started = time.perf_counter()
        call(item)
        times.append((time.perf_counter() - started) * 1000)
    return times


def child_floor(
    inputs_file: Path, clerks: list[str], explain: bool, profile: bool, seed: int
) -> None:
    _django()
    import psycopg
    from django.db import connection
    from django.utils import timezone

    from kokuho.eligibility.models import BranchNumber
    from kokuho.eligibility.selectors import eligibility_summary, person_ids_by_insured_number
    from kokuho.people.models import Person
    from kokuho.people.selectors import (
        SEARCH_LIMIT,
        SearchCriteria,
        person_search,
        person_search_query,
    )
    from kokuho.web.forms import insured_number_read
    from kokuho.web.selectors_hub_sections import person_documents, person_national

    inputs = json.loads(inputs_file.read_text())
    rng = random.Random(seed)
    today = timezone.localdate()

    def sample(values: list[Any]) -> list[Any]:
        return [rng.choice(values) for _ in range(FLOOR_PER_OP)] if values else []

    def criteria_for(op: str, value: str) -> SearchCriteria:
        if op == "kana":
            return SearchCriteria(kana=value)
        if op == "birth":
            return SearchCriteria(birth_date=_date(value))
        return SearchCriteria(atena_no=value)

    def insured_ids_query(value: str) -> Any:
        symbol, number, branch = insured_number_read(value)
        query = BranchNumber.objects.filter(
            household_number__symbol=symbol, household_number__number=number
        )
        if branch:
            query = query.filter(branch=branch)
        return query.values_list("person_id", flat=True)

    def sql_of(queryset: Any) -> tuple[str, tuple[Any, ...]]:
        return queryset.query.sql_with_params()

    def search_sql(criteria: SearchCriteria) -> tuple[str, tuple[Any, ...]]:
        return sql_of(person_search_query(criteria)[:SEARCH_LIMIT])

    work = {
        "kana": sample(inputs["kana"]),
        "birth": sample(inputs["birth"]),
        "atena": sample(inputs["atena"]),
        "insured": sample(inputs["insured"]),
        "person": sample(inputs["atena"]),
    }
    # Warm the caches the way the run did (the server read the same tables for minutes).
    for op in ("kana", "birth", "atena"):
        for value in work[op][:20]:
            person_search(criteria=criteria_for(op, value))

    floors: dict[str, dict[str, list[float]]] = {}

    # selector: the Python calls the view makes for the data, without audit, session, HTML.
    def insured_selector(value: str) -> None:
        symbol, number, branch = insured_number_read(value)
        ids = person_ids_by_insured_number(symbol=symbol, number=number, branch=branch)
        person_search(criteria=SearchCriteria(insured_no=value, person_ids=tuple(ids)))

    def person_reads(atena: str) -> None:
        person = Person.objects.select_related("household").get(atena_no=atena)
        list(person.history.order_by("-change_date", "-id"))
        eligibility_summary(person=person, today=today)
        person_documents(person=person)
        person_national(person=person)

    selector = {
        "kana": _timed(lambda v: person_search(criteria=criteria_for("kana", v)), work["kana"]),
        "birth": _timed(lambda v: person_search(criteria=criteria_for("birth", v)), work["birth"]),
        "atena": _timed(lambda v: person_search(criteria=criteria_for("atena", v)), work["atena"]),
        "insured": _timed(insured_selector, work["insured"]),
        "person": _timed(person_reads, work["person"]),
    }

    # sql: the same statements, compiled once here, through a bare connection (psycopg's
    # client-side binding, as Django uses it), rows fetched.
    def statements(op: str, value: str) -> list[tuple[str, tuple[Any, ...]]]:
        if op in ("kana", "birth", "atena"):
            return [search_sql(criteria_for(op, value))]
        if op == "insured":
            ids = tuple(insured_ids_query(value))
            return [
                sql_of(insured_ids_query(value)),
                search_sql(SearchCriteria(insured_no=value, person_ids=ids)),
            ]
        return [sql_of(Person.objects.select_related("household").filter(atena_no=value))]

    compiled = {op: [statements(op, v) for v in values] for op, values in work.items()}
    sql: dict[str, list[float]] = {}
    with psycopg.connect(os.environ["KOKUHO_DATABASE_URL"], autocommit=True) as conn:
        cursor = psycopg.ClientCursor(conn)
        for op, items in compiled.items():
            times = []
            for statements_of_one in items:
                started = time.perf_counter()
                for text, params in statements_of_one:
                    cursor.execute(text, params)
                    cursor.fetchall()
                times.append((time.perf_counter() - started) * 1000)
            sql[op] = times
    # view: the whole Django stack in this one process (middleware, session, audit event,
    # template), through the test client as the proxy forwards a request; no gunicorn, no
    # HTTP, no other request at the same time. Each role signed in once.
    from django.contrib.auth.models import User
    from django.test import Client

    from kokuho.testing import login_verified

    browsers = []
    for username in clerks:
        browser = Client(
            HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_PROTO="https", HTTP_X_FORWARDED_FOR="10.99.0.1"
        )
        login_verified(browser, User.objects.get(username=username))
        browsers.append(browser)
    fields = {"kana": "kana", "birth": "birth", "atena": "atena_no", "insured": "insured_no"}
    htmx = {"HX-Request": "true", "HX-Target": "results"}

    def view_call(op: str) -> Any:
        turn = iter(range(10**9))

        def call(value: str) -> None:
            browser = browsers[next(turn) % len(browsers)]
            if op == "person":
                response = browser.get(f"/people/{value}/?purpose={PURPOSE}")
            else:
                response = browser.get(_search_path(**{fields[op]: value}), headers=htmx)
            if response.status_code != 200:
                raise RuntimeError(f"{op} {value}: HTTP {response.status_code}")

        return call

    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    view: dict[str, list[float]] = {}
    queries: dict[str, list[str]] = {}
    for op, values in work.items():
        values = values[:VIEW_FLOOR_PER_OP]
        if not values:
            view[op], queries[op] = [], []
            continue
        # The first request of a kind, not timed: the statements it sends, both databases.
        with (
            CaptureQueriesContext(connections["default"]) as business,
            CaptureQueriesContext(connections["vault"]) as vault,
        ):
            view_call(op)(values[0])
        queries[op] = [q["sql"] for q in business.captured_queries]
        queries[op] += ["(vault) " + q["sql"] for q in vault.captured_queries]
        view[op] = _timed(view_call(op), values)
    # The profile is a pass of its own (cProfile slows what it watches: not the timed one).
    profiles: dict[str, str] = {}
    if profile:
        import cProfile
        import io
        import pstats

        for op, values in work.items():
            profiler = cProfile.Profile()
            profiler.enable()
            _timed(view_call(op), values[VIEW_FLOOR_PER_OP : VIEW_FLOOR_PER_OP + PROFILED])
            profiler.disable()
            text = io.StringIO()
            for order in ("cumulative", "tottime"):
                pstats.Stats(profiler, stream=text).sort_stats(order).print_stats(PROFILE_LINES)
            profiles[op] = text.getvalue()
    for op in work:
        floors[op] = {"selector": selector[op], "sql": sql[op], "view": view[op]}

    plans: dict[str, Any] = {}
    if explain:
        kana_rows = inputs["kana_rows"]
        common = inputs["kana"][0]  # the most common family name, whole
        widest = max((k for k in kana_rows if len(k) == 2), key=kana_rows.get)
        examples = {
            "kana": (common, search_sql(criteria_for("kana", common))),
            "kana_prefix2": (widest, search_sql(criteria_for("kana", widest))),
            "birth": (work["birth"][0], search_sql(criteria_for("birth", work["birth"][0]))),
            "atena": (work["atena"][0], search_sql(criteria_for("atena", work["atena"][0]))),
            "person": (work["person"][0], statements("person", work["person"][0])[0]),
        }
        if work["insured"]:
            value = work["insured"][0]
            ids_sql, persons_sql = statements("insured", value)
            examples["insured_ids"] = (value, ids_sql)
            examples["insured_persons"] = (value, persons_sql)
        with connection.cursor() as cursor:
            for name, (value, (text, params)) in examples.items():
                # Twice: the first may read pages from disk, the second is the warm plan.
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + text, params)
                first = [row[0] for row in cursor.fetchall()]
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + text, params)
                plan = "\n".join(row[0] for row in cursor.fetchall())
                shown = cursor.mogrify(text, params)
                if isinstance(shown, bytes):
                    shown = shown.decode()
                plans[name] = {
                    "input": value,
                    "rows": kana_rows.get(value),
                    "sql": shown,
                    "plan": plan,
                    "first": next((x for x in first if x.startswith("Execution Time")), ""),
                }
            cursor.execute(
                "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE tablename IN "
                "('people_person', 'people_household', 'eligibility_householdnumber', "
                "'eligibility_branchnumber') ORDER BY tablename, indexname"
            )
            plans["_indexes"] = [list(row) for row in cursor.fetchall()]
            cursor.execute(
                "SELECT relname, n_live_tup FROM pg_stat_user_tables WHERE relname IN "
                "('people_person', 'eligibility_branchnumber', 'eligibility_householdnumber', "
                "'audit_auditevent', 'django_session') ORDER BY relname"
            )
            plans["_rows"] = [list(row) for row in cursor.fetchall()]
    result = {"floors": floors, "plans": plans, "profiles": profiles, "queries": queries}
    print(MARKER + json.dumps(result, ensure_ascii=False), flush=True)


def _date(text: str) -> Any:
    import datetime as dt

    return dt.date.fromisoformat(text)


# --- the clients: one process per clerk, speaking HTTP as the TLS proxy forwards it ------


def _totp(spec: dict[str, Any], at: float) -> str:
    """RFC 6238 with django-otp's parameters (SHA-1, its step, t0, digits and drift)."""
    counter = int((at - spec["t0"]) // spec["step"]) + spec["drift"]
    mac = hmac.new(bytes.fromhex(spec["key"]), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF) % 10 ** spec["digits"]
    return f"{code:0{spec['digits']}d}"


CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
COUNT = re.compile(r'<p class="count">(\d+)件')
PERSON_LINK = re.compile(r'href="/people/(\d+)/\?purpose=')


class Browser:
    """One clerk's browser behind the city's TLS proxy: cookies kept (Secure ones too — the
    browser speaks HTTPS to the proxy), every request forwarded with the proxy's headers. A
    new connection per request, as gunicorn's sync workers close each one."""

    def __init__(self, port: int, terminal: str) -> None:
        self.port = port
        self.origin = f"https://127.0.0.1:{port}"
        self.terminal = terminal
        self.cookies: dict[str, str] = {}

    def request(
        self,
        path: str,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str, str]:
        sent = {
            "Host": f"127.0.0.1:{self.port}",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": self.terminal,
            "Accept": "text/html,application/xhtml+xml",
            "Accept-Language": "ja",
            "User-Agent": "kokuho-bench-counter",
            **(headers or {}),
        }
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
            sent["Origin"] = self.origin
            sent["Referer"] = self.origin + path
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request("POST" if form is not None else "GET", path, body=body, headers=sent)
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        for line in response.headers.get_all("Set-Cookie") or []:
            jar = http.cookies.SimpleCookie()
            jar.load(line)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or not morsel.value.strip('"'):
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return response.status, response.headers.get("Location", ""), data.decode("utf-8")

    def follow(self, status: int, location: str, body: str, limit: int = 4) -> tuple[str, str]:
        """Follow redirects (GET) to the page a browser would show; its path and body."""
        path = ""
        while status in (301, 302, 303) and limit:
            path = urllib.parse.urljoin("/", location)
            status, location, body = self.request(path)
            limit -= 1
        if status != 200:
            raise RuntimeError(f"{path or '?'}: HTTP {status}")
        return path, body

    def login(self, clerk: dict[str, Any]) -> None:
        status, _location, body = self.request("/login/")
        if status != 200 or not (token := CSRF.search(body)):
            raise RuntimeError(f"/login/: HTTP {status}, no CSRF token")
        form = {
            "csrfmiddlewaretoken": token.group(1),
            "username": clerk["username"],
            "password": clerk["password"],
            "next": "",
        }
        status, location, body = self.request("/login/", form=form)
        if status != 302:
            raise RuntimeError(f"login refused for {clerk['username']} (HTTP {status})")
        path, body = self.follow(status, location, body)
        if path.startswith("/account/mfa/"):
            if clerk["totp"] is None or not (token := CSRF.search(body)):
                raise RuntimeError(f"{clerk['username']}: MFA page without a way through")
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
            form = {
                "csrfmiddlewaretoken": token.group(1),
                "token": _totp(clerk["totp"], time.time()),
                "next": query.get("next", [""])[0],
            }
            status, location, body = self.request(path, form=form)
            if status != 302:
                raise RuntimeError(f"{clerk['username']}: TOTP code refused (HTTP {status})")
            path, body = self.follow(status, location, body)
        if path.startswith(("/login/", "/account/")):
            raise RuntimeError(f"{clerk['username']}: not signed in (ended on {path})")
        self.request(f"/?purpose={PURPOSE}")  # the search page, once (not measured)


def _search_path(**fields: str) -> str:
    query = {"purpose": PURPOSE, "kana": "", "birth": "", "atena_no": "", "insured_no": ""}
    query.update(fields)
    query["status"] = ""
    return "/?" + urllib.parse.urlencode(query)


def clerk_main(
    index: int,
    clerk: dict[str, Any],
    port: int,
    inputs: dict[str, Any],
    seed: int,
    schedule: Any,
    barrier: Any,
    out: Any,
) -> None:
    """One clerk: log in, wait for the others, then the phases of the schedule."""
    rng = random.Random(seed * 1000 + index)
    browser = Browser(port, f"10.20.{index // 200}.{index % 200 + 1}")
    role = clerk["role"]
    samples: list[tuple[str, str, str, float, float, str]] = []
    try:
        started = time.perf_counter()
        browser.login(clerk)
        login_ms = (time.perf_counter() - started) * 1000
    except Exception as error:
        out.put({"index": index, "error": f"{type(error).__name__}: {error}"})
        barrier.abort()
        return
    try:
        barrier.wait(timeout=600)  # everyone signed in; the parent writes the schedule
        barrier.wait(timeout=600)
    except Exception:
        out.put({"index": index, "error": "the run was abandoned"})
        return
    warm_from, measure_from, main_until, saturate_until, think = schedule[:]

    def get(phase: str, op: str, sub: str, path: str, htmx: bool) -> str:
        headers = {}
        if htmx:
            headers = {
                "HX-Request": "true",
                "HX-Target": "results",
                "HX-Current-URL": f"{browser.origin}/?purpose={PURPOSE}",
            }
        began = time.monotonic()
        reason, body = "", ""
        try:
            status, _location, body = browser.request(path, headers=headers)
            if status != 200:
                reason = f"HTTP {status}"
        except Exception as error:
            reason = type(error).__name__
        ms = (time.monotonic() - began) * 1000
        samples.append((phase, op, sub, began, ms, reason))
        return body if not reason else ""

    def search(phase: str, op: str, sub: str, **fields: str) -> list[str]:
        body = get(phase, op, sub, _search_path(**fields), htmx=True)
        if not body:
            return []
        found = COUNT.search(body)
        reason = "" if found else "no result count"
        if found and int(found.group(1)) == 0:
            reason = "nothing found"
        if reason:
            samples[-1] = (*samples[-1][:5], reason)
        return PERSON_LINK.findall(body)

    def pause(think: float, until: float) -> None:
        if think > 0:
            time.sleep(max(0.0, min(rng.uniform(0, 2 * think), until - time.monotonic())))

    def phase(name: str, until: float, think: float) -> None:
        loop = 0
        while time.monotonic() < until:
            shown: list[str] = []
            for op in SEARCHES:
                if time.monotonic() >= until:
                    return
                if op == "kana":
                    shown += search(name, op, "", kana=rng.choice(inputs["kana"]))
                elif op == "birth":
                    shown += search(name, op, "", birth=rng.choice(inputs["birth"]))
                elif loop % 2 == 0 or not inputs["insured"]:
                    shown += search(name, op, "atena", atena_no=rng.choice(inputs["atena"]))
                else:
                    shown += search(name, op, "insured", insured_no=rng.choice(inputs["insured"]))
                pause(think, until)
            if time.monotonic() >= until:
                return
            atena = rng.choice(shown) if shown else rng.choice(inputs["atena"])
            body = get(name, "person", role, f"/people/{atena}/?purpose={PURPOSE}", htmx=False)
            if body and atena not in body:
                samples[-1] = (*samples[-1][:5], "page without the person")
            pause(think, until)
            loop += 1

    while time.monotonic() < warm_from:
        time.sleep(0.01)
    phase("main", main_until, think)
    if saturate_until > main_until:
        phase("saturate", saturate_until, 0.0)
    out.put(
        {
            "index": index,
            "login_ms": login_ms,
            "samples": [s for s in samples if s[0] != "main" or s[3] >= measure_from],
        }
    )


# --- parent: databases, setup, server, clients, floors, report ---------------------------


def _run(command: list[str], env: dict[str, str], log: Path) -> str:
    """A setup step in a child process; its output kept in `log`, the step's stdout returned."""
    done = subprocess.run(  # noqa: S603 — our own interpreter and commands, fixed arguments
        command, cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    with log.open("a") as out:
        out.write(f"$ {' '.join(command)}\n{done.stdout}{done.stderr}\n")
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
        raise SystemExit(f"{' '.join(command[1:3])}: failed (exit {done.returncode}); see {log}")
    return done.stdout


def _child_json(stdout: str) -> dict[str, Any]:
    for line in stdout.splitlines():
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER) :])
    raise SystemExit("no result from the benchmark child")


def _loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine (/proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields[:8])
    return total - idle, total


def _process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (/proc/PID/stat), 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _server_cpu(server_pid: int) -> dict[str, dict[int, float]]:
    """CPU seconds so far of gunicorn (master and workers) and of the PostgreSQL backends
    serving this run's two databases, per process."""
    import psycopg

    workers = [server_pid]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == server_pid:
                workers.append(int(stat.parent.name))
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        backends = [
            pid
            for (pid,) in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = ANY(%s)", ([PG_DB, PG_VAULT_DB],)
            )
        ]
    return {
        "gunicorn": {pid: _process_cpu_s(pid) for pid in workers},
        "postgres": {pid: _process_cpu_s(pid) for pid in backends},
    }


def _access_log(log: Path, window: tuple[float, float]) -> dict[str, list[float]]:
    """gunicorn's own duration (ms, from the worker taking the request to the response
    written; the time a request waited for a free worker is not in it) of the requests it
    logged in the measured window: searches (`/`) and person pages."""
    import datetime as dt

    durations: dict[str, list[float]] = {"search": [], "person": []}
    for line in log.read_text(errors="replace").splitlines():
        if '"gunicorn.access"' not in line:
            continue
        with contextlib.suppress(ValueError, KeyError):
            entry = json.loads(line)
            # The line is written when the response is done: its time is the request's end.
            ended = dt.datetime.fromisoformat(entry["time"]).timestamp()
            if not window[0] <= ended <= window[1] + 1:
                continue
            if entry["path"] == "/":
                durations["search"].append(float(entry["duration_ms"]))
            elif entry["path"].startswith("/people/"):
                durations["person"].append(float(entry["duration_ms"]))
    return durations


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_ready(port: int, server: subprocess.Popen, log: Path) -> float:
    started = time.monotonic()
    while True:
        if server.poll() is not None:
            sys.stderr.write(log.read_text()[-4000:])
            raise SystemExit(f"kokuho serve exited ({server.returncode})")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return time.monotonic() - started
        except OSError:
            pass
        finally:
            conn.close()
        if time.monotonic() - started > 120:
            raise SystemExit("kokuho serve did not answer /healthz within 120 s")
        time.sleep(0.3)


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "p50": _quantile(values, 0.50),
        "p95": _quantile(values, 0.95),
        "p99": _quantile(values, 0.99),
        "max": max(values) if values else 0.0,
    }


def _run_clients(
    args: argparse.Namespace,
    port: int,
    clerks: list[dict[str, Any]],
    inputs: dict[str, Any],
    server_pid: int,
) -> dict[str, Any]:
    context = multiprocessing.get_context("fork")
    schedule = context.Array("d", 5, lock=False)
    barrier = context.Barrier(len(clerks) + 1)
    out = context.Queue()
    processes = [
        context.Process(
            target=clerk_main,
            args=(i, clerk, port, inputs, args.seed, schedule, barrier, out),
            daemon=True,
        )
        for i, clerk in enumerate(clerks)
    ]
    usage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    for process in processes:
        process.start()
    try:
        barrier.wait(timeout=600)
    except Exception:
        failures = []
        while not out.empty():
            failures.append(out.get())
        for process in processes:
            process.join(timeout=5)
        raise SystemExit(f"a clerk could not sign in: {failures}") from None
    now = time.monotonic()
    warm_from = now + 0.5
    measure_from = warm_from + args.warmup
    main_until = measure_from + args.duration
    saturate_until = main_until + args.saturate
    schedule[:] = [warm_from, measure_from, main_until, saturate_until, args.think]
    barrier.wait(timeout=60)
    print(
        f"   {len(clerks)} clerks signed in; warm-up {args.warmup:g} s, "
        f"measuring {args.duration:g} s"
        + (f", then {args.saturate:g} s without think time" if args.saturate else ""),
        flush=True,
    )

    loads: list[str] = []
    cpu: dict[str, tuple[int, int]] = {}
    while time.monotonic() < measure_from:
        time.sleep(0.05)
    cpu["main"] = _cpu_ticks()
    wall_from = time.time()
    server_cpu_before = _server_cpu(server_pid)
    next_load = time.monotonic() + min(10.0, args.duration / 2)
    while time.monotonic() < main_until:
        if time.monotonic() >= next_load:
            loads.append(_loadavg())
            next_load += 10.0
        time.sleep(0.05)
    busy0, total0 = cpu["main"]
    busy1, total1 = _cpu_ticks()
    wall_until = time.time()
    server_cpu_after = _server_cpu(server_pid)
    cpu_main = 100.0 * (busy1 - busy0) / max(1, total1 - total0)
    loads.append(_loadavg())
    cpu_saturate = None
    if args.saturate:
        while time.monotonic() < saturate_until:
            time.sleep(0.05)
        busy2, total2 = _cpu_ticks()
        cpu_saturate = 100.0 * (busy2 - busy1) / max(1, total2 - total1)

    reports = [out.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    usage_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    client_cpu_s = (usage_after.ru_utime - usage_before.ru_utime) + (
        usage_after.ru_stime - usage_before.ru_stime
    )
    errors = [r["error"] for r in reports if "error" in r]
    if errors:
        raise SystemExit(f"clients failed: {errors}")
    samples = [s for r in reports for s in r["samples"]]
    return {
        "samples": samples,
        "login_ms": [r["login_ms"] for r in reports],
        "loads_during": loads,
        "cpu_main_pct": cpu_main,
        "cpu_saturate_pct": cpu_saturate,
        "client_cpu_s": client_cpu_s,
        "wall_s": args.warmup + args.duration + args.saturate,
        "wall_window": (wall_from, wall_until),
        "server_cpu_s": {
            group: sum(
                after - server_cpu_before[group].get(pid, 0.0)
                for pid, after in server_cpu_after[group].items()
            )
            for group in server_cpu_after
        },
    }


def _phase_stats(samples: list[tuple], phase: str) -> dict[str, Any]:
    stats: dict[str, Any] = {}
    chosen = [s for s in samples if s[0] == phase]
    for op in OPS:
        rows = [s for s in chosen if s[1] == op]
        ms = [s[4] for s in rows]
        reasons = Counter(s[5] for s in rows if s[5])
        subs = {}
        for sub in sorted({s[2] for s in rows if s[2]}):
            sub_ms = [s[4] for s in rows if s[2] == sub]
            subs[sub] = {"count": len(sub_ms), **_summary(sub_ms)}
        stats[op] = {
            "count": len(rows),
            "errors": sum(reasons.values()),
            "reasons": dict(reasons),
            "subs": subs,
            **_summary(ms),
        }
    return stats


def _print_phase(title: str, stats: dict[str, Any], seconds: float) -> None:
    total = sum(stats[op]["count"] for op in OPS)
    print(f"== {title}: {total:,} requests in {seconds:g} s ({total / seconds:,.1f}/s)")
    print(f"   {'operation':<18}{'count':>7}{'errors':>8}{'p50':>9}{'p95':>9}{'p99':>9}{'max':>9}")
    for op in OPS:
        s = stats[op]
        print(
            f"   {op:<18}{s['count']:>7,}{s['errors']:>8}{s['p50']:>9.1f}{s['p95']:>9.1f}"
            f"{s['p99']:>9.1f}{s['max']:>9.1f}"
        )
        for sub, t in s["subs"].items():
            print(
                f"     {sub:<16}{t['count']:>7,}{'':>8}{t['p50']:>9.1f}{t['p95']:>9.1f}"
                f"{t['p99']:>9.1f}{t['max']:>9.1f}"
            )
        if s["reasons"]:
            print(f"     errors: {s['reasons']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=476_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--duration", type=float, default=60.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=15.0, help="seconds before measuring")
    parser.add_argument("--think", type=float, default=1.0, help="mean think time (s)")
    parser.add_argument("--saturate", type=float, default=0.0, help="then S s without think")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: its own)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--explain", action="store_true", help="print the searches' plans")
    parser.add_argument("--profile", action="store_true", help="cProfile the view floor")
    parser.add_argument("--keep", action="store_true", help="keep the databases and files")
    parser.add_argument("--child", choices=["setup", "floor"], help=argparse.SUPPRESS)
    parser.add_argument("--inputs", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--floor-clerks", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "setup":
        child_setup(args.clients, args.seed)
        return
    if args.child == "floor":
        clerks = [c for c in args.floor_clerks.split(",") if c]
        child_floor(args.inputs, clerks, args.explain, args.profile, args.seed)
        return

    load_before = _loadavg()
    print(f"== load average before: {load_before}", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="kokuho-bench-counter-"))
    setup_log = workdir / "setup.log"
    env = {
        **os.environ,
        # deploy/kokuho.env.example, with this run's databases and directories.
        "KOKUHO_PRODUCTION": "1",
        "KOKUHO_DEBUG": "0",
        "KOKUHO_SECRET_KEY": secrets.token_urlsafe(50),
        "KOKUHO_ALLOWED_HOSTS": "127.0.0.1",
        "KOKUHO_DATABASE_URL": f"{PG_SERVER}/{PG_DB}",
        "KOKUHO_VAULT_DATABASE_URL": f"{PG_SERVER}/{PG_VAULT_DB}",
        "KOKUHO_VAR_DIR": str(workdir / "var"),
        "KOKUHO_VAULT_KEY_FILE": str(workdir / "keys" / "vault-keys.json"),
        "KOKUHO_LOG_FORMAT": "json",
        "KOKUHO_LOG_LEVEL": "INFO",
        "KOKUHO_DB_CONN_MAX_AGE": "60",
    }
    (workdir / "keys").mkdir(mode=0o700)
    server: subprocess.Popen | None = None
    me = [sys.executable, str(Path(__file__).resolve())]
    try:
        pg_create(PG_DB, PG_VAULT_DB)
        started = time.perf_counter()
        _run([str(KOKUHO), "migrate", "--noinput", "-v0"], env, setup_log)
        _run([str(KOKUHO), "migrate", "--database", "vault", "--noinput", "-v0"], env, setup_log)
        _run([str(KOKUHO), "vault", "init"], env, setup_log)
        migrate_s = time.perf_counter() - started
        print(f"== setup: migrated both databases ({migrate_s:.0f} s)", flush=True)
        started = time.perf_counter()
        city = [str(KOKUHO), "demo_city", "--households", str(args.households)]
        city += ["--seed", str(args.seed), "--no-progress"]
        loaded = _run(city, env, setup_log)
        city_s = time.perf_counter() - started
        line = next((x for x in loaded.splitlines() if x.startswith("読み込み完了")), "")
        print(f"   demo city: {args.households:,} households ({city_s:.0f} s) {line}", flush=True)
        setup = _child_json(
            _run([*me, "--child", "setup", "--clients", str(args.clients)], env, setup_log)
        )
        inputs = setup["inputs"]
        print(
            f"   {setup['residents']:,} residents; eligibility derived ({setup['derive_s']:.0f} s:"
            f" {setup['derive_stats']}); {args.clients} clerks ({setup['staff_s']:.1f} s);"
            f" VACUUM (ANALYZE) ({setup['analyze_s']:.0f} s)",
            flush=True,
        )
        rows = inputs["kana_rows"]
        print(
            "   kana inputs (rows matching): "
            + ", ".join(f"{k} {rows[k]:,}" for k in inputs["kana"])
            + f"; {len(inputs['birth']):,} birth dates, {len(inputs['atena']):,} 宛名番号, "
            f"{len(inputs['insured']):,} 記号・番号",
            flush=True,
        )
        check = _run([str(KOKUHO), "check", "--deploy"], env, setup_log).strip()
        print(f"   kokuho check --deploy: {check.splitlines()[-1] if check else '(no output)'}")

        port = _free_port()
        server_log = workdir / "server.log"
        command = [str(KOKUHO), "serve", "--bind", f"127.0.0.1:{port}"]
        if args.workers:
            command += ["--workers", str(args.workers)]
        with server_log.open("wb") as log:
            server = subprocess.Popen(  # noqa: S603 — our own command, fixed arguments
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        ready_s = _wait_ready(port, server, server_log)
        workers = len(re.findall(r"Booting worker", server_log.read_text()))
        print(
            f"== kokuho serve on 127.0.0.1:{port}: ready in {ready_s:.1f} s, {workers} workers; "
            f"load average {_loadavg()}",
            flush=True,
        )
        run = _run_clients(args, port, setup["clerks"], inputs, server.pid)
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        server = None
        run["server_side"] = _access_log(server_log, run["wall_window"])

        inputs_file = workdir / "inputs.json"
        inputs_file.write_text(json.dumps(inputs, ensure_ascii=False))
        # One clerk of each role for the view floor.
        by_role = {clerk["role"]: clerk["username"] for clerk in reversed(setup["clerks"])}
        floor_command = [*me, "--child", "floor", "--inputs", str(inputs_file)]
        floor_command += ["--floor-clerks", ",".join(by_role.values())]
        floor_command += ["--explain"] * args.explain + ["--profile"] * args.profile
        floor = _child_json(_run(floor_command, env, setup_log))
    finally:
        if server is not None and server.poll() is None:
            server.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                server.wait(timeout=60)
        if args.keep:
            print(
                f"== kept: {env['KOKUHO_DATABASE_URL']}, {env['KOKUHO_VAULT_DATABASE_URL']}, "
                f"{workdir}"
            )
        else:
            pg_drop(PG_DB, PG_VAULT_DB)
            shutil.rmtree(workdir, ignore_errors=True)

    _report(args, setup, run, floor, load_before)


def _report(
    args: argparse.Namespace,
    setup: dict[str, Any],
    run: dict[str, Any],
    floor: dict[str, Any],
    load_before: str,
) -> None:
    main_stats = _phase_stats(run["samples"], "main")
    _print_phase(f"measured, think {args.think:g} s", main_stats, args.duration)
    print(
        f"   machine CPU busy {run['cpu_main_pct']:.0f} % of 2 cores while measuring; "
        f"load average before {load_before}, during {' | '.join(run['loads_during'])}; "
        f"the clients used {run['client_cpu_s']:.1f} CPU-s in {run['wall_s']:g} s"
    )
    requests = sum(main_stats[op]["count"] for op in OPS)
    cpu_s = run["server_cpu_s"]
    print(
        f"   server CPU while measuring: gunicorn {cpu_s['gunicorn']:.1f} s, PostgreSQL backends "
        f"{cpu_s['postgres']:.1f} s — {1000 * cpu_s['gunicorn'] / max(1, requests):.1f} + "
        f"{1000 * cpu_s['postgres'] / max(1, requests):.1f} ms of CPU per request"
    )
    for kind, values in run["server_side"].items():
        print(
            f"   gunicorn's own duration ({kind}, {len(values):,} logged): p50 "
            f"{_quantile(values, 0.5):.0f} ms, p95 {_quantile(values, 0.95):.0f} ms"
        )
    logins = run["login_ms"]
    print(f"   login (password, and TOTP for 資格担当): p50 {_quantile(logins, 0.5):.0f} ms")
    saturate_stats = None
    if args.saturate:
        saturate_stats = _phase_stats(run["samples"], "saturate")
        _print_phase("without think time", saturate_stats, args.saturate)
        print(f"   machine CPU busy {run['cpu_saturate_pct']:.0f} %")

    floors = floor["floors"]
    floor_of = {
        "kana": [floors["kana"]],
        "birth": [floors["birth"]],
        "number": [floors["atena"], floors["insured"]],
        "person": [floors["person"]],
    }
    print("== floors (one process, server stopped, same inputs; ms)")
    print(f"   {'operation':<18}{'sql p50':>9}{'sql p95':>9}{'sel p50':>9}{'sel p95':>9}"
          f"{'view p50':>10}{'view p95':>10}{'HTTP p95 ÷ sql p95':>21}")  # fmt: skip
    ratios: dict[str, float] = {}
    sql_p95: dict[str, float] = {}
    view_p95: dict[str, float] = {}
    for op in OPS:
        sql = [v for f in floor_of[op] for v in f["sql"]]
        selector = [v for f in floor_of[op] for v in f["selector"]]
        view = [v for f in floor_of[op] for v in f["view"]]
        sql_p95[op] = _quantile(sql, 0.95)
        view_p95[op] = _quantile(view, 0.95)
        ratios[op] = main_stats[op]["p95"] / sql_p95[op] if sql_p95[op] else 0.0
        print(
            f"   {op:<18}{_quantile(sql, 0.5):>9.2f}{sql_p95[op]:>9.2f}"
            f"{_quantile(selector, 0.5):>9.2f}{_quantile(selector, 0.95):>9.2f}"
            f"{_quantile(view, 0.5):>10.1f}{view_p95[op]:>10.1f}{ratios[op]:>21.1f}"
        )
    for name in ("atena", "insured"):
        f = floors[name]
        print(
            f"     {name:<16}{_quantile(f['sql'], 0.5):>9.2f}{_quantile(f['sql'], 0.95):>9.2f}"
            f"{_quantile(f['selector'], 0.5):>9.2f}{_quantile(f['selector'], 0.95):>9.2f}"
            f"{_quantile(f['view'], 0.5):>10.1f}{_quantile(f['view'], 0.95):>10.1f}"
        )
    counts = {op: len(statements) for op, statements in floor["queries"].items()}
    print("   SQL statements per request (view floor): " + ", ".join(
        f"{op} {n}" for op, n in counts.items()))  # fmt: skip
    if args.profile:
        for op in ("atena", "person"):
            print(f"--- statements of one {op} request")
            for statement in floor["queries"].get(op, []):
                print(f"   {statement[:160]}")
    for op, text in floor.get("profiles", {}).items():
        print(f"--- profile of the view floor: {op} (by cumulative, then own time)\n{text}")

    if floor["plans"]:
        print("== plans (EXPLAIN (ANALYZE, BUFFERS))")
        for name, plan in floor["plans"].items():
            if name.startswith("_"):
                continue
            matching = f", {plan['rows']:,} rows match" if plan.get("rows") else ""
            print(
                f"--- {name} ({plan['input']}{matching}; first run: {plan['first']})\n"
                f"{plan['sql']}\n{plan['plan']}\n"
            )
        print("--- indexes")
        for table, _index, definition in floor["plans"]["_indexes"]:
            print(f"   {table}: {definition}")
        print("--- rows: " + ", ".join(f"{t} {n:,}" for t, n in floor["plans"]["_rows"]))

    errors = sum(main_stats[op]["errors"] for op in OPS)
    meets = errors == 0 and all(main_stats[op]["p95"] <= TARGET_SEARCH_P95_MS for op in SEARCHES)
    total = sum(main_stats[op]["count"] for op in OPS)
    fields: dict[str, Any] = {
        "households": args.households,
        "residents": setup["residents"],
        "clients": args.clients,
        "duration_s": f"{args.duration:g}",
        "think_s": f"{args.think:g}",
        "requests": total,
        "rps": f"{total / args.duration:.1f}",
    }
    for op in OPS:
        s = main_stats[op]
        fields[f"{op}_count"] = s["count"]
        fields[f"{op}_errors"] = s["errors"]
        for q in ("p50", "p95", "p99"):
            fields[f"{op}_{q}_ms"] = f"{s[q]:.1f}"
        fields[f"{op}_floor_sql_p95_ms"] = f"{sql_p95[op]:.2f}"
        fields[f"{op}_floor_view_p95_ms"] = f"{view_p95[op]:.1f}"
        fields[f"{op}_ratio"] = f"{ratios[op]:.1f}"
    for name, statements in floor["queries"].items():
        fields[f"{name}_sql_statements"] = len(statements)
    fields["errors"] = errors
    fields["cpu_busy_pct"] = f"{run['cpu_main_pct']:.0f}"
    fields["client_cpu_s"] = f"{run['client_cpu_s']:.1f}"
    fields["server_cpu_ms_per_request"] = (
        f"{1000 * sum(run['server_cpu_s'].values()) / max(1, total):.1f}"
    )
    for kind, values in run["server_side"].items():
        fields[f"gunicorn_{kind}_p95_ms"] = f"{_quantile(values, 0.95):.0f}"
    fields["load_before"] = load_before.split()[0]
    fields["load_during"] = run["loads_during"][-1].split()[0]
    if saturate_stats is not None:
        sat_total = sum(saturate_stats[op]["count"] for op in OPS)
        fields["sat_rps"] = f"{sat_total / args.saturate:.1f}"
        for op in SEARCHES:
            fields[f"sat_{op}_p95_ms"] = f"{saturate_stats[op]['p95']:.1f}"
        fields["sat_person_p95_ms"] = f"{saturate_stats['person']['p95']:.1f}"
        fields["sat_errors"] = sum(saturate_stats[op]["errors"] for op in OPS)
    fields["target_search_p95_ms"] = TARGET_SEARCH_P95_MS
    fields["meets_target"] = "yes" if meets else "no"
    print("RESULT " + " ".join(f"{key}={value}" for key, value in fields.items()))


if __name__ == "__main__":
    main()
