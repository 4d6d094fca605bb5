"""Benchmark the full オンライン資格確認 資格履歴 extract (`national_export(feed=onshi_history,
full=True)`) over a city of insured, against a floor measured in the same run.

    .venv/bin/python bench/national_feeds.py [--insured 1000000] [--seed 1] [--keep]

* setup (printed, not part of the result) — ``--insured`` persons in households of about
  1.6, each with one registry history row (世帯番号), one eligibility version and period
  (about 6 % ended: 転出), a 記号・番号 per household and an 枝番 per person; about 40 % with
  a 資格確認書, 3 % with a 限度額適用認定証; about 92 % with a My Number sealed in the vault
  (synthetic numbers, 96 + id + check digit, derived at run time). Written with
  `kokuho.core.bulkwrite` (binary COPY), then ANALYZE.
* engine — the full extract as `kokuho national export onshi --full` runs it: the set-based
  extract (periods, numbers, burden decided on the 基準日, documents, vault presence) read
  and formatted in `KOKUHO_NATIONAL_WORKERS` worker processes (default 2), the
  ledger (OutboundRecord and SentState rows, the export register, audit), My Number drawn
  from the vault per chunk at write time, the file encrypted at rest (AES-GCM, streamed).
  Wall time, records/s, peak RSS of the extract's process (VmHWM, reset after the setup)
  and of its largest worker.
* floor — ``COPY (SELECT <the same columns> …) TO STDOUT`` of the persons, periods, numbers
  and documents joined in one query, streamed and discarded: what reading the same data
  costs at all. ``ratio`` = engine ÷ floor.

PostgreSQL only: ``KOKUHO_BENCH_PG`` (default postgresql://postgres@127.0.0.1:5432, trust
auth); the databases kokuho_bench_national and kokuho_bench_national_vault (``KOKUHO_BENCH_DB``
names others) are created and dropped here (``--keep`` leaves them, ``--workdir`` keeps the
files and the vault keys; ``--reuse --workdir`` runs again on a kept city, its ledger
emptied). Targets: ≤ 30 s, ≤ 3× the floor, RSS ≤ 1 GiB. The last line is
``RESULT key=value ...``.
"""

import argparse
import contextlib
import datetime as dt
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

from bench_databases import PG_SERVER, pg_create, pg_drop

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG_DB = os.environ.get("KOKUHO_BENCH_DB", "kokuho_bench_national")
PG_VAULT_DB = f"{PG_DB}_vault"
AS_OF = dt.date(2026, 4, 1)
CHUNK = 20_000
SURNAMES = ("山田", "佐藤", "高橋", "渡辺", "伊予", "松山", "越智", "村上", "河野", "二宮")
GIVEN = ("太郎", "花子", "一郎", "美咲", "健太", "陽子", "翔", "千尋", "大輔", "恵美")
KANA_S = ("ヤマダ", "サトウ", "タカハシ", "ワタナベ", "イヨ", "マツヤマ", "オチ", "ムラカミ",
          "コウノ", "ニノミヤ")  # fmt: skip
KANA_G = ("タロウ", "ハナコ", "イチロウ", "ミサキ", "ケンタ", "ヨウコ", "ショウ", "チヒロ",
          "ダイスケ", "エミ")  # fmt: skip


def _rss_mib() -> float:
    """Peak RSS since the last `_peak_reset` (Linux VmHWM), else the process's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _peak_reset() -> None:
    """Start the peak RSS afresh (Linux: 5 → /proc/self/clear_refs), so that the extract's
    peak is its own and not the setup's."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _ready(directory: Path) -> bool:
    """A city left by an earlier run with --keep --workdir: its databases and vault keys."""
    import psycopg

    if not (directory / "vault-keys.json").exists():
        return False
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        found = conn.execute(
            "SELECT count(*) FROM pg_database WHERE datname IN (%s, %s)", (PG_DB, PG_VAULT_DB)
        ).fetchone()
    return bool(found and found[0] == 2)


def _ledger_empty() -> None:
    """The kept city's national ledger emptied, so that the extract runs again as the first."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE national_outboundrecord, national_sentstate, national_nationalworkitem,"
            " national_outboundfile CASCADE"
        )


def _django(directory: Path, *, fresh: bool = True) -> None:
    if fresh:
        pg_create(PG_DB, PG_VAULT_DB)
    os.environ["KOKUHO_DATABASE_URL"] = f"{PG_SERVER}/{PG_DB}"
    os.environ["KOKUHO_VAULT_DATABASE_URL"] = f"{PG_SERVER}/{PG_VAULT_DB}"
    os.environ["KOKUHO_VAR_DIR"] = str(directory)
    os.environ["KOKUHO_NATIONAL_DIR"] = str(directory / "national")
    os.environ["KOKUHO_VAULT_KEY_FILE"] = str(directory / "vault-keys.json")
    os.environ.setdefault("KOKUHO_SECRET_KEY", "bench-only-not-secret")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kokuho.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    call_command("migrate", database="vault", verbosity=0, interactive=False)


def _with_defaults(model, names: tuple[str, ...], rows: list[tuple]) -> tuple[tuple, list]:
    """The rows, plus the default of every NOT NULL column they do not name (as
    bench/payments.py: a field added later still gets what the ORM would write)."""
    extra = [
        f
        for f in model._meta.concrete_fields
        if f.name not in names and f.attname not in names and not f.null and not f.primary_key
    ]
    if not extra:
        return names, rows
    defaults = tuple(f.get_default() for f in extra)
    return (*names, *(f.name for f in extra)), [(*r, *defaults) for r in rows]


def _bench_number(person_id: int) -> str:
    from kokuho.core.mynumber import my_number_check_digit

    first = f"96{person_id:09d}"
    return first + str(my_number_check_digit(first))


def _setup(n: int, seed: int) -> None:
    from django.db import connection, connections, transaction
    from django.utils import timezone

    from kokuho.certificates.models import IssuedDocument
    from kokuho.core.bulkwrite import row_writer
    from kokuho.core.kana import kana_search_key
    from kokuho.eligibility.models import (
        BranchNumber,
        CurrentEligibility,
        EligibilityPeriod,
        EligibilityVersion,
        HouseholdNumber,
    )
    from kokuho.identity.services import vault_key_ring
    from kokuho.people.models import Household, HouseholdHistory, Person, PersonHistory

    rnd = random.Random(seed)
    now = timezone.now()
    ring = vault_key_ring(create=True)
    with transaction.atomic(), transaction.atomic(using="vault"):
        raw, vault = row_writer(connection), row_writer(connections["vault"])

        class writer:  # the row writer, with every NOT NULL default filled in
            allocate_ids = raw.allocate_ids

            @staticmethod
            def insert(model, names, rows):
                raw.insert(model, *_with_defaults(model, tuple(names), rows))

        plan: list[int] = []
        planned = 0
        while planned < n:
            plan.append(min(rnd.choices((1, 2, 3, 4), (55, 25, 12, 8))[0], n - planned))
            planned += plan[-1]
        households = writer.allocate_ids(Household, len(plan))
        persons = writer.allocate_ids(Person, n)
        owner: list[tuple[int, int, int]] = []  # household id, index in household, its size
        p, household_rows, head_rows, number_rows = 0, [], [], []
        for number, (hh, size) in enumerate(zip(households, plan, strict=True), 1):
            household_rows.append((hh, f"H{hh:012d}", persons[p], dt.date(2000, 4, 1)))
            head_rows.append(("INIT", dt.date(2000, 4, 1), now, "bench", hh,
                              {"head": f"{persons[p]:010d}"}))  # fmt: skip
            number_rows.append((hh, hh, "10", f"{number:06d}", dt.date(2020, 4, 1)))
            owner += [(hh, i, size) for i in range(size)]
            p += size
        writer.insert(Household, ("id", "household_no", "head", "formed_on"), household_rows)
        writer.insert(
            HouseholdHistory,
            ("change_code", "change_date", "recorded_at", "source", "household", "snapshot"),
            head_rows,
        )
        writer.insert(
            HouseholdNumber, ("id", "household", "symbol", "number", "assigned_on"), number_rows
        )
        del household_rows, head_rows, number_rows
        versions = writer.allocate_ids(EligibilityVersion, n)
        for lo in range(0, n, CHUNK):
            people, history, version_rows, periods, current, branches, docs, links = (
                [], [], [], [], [], [], [], [],
            )  # fmt: skip
            for i in range(lo, min(n, lo + CHUNK)):
                pid, hh_and = persons[i], owner[i]
                hh, index, _ = hh_and
                s, g = rnd.randrange(10), rnd.randrange(10)
                kana = f"{KANA_S[s]}　{KANA_G[g]}"
                birth = dt.date(rnd.randint(1952, 2025), rnd.randint(1, 12), rnd.randint(1, 28))
                atena = f"{pid:010d}"
                people.append((
                    pid, atena, f"{SURNAMES[s]} {GIVEN[g]}", kana, kana_search_key(kana), birth,
                    rnd.choice((1, 2)), f"79{rnd.randint(0, 9)}-{rnd.randrange(10000):04d}",
                    f"愛媛県みかん市本町{rnd.randint(1, 9)}-{rnd.randint(1, 30)}", hh,
                    "世帯主" if index == 0 else rnd.choice(("妻", "子", "子", "母")),
                    dt.date(2000, 4, 1), False, "",
                ))  # fmt: skip
                history.append(("INIT", dt.date(2000, 4, 1), dt.date(2000, 4, 1), now, "bench",
                                pid, {"household_no": f"H{hh:012d}"}))  # fmt: skip
                start = max(dt.date(2020, 4, 1), birth)
                ended = start < dt.date(2024, 9, 1) and rnd.random() < 0.06
                version_rows.append((versions[i], pid, 1, now, "bench", False))
                periods.append((versions[i], start, dt.date(2024, 9, 30) if ended else None,
                                "move_in", "move_out" if ended else ""))  # fmt: skip
                current.append((pid, versions[i]))
                branches.append((hh, pid, f"{index + 1:02d}", dt.date(2020, 4, 1)))
                if not ended and rnd.random() < 0.4:
                    docs.append((f"KA-{pid:012d}", "kakuninsho", pid, hh, dt.date(2025, 8, 1),
                                 dt.date(2026, 7, 31), dt.date(2025, 7, 20), "renewal", "mail",
                                 {"category": "一般"}, "valid", now))  # fmt: skip
                if not ended and rnd.random() < 0.03:
                    docs.append((f"GD-{pid:012d}", "gendogaku", pid, hh, dt.date(2025, 8, 1),
                                 dt.date(2026, 7, 31), dt.date(2025, 8, 5), "new", "counter",
                                 {"category": "ウ"}, "valid", now))  # fmt: skip
                if rnd.random() < 0.92:
                    number = _bench_number(pid)
                    sealed = ring.seal(number, binding=atena)
                    links.append((f"{pid:015d}", atena, sealed.kek_id, sealed.wrapped_dek,
                                  sealed.ciphertext, ring.blind_index(number), "nhi_eligibility",
                                  "registry_match", ["official_record"], now, ""))  # fmt: skip
            writer.insert(Person, ("id", "atena_no", "name", "name_kana", "kana_key",
                                   "birth_date", "sex", "postal_code", "address", "household",
                                   "relation", "resident_from", "is_foreign",
                                   "residence_status"), people)  # fmt: skip
            writer.insert(PersonHistory, ("change_code", "change_date", "reported_on",
                                          "recorded_at", "source", "person", "snapshot"),
                          history)  # fmt: skip
            writer.insert(EligibilityVersion, ("id", "person", "seq", "recorded_at", "cause",
                                               "is_retroactive"), version_rows)  # fmt: skip
            writer.insert(EligibilityPeriod, ("version", "start", "end", "acquired", "lost"),
                          periods)  # fmt: skip
            writer.insert(CurrentEligibility, ("person", "version"), current)
            writer.insert(BranchNumber, ("household_number", "person", "branch", "assigned_on"),
                          branches)  # fmt: skip
            writer.insert(IssuedDocument, ("serial", "doc_type", "person", "household",
                                           "valid_from", "valid_until", "issued_on", "reason",
                                           "delivery", "printed", "status", "created_at"),
                          docs)  # fmt: skip
            from kokuho.identity.models import IdentityLink  # the bench seeds the vault

            vault.insert(IdentityLink, ("integrated_no", "atena_no", "kek_id", "wrapped_dek",
                                        "ciphertext", "blind_index", "purpose", "number_check",
                                        "identity_checks", "registered_at", "registered_by"),
                         links)  # fmt: skip
    with connection.cursor() as cursor:
        for table in ("people_person", "people_household", "people_personhistory",
                      "people_householdhistory", "eligibility_eligibilityversion",
                      "eligibility_eligibilityperiod", "eligibility_currenteligibility",
                      "eligibility_householdnumber", "eligibility_branchnumber",
                      "certificates_issueddocument"):  # fmt: skip
            cursor.execute(f"ANALYZE {table}")
    with connections["vault"].cursor() as cursor:
        cursor.execute("ANALYZE identity_identitylink")


FLOOR_SQL = """
COPY (
  SELECT p.atena_no, p.name, p.name_kana, p.birth_date, p.sex, p.postal_code, p.address,
         p.relation, hn.symbol, hn.number, b.branch, ep.start, ep."end", ep.lost,
         d.issued_on, d.valid_from, d.valid_until, d.printed ->> 'category'
  FROM people_person p
  JOIN eligibility_currenteligibility ce ON ce.person_id = p.id
  JOIN eligibility_eligibilityperiod ep ON ep.version_id = ce.version_id
  JOIN eligibility_branchnumber b ON b.person_id = p.id
  JOIN eligibility_householdnumber hn ON hn.id = b.household_number_id
  LEFT JOIN certificates_issueddocument d ON d.person_id = p.id
  ORDER BY p.id
) TO STDOUT
"""


def _floor() -> tuple[float, int]:
    from django.db import connection

    connection.ensure_connection()
    started, size = time.perf_counter(), 0
    with connection.connection.cursor() as cursor, cursor.copy(FLOOR_SQL) as copy:
        for block in copy:
            size += len(block)
    return time.perf_counter() - started, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--insured", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="leave the databases")
    parser.add_argument("--profile", type=Path, help="cProfile the extract into this stats file")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep a city left by --keep --workdir (its ledger emptied) instead of a new one",
    )
    parser.add_argument(
        "--workdir", type=Path, help="files and vault keys here, kept (default: a temporary dir)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kokuho-bench-national-") as tmp:
        directory = args.workdir or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        reuse = args.reuse and _ready(directory)
        _django(directory, fresh=not reuse)
        try:
            started = time.perf_counter()
            if reuse:
                _ledger_empty()
            else:
                _setup(args.insured, args.seed)
            setup_s = time.perf_counter() - started
            print(f"setup: {args.insured:,} insured in {setup_s:.1f} s "
                  f"(RSS {_rss_mib():.0f} MiB)", flush=True)  # fmt: skip
            rss_before = _rss_mib()
            _peak_reset()
            from kokuho.national.ledger import national_export
            from kokuho.national.models import Feed
            from kokuho.national.workers import worker_count

            profiler = None
            if args.profile:
                import cProfile

                profiler = cProfile.Profile()
                profiler.enable()
            started = time.perf_counter()
            outcome = national_export(feed=Feed.ONSHI_HISTORY, as_of=AS_OF, full=True, actor=None)
            seconds = time.perf_counter() - started
            if profiler is not None:
                import pstats

                profiler.disable()
                profiler.dump_stats(args.profile)
                pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(30)
            rss = _rss_mib()
            # The largest worker's peak (the extract's chunks are read in worker processes).
            workers_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            records = outcome.file.record_count
            if reuse:
                from kokuho.people.models import Person

                args.insured = Person.objects.count()
            floor_s, floor_bytes = _floor()
            size = outcome.path.stat().st_size
            print(
                f"engine: {records:,} records in {seconds:.1f} s ({records / seconds:,.0f}/s), "
                f"file {size / 2**20:.1f} MiB encrypted, sha256 {outcome.file.sha256[:16]}…"
            )
            print(
                f"floor: COPY of the same columns {floor_bytes / 2**20:.1f} MiB in "
                f"{floor_s:.1f} s; ratio {seconds / floor_s:.1f}"
            )
            print(f"peak RSS: {rss_before:.0f} MiB in the setup, {rss:.0f} MiB in the extract's "
                  f"process, {workers_rss:.0f} MiB in its largest worker "
                  f"({worker_count()} workers)")  # fmt: skip
            print(f"RESULT seconds={seconds:.2f} floor_seconds={floor_s:.2f} "
                  f"ratio={seconds / floor_s:.2f} rss_mib={rss:.0f} "
                  f"worker_rss_mib={workers_rss:.0f} workers={worker_count()} records={records} "
                  f"insured={args.insured} setup_seconds={setup_s:.1f}")  # fmt: skip
        finally:
            from django.db import connections

            connections.close_all()
            if not (args.keep or args.reuse):
                pg_drop(PG_DB, PG_VAULT_DB)


if __name__ == "__main__":
    main()
