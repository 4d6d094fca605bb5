"""The monthly 高額療養費 run's data: a 診療月's claims read in bulk into the engine's tables.

The order of work:
1. One query reads the month's matched claims with each person's birth date and household
   (the 記号・番号's household: the household the insurer knew at the time of treatment).
2. DuckDB derives each member's age group and 75歳到達月 from the birth date, with the ages
   from the parameter files (the same rules as `eligibility.burden.is_elderly_on`, checked
   against it by a test), and finds the **candidate** households: those that could be owed
   anything whatever their 所得区分 — a 70–74 total above the smallest 70–74 limit, or an
   under-70 unit of 21,000 or more. Others cannot be owed anything (the smallest limits
   already exceed what they paid), so their category is never looked up.
3. The 所得区分 of each candidate household is decided by the eligibility rules
   (`burden_bases_load`, in bulk), once per age group present.
4. 多数回 from the household's stored results of M−11 … M−1.
"""

import datetime as dt
from collections.abc import Callable

import duckdb
import pyarrow as pa

from kokuho.benefits.kogaku.engine import (
    CLAIM_SCHEMA,
    HOUSEHOLD_SCHEMA,
    MEMBER_SCHEMA,
    engine_inputs_load,
)
from kokuho.benefits.kogaku.household import months_back
from kokuho.benefits.kogaku.rules import ELDERLY, UNDER70, MonthRules
from kokuho.rules.params import parameters

Progress = Callable[[str, int, int], None]

RAW_SCHEMA = pa.schema(
    [
        ("claim", pa.int64()),
        ("hh", pa.int64()),
        ("pid", pa.int64()),
        ("birth", pa.date32()),
        ("provider", pa.string()),
        ("setting", pa.int16()),
        ("kind", pa.int16()),
        ("prescribed_by", pa.string()),
        ("points", pa.int64()),
        ("copay", pa.int64()),
        ("specific_disease", pa.bool_()),
        ("limit_applied", pa.bool_()),
    ]
)

# Age group and 75歳到達月 from the birth date, for the month `$month`:
# - 70–74 from the month after the 70th birthday (the birthday month when born on the 1st),
#   as `is_elderly_on` on the month's first day;
# - the 75th birthday in the month and not on the 1st halves the limits. A birthday of
#   29 February falls on 1 March in a common year (`eligibility.derivation.anniversary`).
_MEMBERS_SQL = """
CREATE OR REPLACE TEMP TABLE m_people AS
WITH p AS (
    SELECT DISTINCT hh, pid, birth FROM m_raw
), a AS (
    SELECT hh, pid, birth,
        CASE WHEN month(birth) = 2 AND day(birth) = 29
                  AND NOT ((year(birth) + $elderly) % 4 = 0
                           AND ((year(birth) + $elderly) % 100 <> 0
                                OR (year(birth) + $elderly) % 400 = 0))
             THEN make_date(year(birth) + $elderly, 3, 1)
             ELSE birth + to_years($elderly) END AS turns_70,
        CASE WHEN month(birth) = 2 AND day(birth) = 29
                  AND NOT ((year(birth) + $late) % 4 = 0
                           AND ((year(birth) + $late) % 100 <> 0
                                OR (year(birth) + $late) % 400 = 0))
             THEN make_date(year(birth) + $late, 3, 1)
             ELSE birth + to_years($late) END AS turns_75
    FROM p
)
SELECT hh, pid, birth,
    CASE WHEN (CASE WHEN day(turns_70) = 1 THEN turns_70
                    ELSE date_trunc('month', turns_70) + INTERVAL 1 MONTH END)::DATE
              <= $month::DATE
         THEN 'elderly' ELSE 'under70' END AS grp,
    date_trunc('month', turns_75)::DATE = $month::DATE AND day(turns_75) <> 1 AS halved,
    row_number() OVER (PARTITION BY hh ORDER BY birth, pid) AS ord
FROM a
"""

_CLAIMS_SQL = """
CREATE OR REPLACE TEMP VIEW m_claims AS
SELECT hh, pid, claim AS seq, provider,
    CASE setting WHEN 1 THEN 'inpatient' ELSE 'outpatient' END AS setting,
    CASE kind WHEN 1 THEN 'medical' WHEN 3 THEN 'dental' WHEN 4 THEN 'pharmacy'
              ELSE 'visiting_nurse' END AS kind,
    nullif(prescribed_by, '') AS prescribed_by, points, copay, specific_disease, limit_applied
FROM m_raw
"""

# Could the household be owed anything, whatever its category? (See the module docstring.)
# The 特定疾病 cap is taken at its highest, and the 75歳 ratio always, so the test only ever
# lets more households through. Units first, then per person (total and largest unit).
_CANDIDATES_SQL = """
CREATE OR REPLACE TEMP TABLE m_candidates AS
WITH u AS (
    SELECT pid,
        sum(CASE WHEN specific_disease THEN least(copay, $sd_max) ELSE copay END) AS copay
    FROM m_claims
    GROUP BY pid, CASE WHEN kind = 'pharmacy' THEN prescribed_by ELSE provider END,
        setting = 'inpatient' AND kind NOT IN ('pharmacy', 'visiting_nurse'),
        kind = 'dental' OR (kind = 'pharmacy' AND substr(prescribed_by, 3, 1) = '3')
), person AS (
    SELECT pid, sum(copay) AS total, max(copay) AS top FROM u GROUP BY pid
)
SELECT hh FROM person JOIN m_people USING (pid)
GROUP BY hh
HAVING coalesce(sum(total) FILTER (WHERE grp = 'elderly'), 0) > $elderly_min
    OR bool_or(grp = 'under70' AND top >= $u70_min)
"""

CATEGORY_SCHEMA = pa.schema([("hh", pa.int64()), ("grp", pa.string()), ("cat", pa.string())])
MANY_SCHEMA = pa.schema([("hh", pa.int64())])


def claims_load(con: duckdb.DuckDBPyConnection, rows: pa.Table, month: dt.date) -> None:
    """The month's claim rows (`RAW_SCHEMA`) → `m_raw`, `m_people`, `m_claims`."""
    # Registered, not copied: DuckDB scans the Arrow buffers where they are.
    con.register("m_raw", rows.cast(RAW_SCHEMA))
    ages = parameters().at(month)
    con.execute(
        _MEMBERS_SQL,
        {
            "elderly": int(ages.copay.ages["elderly_from"]),
            "late": int(ages.eligibility.late_elderly_age),
            "month": month,
        },
    )
    con.execute(_CLAIMS_SQL)


def candidates_find(con: duckdb.DuckDBPyConnection, rules: MonthRules) -> list[int]:
    elderly = [b for b in rules.bands.values() if b.group == ELDERLY]
    smallest = min(
        (min(v for v in (b.outpatient, b.base) if v is not None) for b in elderly),
        default=0,
    )
    con.execute(
        _CANDIDATES_SQL,
        {
            "sd_max": max(rules.specific_disease, rules.specific_disease_dialysis_upper),
            "elderly_min": int(smallest * rules.birthday_75_ratio),
            "u70_min": rules.aggregation_threshold,
        },
    )
    return [hh for (hh,) in con.execute("SELECT hh FROM m_candidates ORDER BY hh").fetchall()]


def engine_tables_load(
    con: duckdb.DuckDBPyConnection, *, categories: pa.Table, many: pa.Table
) -> None:
    """Engine inputs for the candidate households whose categories are all known.

    `categories` (`CATEGORY_SCHEMA`): household, age group, band key — one row per age group
    present in the household; `many` (`MANY_SCHEMA`): the 多数回 households."""
    con.register("m_categories", categories.cast(CATEGORY_SCHEMA))
    con.register("m_many", many.cast(MANY_SCHEMA))
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE m_ready AS
        SELECT p.hh FROM m_people p
        JOIN m_candidates USING (hh)
        LEFT JOIN m_categories c USING (hh, grp)
        GROUP BY p.hh HAVING bool_and(c.cat IS NOT NULL)
        """
    )
    members = con.sql(
        """
        SELECT p.hh, p.pid, p.ord::INTEGER AS ord, p.grp, c.cat, p.halved,
            false AS sp75, NULL::BIGINT AS out_ytd
        FROM m_people p SEMI JOIN m_ready r USING (hh) JOIN m_categories c USING (hh, grp)
        """
    ).to_arrow_table()
    households = con.sql(
        """
        SELECT r.hh, r.hh IN (SELECT hh FROM m_many) AS many,
            max(c.cat) FILTER (WHERE c.grp = 'under70') AS u70_cat,
            max(c.cat) FILTER (WHERE c.grp = 'elderly') AS eld_cat
        FROM m_ready r JOIN m_categories c USING (hh) GROUP BY r.hh
        """
    ).to_arrow_table()
    claims = con.sql("SELECT * FROM m_claims SEMI JOIN m_ready USING (hh)").to_arrow_table()
    engine_inputs_load(
        con,
        members=members.cast(MEMBER_SCHEMA),
        households=households.cast(HOUSEHOLD_SCHEMA),
        claims=claims.cast(CLAIM_SCHEMA),
    )


def many_window(month: dt.date, rules: MonthRules) -> tuple[dt.date, dt.date]:
    """First and last month (inclusive) whose payments count for 多数回 in `month`."""
    return months_back(month, rules.many_window_months - 1), months_back(month, 1)


__all__ = [
    "CATEGORY_SCHEMA",
    "ELDERLY",
    "MANY_SCHEMA",
    "RAW_SCHEMA",
    "UNDER70",
    "candidates_find",
    "claims_load",
    "engine_tables_load",
    "many_window",
]
