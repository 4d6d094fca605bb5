"""Benchmark the 高額療養費 month: the engine over a synthetic city, against a floor.

    .venv/bin/python bench/kogaku_month.py [--insured 1000000] [--claims-per-insured 1.4]
                                           [--sample 10000] [--repeat 5]

One process, one run, everything measured here:

* city — 1,000,000 insured in households of about 1.6, 42 % aged 65–74, and about 1.4
  claims per insured (outpatient, their pharmacies joined to the prescribing clinic,
  dental, 2 % inpatient, dialysis, claims capped at the provider), generated in DuckDB;
  every household has a stored 所得区分 (as the monthly run would read one).
* engine (all) — `engine_run` over every household with claims (all 1.4 M rows): units,
  the 21,000 rule, steps 1–5, 多数回, the household steps, 按分.
* month path — what `kokuho kogaku run` does after reading the database: ages from birth
  dates, the candidate filter, the engine's tables for the candidates, the engine.
* floor — a bare DuckDB grouped sum of the same claim rows by person × provider × setting ×
  kind into a table, in the same connection: ``ratio`` = engine (all) ÷ floor.
* ORM row by row — a sample of households written into a real Kokuho database (SQLite in a
  temporary directory, migrated), then for each household one ORM query for its claims and
  the plain-Python reading of the rules (`benefits/tests/reference.py`); extrapolated to
  every household with claims. The sample's answers are compared with the engine's.
* peak RSS of the process.

Times are the best of ``--repeat`` runs, the engine and the floor taking turns. The last
line is ``RESULT key=value ...``.
"""

import argparse
import datetime as dt
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MONTH = dt.date(2026, 7, 1)

_CITY_SQL = """
CREATE MACRO rnd(i, k) AS (hash(i, k, $seed) % 1000003) / 1000003.0;
CREATE TABLE people AS
SELECT range + 1 AS pid,
    (range * $households // $insured) + 1 AS hh,
    rnd(range, 1) < 0.42 AS older
FROM range($insured);
CREATE TABLE people2 AS
SELECT pid, hh,
    make_date(2026 - CASE WHEN older THEN 65 + floor(rnd(pid, 2) * 10)::INT
                          ELSE floor(rnd(pid, 3) * 65)::INT END,
              1 + floor(rnd(pid, 4) * 12)::INT, 1 + floor(rnd(pid, 5) * 28)::INT) AS birth
FROM people;
CREATE TABLE cats AS
SELECT range + 1 AS hh,
    CASE WHEN r1 < 0.02 THEN 'a' WHEN r1 < 0.06 THEN 'i' WHEN r1 < 0.30 THEN 'u'
         WHEN r1 < 0.70 THEN 'e' ELSE 'o' END AS u70,
    CASE WHEN r2 < 0.02 THEN 'genekinami_3' WHEN r2 < 0.04 THEN 'genekinami_2'
         WHEN r2 < 0.10 THEN 'genekinami_1' WHEN r2 < 0.65 THEN 'general'
         WHEN r2 < 0.85 THEN 'low2' ELSE 'low1' END AS eld,
    rnd(range, 8) < 0.03 AS many
FROM (SELECT range, rnd(range, 6) AS r1, rnd(range, 7) AS r2 FROM range($households));
CREATE TABLE claims AS
WITH c AS (
    SELECT range + 1 AS claim, 1 + floor(rnd(range, 9) * $insured)::BIGINT AS pid,
        rnd(range, 10) AS r, rnd(range, 11) AS r2, floor(rnd(range, 12) * 3000)::INT AS clinic
    FROM range($claims)
)
SELECT c.claim, p.hh, c.pid, p.birth,
    CASE WHEN r < 0.30 THEN '3840' || lpad((clinic % 900)::VARCHAR, 6, '0')
         WHEN r < 0.42 THEN '3830' || lpad((clinic % 500)::VARCHAR, 6, '0')
         ELSE '3810' || lpad(clinic::VARCHAR, 6, '0') END AS provider,
    CASE WHEN r >= 0.98 THEN 1 ELSE 2 END::SMALLINT AS setting,
    CASE WHEN r < 0.30 THEN 4 WHEN r < 0.42 THEN 3 WHEN r < 0.44 THEN 5 ELSE 1 END::SMALLINT
        AS kind,
    CASE WHEN r < 0.30 THEN '3810' || lpad(clinic::VARCHAR, 6, '0') ELSE '' END
        AS prescribed_by,
    CASE WHEN r >= 0.98 THEN 20000 + floor(r2 * r2 * 130000)::INT
         ELSE 150 + floor(r2 * r2 * r2 * 6000)::INT END::BIGINT AS points,
    r2 < 0.003 AS specific_disease,
    r >= 0.98 AND r2 < 0.3 AS limit_applied
FROM c JOIN people2 p USING (pid);
CREATE TABLE raw AS
SELECT claim, hh, pid, birth, provider, setting, kind, prescribed_by,
    CASE WHEN specific_disease THEN 50000 ELSE points END AS points,
    CASE WHEN specific_disease THEN 10000
         ELSE (round(points * 10 * CASE WHEN birth <= DATE '1956-06-01' THEN 0.2 ELSE 0.3 END
                     / 10) * 10)::BIGINT END AS copay,
    specific_disease, limit_applied
FROM claims;
"""


def _best(repeat: int, work) -> tuple[float, object]:
    best, value = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        value = work()
        best = min(best, time.perf_counter() - start)
    return best, value


def _django(directory: Path) -> None:
    os.environ["KOKUHO_DATABASE_URL"] = f"sqlite:///{directory / 'bench.sqlite3'}"
    os.environ["KOKUHO_VAULT_DATABASE_URL"] = f"sqlite:///{directory / 'vault.sqlite3'}"
    os.environ["KOKUHO_VAR_DIR"] = str(directory)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kokuho.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--insured", type=int, default=1_000_000)
    parser.add_argument("--claims-per-insured", type=float, default=1.4)
    parser.add_argument("--sample", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="kokuho-bench-kogaku-"))
    _django(directory)

    import duckdb

    from kokuho.benefits.kogaku.engine import engine_inputs_load, engine_run
    from kokuho.benefits.kogaku.month import candidates_find, claims_load, engine_tables_load
    from kokuho.benefits.kogaku.rules import month_rules

    rules = month_rules(MONTH)
    households = round(args.insured / 1.6)
    n_claims = round(args.insured * args.claims_per_insured)
    start = time.perf_counter()
    gen = duckdb.connect()
    gen.execute(
        _CITY_SQL.replace("$seed", str(args.seed))
        .replace("$households", str(households))
        .replace("$insured", str(args.insured))
        .replace("$claims", str(n_claims))
    )
    raw = gen.sql("SELECT * FROM raw ORDER BY claim").to_arrow_table()
    cats = gen.sql("SELECT hh, u70, eld, many FROM cats").to_arrow_table()
    print(
        f"city: {args.insured:,} insured, {households:,} households, {raw.num_rows:,} claims "
        f"(generated in {time.perf_counter() - start:.1f} s)"
    )

    con = duckdb.connect()
    con.execute("SET threads = 2")
    claims_load(con, raw, MONTH)
    con.execute("CREATE TEMP TABLE s_cats AS SELECT * FROM cats")

    # --- engine over every household with claims --------------------------------------
    con.execute(
        """
        CREATE TEMP TABLE all_members AS
        SELECT p.hh, p.pid, p.ord::INTEGER AS ord, p.grp,
            CASE WHEN p.grp = 'elderly' THEN c.eld ELSE c.u70 END AS cat,
            p.halved, false AS sp75, NULL::BIGINT AS out_ytd
        FROM m_people p JOIN s_cats c USING (hh)
        """
    )
    members_all = con.sql("SELECT * FROM all_members").to_arrow_table()
    heads_all = con.sql(
        """
        SELECT c.hh, c.many,
            CASE WHEN bool_or(m.grp = 'under70') THEN any_value(c.u70) END AS u70_cat,
            CASE WHEN bool_or(m.grp = 'elderly') THEN any_value(c.eld) END AS eld_cat
        FROM s_cats c JOIN all_members m USING (hh) GROUP BY c.hh, c.many
        """
    ).to_arrow_table()
    claims_all = con.sql("SELECT * FROM m_claims").to_arrow_table()
    engine_inputs_load(con, members=members_all, households=heads_all, claims=claims_all)
    with_claims = heads_all.num_rows

    def engine_all() -> tuple[int, int]:
        engine_run(con, rules)
        return con.execute(
            "SELECT count(*) FILTER (WHERE benefit > 0), sum(benefit) FROM k_results"
        ).fetchall()[0]

    def floor() -> int:
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE floor AS
            SELECT hh, pid, provider, setting, kind, sum(copay) AS copay, sum(points) AS points
            FROM k_claims GROUP BY hh, pid, provider, setting, kind
            """
        )
        return con.execute("SELECT count(*) FROM floor").fetchall()[0][0]

    # Interleaved, so that a slower spell of the machine weighs on both alike.
    t_engine_all = t_floor = float("inf")
    for _ in range(args.repeat):
        t, (paid_all, total_all) = _best(1, engine_all)
        t_engine_all = min(t_engine_all, t)
        t, floor_rows = _best(1, floor)
        t_floor = min(t_floor, t)
    engine_run(con, rules)
    engine_answers = dict(con.execute("SELECT hh, benefit FROM k_results").fetchall())

    # --- the monthly run's path after the database read ----------------------------------
    by_household = {
        hh: {"u70": u70, "eld": eld, "many": many}
        for hh, u70, eld, many in zip(
            *(cats.column(name).to_pylist() for name in ("hh", "u70", "eld", "many")),
            strict=True,
        )
    }

    def month_path() -> int:
        claims_load(con, raw, MONTH)
        candidates = candidates_find(con, rules)
        # Stands for reading a stored 所得区分 per household (decision 90): a join.
        categories = con.sql(
            """
            SELECT DISTINCT p.hh, p.grp,
                CASE WHEN p.grp = 'elderly' THEN c.eld ELSE c.u70 END AS cat
            FROM m_people p SEMI JOIN m_candidates USING (hh) JOIN s_cats c USING (hh)
            """
        ).to_arrow_table()
        many = con.sql(
            "SELECT hh FROM s_cats SEMI JOIN m_candidates USING (hh) WHERE many"
        ).to_arrow_table()
        engine_tables_load(con, categories=categories, many=many)
        engine_run(con, rules)
        return len(candidates)

    t_month, candidates = _best(args.repeat, month_path)
    paid_month = con.execute("SELECT count(*) FROM k_results WHERE benefit > 0").fetchall()[0][0]

    # --- row by row through the ORM, on a sample ---------------------------------------------
    t_orm, sample_n, mismatches = _orm_sample(gen, by_household, engine_answers, args, rules)
    orm_extrapolated = t_orm / sample_n * with_claims if sample_n else float("nan")

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ratio = t_engine_all / t_floor
    print(f"households with claims     {with_claims:>12,}")
    print(
        f"engine, all households     {t_engine_all:>12.3f} s  "
        f"({paid_all:,} paid, {total_all:,} yen)"
    )
    print(f"floor (grouped sum)        {t_floor:>12.3f} s  ({floor_rows:,} groups)")
    print(f"ratio engine / floor       {ratio:>12.2f}")
    print(
        f"month path (candidates)    {t_month:>12.3f} s  ({candidates:,} candidates, "
        f"{paid_month:,} paid)"
    )
    print(
        f"ORM row by row, sample     {t_orm:>12.3f} s  ({sample_n:,} households, "
        f"{mismatches} answers differ from the engine)"
    )
    print(f"ORM row by row, all (est.) {orm_extrapolated:>12.1f} s")
    print(f"peak RSS                   {peak:>12.0f} MiB")
    print(
        f"RESULT insured={args.insured} claims={raw.num_rows} households_with_claims={with_claims}"
        f" engine_s={t_engine_all:.3f} floor_s={t_floor:.3f} ratio={ratio:.2f}"
        f" month_path_s={t_month:.3f} candidates={candidates} paid={paid_all}"
        f" orm_sample_households={sample_n} orm_sample_s={t_orm:.2f}"
        f" orm_extrapolated_s={orm_extrapolated:.0f} sample_mismatches={mismatches}"
        f" peak_rss_mib={peak:.0f}"
    )


def _orm_sample(gen, by_household, engine_answers, args, rules) -> tuple[float, int, int]:
    """Write a sample of households into the migrated database, then compute each one the
    naive way: one ORM query per household and the Python rules (reference.py)."""
    import pyarrow as pa
    from django.db import transaction
    from django.utils import timezone

    from kokuho.benefits.kogaku.household import ClaimIn, HouseholdIn, MemberIn
    from kokuho.benefits.kogaku.rules import ELDERLY, UNDER70
    from kokuho.benefits.models import Claim, ClaimMatch
    from kokuho.benefits.tests.reference import reference_compute
    from kokuho.eligibility.burden import is_elderly_on
    from kokuho.eligibility.derivation import anniversary
    from kokuho.eligibility.models import HouseholdNumber
    from kokuho.people.models import Household, Person

    rnd = random.Random(7)
    households = sorted(rnd.sample(sorted(engine_answers), min(args.sample, len(engine_answers))))
    picked = pa.table({"hh": pa.array(households, pa.int64())})  # noqa: F841 — used in SQL
    rows = gen.sql("SELECT * FROM raw WHERE hh IN (SELECT hh FROM picked)").to_arrow_table()
    rows = rows.to_pylist()
    now = timezone.now()
    with transaction.atomic():
        Household.objects.bulk_create(
            [Household(pk=hh, household_no=f"{hh:010d}", formed_on=MONTH) for hh in households]
        )
        people = {r["pid"]: r for r in rows}
        Person.objects.bulk_create(
            [
                Person(
                    pk=pid,
                    atena_no=f"{pid:010d}",
                    name="試験 太郎",
                    name_kana="シケン タロウ",
                    kana_key="シケンタロウ",
                    birth_date=r["birth"],
                    sex=1,
                    address="試験市",
                    household_id=r["hh"],
                    relation="世帯主",
                    resident_from=dt.date(2000, 1, 1),
                )
                for pid, r in people.items()
            ]
        )
        HouseholdNumber.objects.bulk_create(
            [
                HouseholdNumber(
                    pk=hh, household_id=hh, symbol="10", number=f"{hh:07d}", assigned_on=MONTH
                )
                for hh in households
            ]
        )
        kinds = {1: "medical", 3: "dental", 4: "pharmacy", 5: "visiting_nurse"}
        Claim.objects.bulk_create(
            [
                Claim(
                    claim_id=str(r["claim"]),
                    service_month=MONTH,
                    insurer_no="389999",
                    symbol="10",
                    number=f"{r['hh']:07d}",
                    branch="01",
                    provider=r["provider"],
                    setting=r["setting"],
                    kind=r["kind"],
                    prescribed_by=r["prescribed_by"],
                    points=r["points"],
                    copay=r["copay"],
                    specific_disease=r["specific_disease"],
                    limit_applied=r["limit_applied"],
                    person_id=r["pid"],
                    household_number_id=r["hh"],
                    match=ClaimMatch.MATCHED,
                    recorded_at=now,
                )
                for r in rows
            ],
            batch_size=5000,
        )

    def compute_all() -> int:
        differ = 0
        for hh in households:
            claims = list(
                Claim.objects.filter(
                    service_month=MONTH,
                    match=ClaimMatch.MATCHED,
                    household_number__household_id=hh,
                ).select_related("person")
            )
            members: dict[int, MemberIn] = {}
            cat = by_household[hh]
            for c in sorted(claims, key=lambda c: (c.person.birth_date, c.person_id)):
                birth = c.person.birth_date
                if c.person_id in members:
                    continue
                group = ELDERLY if is_elderly_on(birth, MONTH) else UNDER70
                key = cat["eld"] if group == ELDERLY else cat["u70"]
                turns = anniversary(birth, 75)
                members[c.person_id] = MemberIn(
                    id=str(c.person_id),
                    birth=birth,
                    group=group,
                    band=rules.band(group, key),
                    halved=(turns.year, turns.month) == (MONTH.year, MONTH.month)
                    and turns.day != 1,
                    special_75_dependent=False,
                )
            household = HouseholdIn(
                month=MONTH,
                members=tuple(members.values()),
                claims=tuple(
                    ClaimIn(
                        person=str(c.person_id),
                        provider=c.provider,
                        setting="inpatient" if c.setting == 1 else "outpatient",
                        kind=kinds[c.kind],
                        points=c.points,
                        copay=c.copay,
                        prescribed_by=c.prescribed_by,
                        specific_disease=c.specific_disease,
                        limit_applied=c.limit_applied,
                    )
                    for c in claims
                ),
                prior_months=(
                    (dt.date(2025, 9, 1), dt.date(2025, 12, 1), dt.date(2026, 3, 1))
                    if cat["many"]
                    else ()
                ),
            )
            answer = reference_compute(household, rules)
            differ += answer.benefit != engine_answers[hh]
        return differ

    start = time.perf_counter()
    mismatches = compute_all()
    return time.perf_counter() - start, len(households), mismatches


if __name__ == "__main__":
    main()
