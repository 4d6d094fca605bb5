"""The 高額療養費 engine: benefits.md §4 steps 1–8 as relational expressions over a month.

One engine for every caller. `kokuho kogaku calc` loads one household, the monthly run
loads every household of the month; both hand DuckDB the same three input tables and read
the same output tables. The rules are joined in as data (a band table and a one-row
parameter table built from the dated parameter files), so the SQL holds no amounts, and
the core stays plain SQL that another engine could run (docs/architecture.md).

Input tables (created by the caller in the connection):
- `k_members(hh, pid, ord, grp, cat, halved, sp75, out_ytd)` — one row per insured member
  of the month: `grp` 'under70' | 'elderly' (高齢受給者); `cat` the band key of the
  member's 所得区分; `halved` the 75歳到達月 rule applies to them (§4.5); `sp75` they are a
  dependant who joined because their employee-insurance member turned 75 (their 21,000
  becomes 10,500); `out_ytd` 70–74 outpatient co-payments already borne in the cap year
  (Aug–Jul), NULL when unknown; `ord` the input order (按分 ties).
- `k_households(hh, many, u70_cat, eld_cat)` — 多数回 from the household's paid months;
  the band keys of its under-70 and 70–74 members (NULL when it has none).
- `k_claims(hh, pid, seq, provider, setting, kind, prescribed_by, points, copay,
  specific_disease, limit_applied)` — setting 'inpatient' | 'outpatient'; kind 'medical' |
  'dental' | 'pharmacy' | 'visiting_nurse'.

Output tables: `k_units` (what was counted, per person × provider × setting × 医科/歯科),
`k_steps` (one row per rule application: step, person or household, amount entering, the
medical cost of the formula, limit, benefit), `k_shares` (the 按分 of each household
step), `k_persons` and `k_results` (per household: benefit, 多数回, household limit).
"""

from collections.abc import Sequence

import duckdb
import pyarrow as pa

from kokuho.benefits.kogaku.rules import ELDERLY, UNDER70, MonthRules

_PARAMETER_SQL = """
CREATE OR REPLACE TEMP TABLE k_param AS SELECT
    CAST($agg AS BIGINT) AS agg_threshold,
    CAST($rate AS DECIMAL(9, 6)) AS rate,
    CAST($sd AS BIGINT) AS sd_standard,
    CAST($sd_upper AS BIGINT) AS sd_upper,
    CAST($half AS DECIMAL(9, 6)) AS half
"""

# The limit of one band: 多数回 replaces the formula when it applies and the band has one;
# the 1% term is on the medical cost above the threshold, never negative, half up to the yen.
# `f` is 1, or the 75歳到達月 ratio applied to the fixed part, threshold and 多数回 alike.
_MACRO_SQL = """
CREATE OR REPLACE TEMP MACRO k_limit(base, threshold, many, use_many, cost, f, rate) AS
    CASE WHEN use_many AND many IS NOT NULL
        THEN CAST(floor(many * f + 0.5) AS BIGINT)
        ELSE CAST(floor(base * f
            + greatest(0, cost - coalesce(threshold * f, cost)) * rate + 0.5) AS BIGINT)
    END
"""

_STEPS_SQL = """
-- §1, §6: a pharmacy claim joins its prescriber (dental when the prescriber's 点数表 digit is
-- 3); 訪問看護 counts as medical outpatient; a 特定疾病 claim enters at the provider's cap.
CREATE OR REPLACE TEMP TABLE k_units AS
WITH c AS (
    SELECT c.hh, c.pid, c.seq,
        CASE WHEN c.kind = 'pharmacy' THEN c.prescribed_by ELSE c.provider END AS unit_provider,
        CASE WHEN c.kind IN ('pharmacy', 'visiting_nurse') THEN 'outpatient'
             ELSE c.setting END AS setting,
        CASE WHEN c.kind = 'dental'
                  OR (c.kind = 'pharmacy' AND substr(c.prescribed_by, 3, 1) = '3')
             THEN 'dental' ELSE 'medical' END AS branch,
        c.points * 10 AS cost,
        CASE WHEN c.specific_disease THEN least(c.copay,
                 CASE WHEN b.dialysis_upper THEN p.sd_upper ELSE p.sd_standard END)
             ELSE c.copay END AS copay,
        c.specific_disease, c.limit_applied
    FROM k_claims c
    JOIN k_members m USING (hh, pid)
    LEFT JOIN k_bands b ON b.grp = m.grp AND b.key = m.cat
    CROSS JOIN k_param p
)
SELECT c.hh, c.pid, c.unit_provider, c.setting, c.branch,
    sum(c.cost)::BIGINT AS cost, sum(c.copay)::BIGINT AS copay, count(*) AS claims,
    min(c.seq) AS first_seq, bool_or(c.specific_disease) AS specific_disease,
    bool_or(c.limit_applied) AS limit_applied,
    m.grp = 'elderly' OR sum(c.copay) >= CASE WHEN m.sp75
        THEN CAST(floor(p.agg_threshold * p.half + 0.5) AS BIGINT)
        ELSE p.agg_threshold END AS counted
FROM c JOIN k_members m USING (hh, pid) CROSS JOIN k_param p
GROUP BY c.hh, c.pid, c.unit_provider, c.setting, c.branch, m.grp, m.sp75, p.agg_threshold,
    p.half;

-- What each member brings: 70–74 every co-payment (outpatient and inpatient apart), under
-- 70 the counted units only, with the medical cost of the same claims for the 1% term.
CREATE OR REPLACE TEMP TABLE k_m AS
SELECT m.hh, m.pid, m.ord, m.grp, m.cat, m.halved, m.sp75, m.out_ytd,
    coalesce(sum(u.copay) FILTER (WHERE u.setting = 'outpatient' AND m.grp = 'elderly'), 0)
        AS out_amt,
    coalesce(sum(u.copay) FILTER (WHERE u.setting = 'inpatient' AND m.grp = 'elderly'), 0)
        AS in_amt,
    coalesce(sum(u.copay) FILTER (WHERE u.counted), 0) AS counted_amt,
    coalesce(sum(u.cost) FILTER (WHERE u.counted), 0) AS counted_cost,
    CASE WHEN m.halved THEN p.half ELSE 1 END AS f
FROM k_members m LEFT JOIN k_units u USING (hh, pid) CROSS JOIN k_param p
GROUP BY ALL;

-- Step 1: 70–74 outpatient per person (一般・低所得 only), then the outpatient annual cap.
CREATE OR REPLACE TEMP TABLE k_s1 AS
SELECT m.*, b.outpatient, b.outpatient_annual,
    CAST(floor(b.outpatient * m.f + 0.5) AS BIGINT) AS out_limit,
    CASE WHEN b.outpatient IS NULL THEN 0
         ELSE greatest(0, m.out_amt - CAST(floor(b.outpatient * m.f + 0.5) AS BIGINT))
    END AS b1
FROM k_m m LEFT JOIN k_bands b ON b.grp = m.grp AND b.key = m.cat
WHERE m.grp = 'elderly';

CREATE OR REPLACE TEMP TABLE k_s1a AS
SELECT s.*,
    CASE WHEN s.outpatient_annual IS NULL OR s.out_ytd IS NULL THEN 0
         ELSE greatest(0, s.out_amt - s.b1 - greatest(0, s.outpatient_annual - s.out_ytd))
    END AS b1a
FROM k_s1 s;

-- Step 5: the 75歳到達月 member alone against the halved limit of their own band, before
-- the household steps (70–74: outpatient remainder + inpatient; under 70: counted units).
CREATE OR REPLACE TEMP TABLE k_s5 AS
SELECT m.hh, m.pid, m.grp,
    CASE WHEN m.grp = 'elderly' THEN a.out_amt - a.b1 - a.b1a + m.in_amt
         ELSE m.counted_amt END AS entering,
    m.counted_cost AS cost,
    k_limit(b.base, b.threshold, b.many, h.many, m.counted_cost, m.f, p.rate) AS lim,
    h.many AND b.many IS NOT NULL AS many_applied
FROM k_m m
JOIN k_households h USING (hh)
JOIN k_bands b ON b.grp = m.grp AND b.key = m.cat
LEFT JOIN k_s1a a USING (hh, pid)
CROSS JOIN k_param p
WHERE m.halved;

CREATE OR REPLACE TEMP TABLE k_after5 AS
SELECT m.hh, m.pid, m.ord, m.grp,
    CASE WHEN s.pid IS NOT NULL THEN s.entering - greatest(0, s.entering - s.lim)
         WHEN m.grp = 'elderly' THEN a.out_amt - a.b1 - a.b1a + m.in_amt
         ELSE m.counted_amt END AS amount,
    coalesce(greatest(0, s.entering - s.lim), 0) AS b5
FROM k_m m LEFT JOIN k_s5 s USING (hh, pid) LEFT JOIN k_s1a a USING (hh, pid);

-- Step 2: the 70–74 members' remainders against the 70–74 household limit.
CREATE OR REPLACE TEMP TABLE k_s2 AS
SELECT h.hh, sum(a.amount)::BIGINT AS entering, sum(m.counted_cost)::BIGINT AS cost,
    k_limit(b.base, b.threshold, b.many, h.many, sum(m.counted_cost), 1, p.rate) AS lim,
    h.many AND b.many IS NOT NULL AS many_applied
FROM k_households h
JOIN k_after5 a ON a.hh = h.hh AND a.grp = 'elderly'
JOIN k_m m ON m.hh = a.hh AND m.pid = a.pid
JOIN k_bands b ON b.grp = 'elderly' AND b.key = h.eld_cat
CROSS JOIN k_param p
GROUP BY h.hh, h.many, b.base, b.threshold, b.many, p.rate;

CREATE OR REPLACE TEMP VIEW k_b2 AS SELECT hh, greatest(0, entering - lim) AS benefit FROM k_s2;
CREATE OR REPLACE TEMP VIEW k_a2 AS SELECT hh, pid, ord, amount FROM k_after5 WHERE grp = 'elderly';
{split2}

-- Step 3: the whole household against the under-70 limit of its category (only when it
-- has an under-70 member); the 70–74 members enter with what step 2 left them.
CREATE OR REPLACE TEMP TABLE k_in3 AS
SELECT a.hh, a.pid, a.ord, a.amount - coalesce(s.share, 0) AS amount, m.counted_cost AS cost
FROM k_after5 a
JOIN k_m m USING (hh, pid)
JOIN k_households h USING (hh)
LEFT JOIN k_share2 s USING (hh, pid)
WHERE h.u70_cat IS NOT NULL;

CREATE OR REPLACE TEMP TABLE k_s3 AS
SELECT h.hh, sum(i.amount)::BIGINT AS entering, sum(i.cost)::BIGINT AS cost,
    k_limit(b.base, b.threshold, b.many, h.many, sum(i.cost), 1, p.rate) AS lim,
    h.many AND b.many IS NOT NULL AS many_applied
FROM k_households h
JOIN k_in3 i USING (hh)
JOIN k_bands b ON b.grp = 'under70' AND b.key = h.u70_cat
CROSS JOIN k_param p
GROUP BY h.hh, h.many, b.base, b.threshold, b.many, p.rate;

CREATE OR REPLACE TEMP VIEW k_b3 AS SELECT hh, greatest(0, entering - lim) AS benefit FROM k_s3;
CREATE OR REPLACE TEMP VIEW k_a3 AS SELECT hh, pid, ord, amount FROM k_in3;
{split3}

CREATE OR REPLACE TEMP TABLE k_steps AS
SELECT hh, '1' AS step, pid, out_amt AS entering, NULL::BIGINT AS cost, out_limit AS lim,
    b1 AS benefit, false AS many_applied
FROM k_s1 WHERE outpatient IS NOT NULL
UNION ALL
SELECT hh, '1a', pid, out_amt - b1, out_ytd, outpatient_annual - out_ytd, b1a, false
FROM k_s1a WHERE outpatient_annual IS NOT NULL AND out_ytd IS NOT NULL
UNION ALL
SELECT hh, '5', pid, entering, cost, lim, greatest(0, entering - lim), many_applied FROM k_s5
UNION ALL
SELECT hh, '2', NULL, entering, cost, lim, greatest(0, entering - lim), many_applied FROM k_s2
UNION ALL
SELECT hh, '3', NULL, entering, cost, lim, greatest(0, entering - lim), many_applied FROM k_s3;

CREATE OR REPLACE TEMP TABLE k_shares AS
SELECT '2' AS step, * FROM k_share2 UNION ALL SELECT '3', * FROM k_share3;

CREATE OR REPLACE TEMP TABLE k_persons AS
SELECT m.hh, m.pid, m.ord,
    CASE WHEN m.grp = 'elderly' THEN m.out_amt + m.in_amt ELSE m.counted_amt END
        AS counted_copay,
    (coalesce(a.b1, 0) + coalesce(a.b1a, 0) + f.b5 + coalesce(s2.share, 0)
        + coalesce(s3.share, 0))::BIGINT AS benefit,
    coalesce(a.b1a, 0)::BIGINT AS annual_benefit
FROM k_m m
JOIN k_after5 f USING (hh, pid)
LEFT JOIN k_s1a a USING (hh, pid)
LEFT JOIN k_share2 s2 USING (hh, pid)
LEFT JOIN k_share3 s3 USING (hh, pid);

CREATE OR REPLACE TEMP TABLE k_results AS
-- The household's benefit is the sum of its steps' benefits; the persons' shares must add
-- up to it (a property the tests check, not something assumed here).
SELECT h.hh, coalesce(st.benefit, 0)::BIGINT AS benefit,
    coalesce(st.annual_benefit, 0)::BIGINT AS annual_benefit,
    coalesce(st.household_steps, 0)::BIGINT AS household_step_benefit,
    coalesce(s3.many_applied, s2.many_applied, false) AS many_times,
    coalesce(s3.lim, s2.lim) AS household_limit
FROM k_households h
LEFT JOIN (SELECT hh, sum(benefit) AS benefit,
                  sum(benefit) FILTER (WHERE step = '1a') AS annual_benefit,
                  sum(benefit) FILTER (WHERE step IN ('2', '3', '5')) AS household_steps
           FROM k_steps GROUP BY hh) st USING (hh)
LEFT JOIN k_s2 s2 USING (hh)
LEFT JOIN k_s3 s3 USING (hh);
"""

# §4.8 按分: in proportion to each person's amount entering the step, rounded down, the
# remainder to the largest amount (first in input order on a tie). Integer arithmetic only.
_SPLIT_SQL = """
CREATE OR REPLACE TEMP TABLE {out} AS
WITH t AS (
    SELECT a.hh, a.pid, a.amount, b.benefit,
        sum(a.amount) OVER (PARTITION BY a.hh) AS total,
        row_number() OVER (PARTITION BY a.hh ORDER BY a.amount DESC, a.ord) AS rank
    FROM {amounts} a JOIN {benefits} b USING (hh)
), floor_share AS (
    SELECT *, CASE WHEN total = 0 THEN 0
                   ELSE (benefit::HUGEINT * amount) // total END AS share0
    FROM t
)
SELECT hh, pid, amount,
    (share0 + CASE WHEN rank = 1
        THEN benefit - sum(share0) OVER (PARTITION BY hh) ELSE 0 END)::BIGINT AS share
FROM floor_share
"""

BAND_SCHEMA = pa.schema(
    [
        ("grp", pa.string()),
        ("key", pa.string()),
        ("base", pa.int64()),
        ("threshold", pa.int64()),
        ("many", pa.int64()),
        ("outpatient", pa.int64()),
        ("outpatient_annual", pa.int64()),
        ("dialysis_upper", pa.bool_()),
    ]
)


def _band_table(rules: MonthRules) -> pa.Table:
    bands = list(rules.bands.values())
    return pa.table(
        {
            "grp": [b.group for b in bands],
            "key": [b.key for b in bands],
            "base": [b.base for b in bands],
            "threshold": [b.threshold for b in bands],
            "many": [b.many for b in bands],
            "outpatient": [b.outpatient for b in bands],
            "outpatient_annual": [b.outpatient_annual for b in bands],
            "dialysis_upper": [b.dialysis_upper for b in bands],
        },
        schema=BAND_SCHEMA,
    )


def engine_run(con: duckdb.DuckDBPyConnection, rules: MonthRules) -> None:
    """Compute the month for every household in `k_households` (see the module docstring)."""
    bands = _band_table(rules)  # noqa: F841 — read by name in the SQL below
    con.execute("CREATE OR REPLACE TEMP TABLE k_bands AS SELECT * FROM bands")
    con.execute(
        _PARAMETER_SQL,
        {
            "agg": rules.aggregation_threshold,
            "rate": rules.formula_rate,
            "sd": rules.specific_disease,
            "sd_upper": rules.specific_disease_dialysis_upper,
            "half": rules.birthday_75_ratio,
        },
    )
    con.execute(_MACRO_SQL)
    con.execute(
        _STEPS_SQL.replace(
            "{split2}", _SPLIT_SQL.format(out="k_share2", amounts="k_a2", benefits="k_b2") + ";"
        ).replace(
            "{split3}", _SPLIT_SQL.format(out="k_share3", amounts="k_a3", benefits="k_b3") + ";"
        )
    )


MEMBER_SCHEMA = pa.schema(
    [
        ("hh", pa.int64()),
        ("pid", pa.int64()),
        ("ord", pa.int32()),
        ("grp", pa.string()),
        ("cat", pa.string()),
        ("halved", pa.bool_()),
        ("sp75", pa.bool_()),
        ("out_ytd", pa.int64()),
    ]
)
HOUSEHOLD_SCHEMA = pa.schema(
    [
        ("hh", pa.int64()),
        ("many", pa.bool_()),
        ("u70_cat", pa.string()),
        ("eld_cat", pa.string()),
    ]
)
CLAIM_SCHEMA = pa.schema(
    [
        ("hh", pa.int64()),
        ("pid", pa.int64()),
        ("seq", pa.int64()),
        ("provider", pa.string()),
        ("setting", pa.string()),
        ("kind", pa.string()),
        ("prescribed_by", pa.string()),
        ("points", pa.int64()),
        ("copay", pa.int64()),
        ("specific_disease", pa.bool_()),
        ("limit_applied", pa.bool_()),
    ]
)


def engine_inputs_load(
    con: duckdb.DuckDBPyConnection,
    *,
    members: pa.Table,
    households: pa.Table,
    claims: pa.Table,
) -> None:
    """Materialise the three input tables (Arrow, zero-copy scans) in the connection."""
    for name, table, schema in (
        ("k_members", members, MEMBER_SCHEMA),
        ("k_households", households, HOUSEHOLD_SCHEMA),
        ("k_claims", claims, CLAIM_SCHEMA),
    ):
        arrow = table.cast(schema)  # noqa: F841 — read by name in the SQL
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM arrow")  # noqa: S608


def rows_to_table(rows: Sequence[dict], schema: pa.Schema) -> pa.Table:
    return pa.Table.from_pylist(list(rows), schema=schema)


__all__ = [
    "CLAIM_SCHEMA",
    "ELDERLY",
    "HOUSEHOLD_SCHEMA",
    "MEMBER_SCHEMA",
    "UNDER70",
    "engine_inputs_load",
    "engine_run",
    "rows_to_table",
]
