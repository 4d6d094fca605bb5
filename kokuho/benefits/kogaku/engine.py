"""The 高額療養費 engine: benefits.md §4 steps 1–8 as relational expressions over a month.

One engine for every caller. `kokuho kogaku calc` loads one household, the monthly run
loads every household of the month; both hand DuckDB the same three input tables and read
the same output tables. The rules are joined in as data (a band table and a one-row
parameter table built from the dated parameter files), so the SQL holds no amounts, and
the core stays plain SQL that another engine could run (docs/architecture.md).

Input tables (created by the caller in the connection):
- `k_members(hh, pid, ord, grp, cat, halved, sp75, out_ytd)` — one row per insured member
  of the month, `pid` unique across the run (the engine joins on it alone): `grp`
  'under70' | 'elderly' (高齢受給者); `cat` the band key of the member's 所得区分; `halved`
  the 75歳到達月 rule applies to them (§4.5); `sp75` they are a dependant who joined because
  their employee-insurance member turned 75 (their 21,000 becomes 10,500); `out_ytd` 70–74
  outpatient co-payments already borne in the cap year (Aug–Jul), NULL when unknown; `ord`
  the input order (按分 ties).
- `k_households(hh, many, u70_cat, eld_cat)` — 多数回 from the household's paid months;
  the band keys of its under-70 and 70–74 members (NULL when it has none).
- `k_claims(hh, pid, seq, provider, setting, kind, prescribed_by, points, copay,
  specific_disease, limit_applied)` — setting 'inpatient' | 'outpatient'; kind 'medical' |
  'dental' | 'pharmacy' | 'visiting_nurse'.

Outputs (views computed when read): `k_units` (what was counted, per person × provider ×
setting × 医科/歯科), `k_steps` (one row per rule application: step, person or household,
amount entering, the medical cost of the formula, limit, benefit), `k_shares` (the 按分 of
each household step), `k_persons` and `k_results` (per household: benefit, 多数回,
household limit). Materialised are only the members with a counted amount (`k_a`, `k_m`:
about a sixth of a month's insured), the households (`k_h`) and the shares; a member without
a counted amount is computed with zeros when a view is read. At 1,000,000 insured the whole
run is about 2–3× a bare grouped sum of its claims (bench/kogaku_month.py).
"""

from collections.abc import Sequence

import duckdb
import pyarrow as pa

from kokuho.benefits.kogaku.rules import ELDERLY, UNDER70, MonthRules

_PARAMETER_SQL = """
CREATE OR REPLACE TEMP TABLE k_param AS SELECT
    CAST($agg AS BIGINT) AS agg_threshold,
    CAST($rate_num AS BIGINT) AS rate_num,
    CAST($rate_den AS BIGINT) AS rate_den,
    CAST($sd AS BIGINT) AS sd_standard,
    CAST($sd_upper AS BIGINT) AS sd_upper,
    CAST($half_num AS BIGINT) AS half_num,
    CAST($half_den AS BIGINT) AS half_den
"""

# Money in integers only: the 1% rate and the 75歳 ratio are exact fractions (rate_num /
# rate_den, fn / fd), so a limit is one integer division rounded half up.
# The limit of one band: 多数回 replaces the formula when it applies and the band has one;
# the 1% term is on the medical cost above the threshold, never negative, half up to the
# yen. fn / fd is 1, or the 75歳到達月 ratio applied to the fixed part, threshold and 多数回.
#   limit = base·f + max(0, cost − threshold·f) · rate
#         = (base·fn·rd + max(0, cost·fd − threshold·fn) · rn) / (fd·rd)
_MACRO_SQL = """
CREATE OR REPLACE TEMP MACRO k_half_up(num, den) AS (2 * (num) + (den)) // (2 * (den));
CREATE OR REPLACE TEMP MACRO k_limit(base, threshold, many, use_many, cost, fn, fd, rn, rd) AS
    CASE WHEN use_many AND many IS NOT NULL
        THEN k_half_up(many * fn, fd)
        ELSE k_half_up(base * fn * rd
                       + greatest(0, cost * fd - coalesce(threshold * fn, cost * fd)) * rn,
                       fd * rd)
    END
"""

_STEPS_SQL = """
-- Each member with the attributes of their band, their household's 多数回, the 75歳 ratio
-- and their 21,000 floor: every later step joins on `pid` alone (unique across households).
CREATE OR REPLACE TEMP VIEW k_mx AS
SELECT m.hh, m.pid, m.ord, m.grp, m.halved, m.sp75, m.out_ytd,
    b.base, b.threshold, b.many AS many_amount, b.outpatient, b.outpatient_annual,
    coalesce(b.dialysis_upper, false) AS dialysis_upper, h.many,
    CASE WHEN m.halved THEN p.half_num ELSE 1 END AS fn,
    CASE WHEN m.halved THEN p.half_den ELSE 1 END AS fd,
    CASE WHEN m.sp75 THEN k_half_up(p.agg_threshold * p.half_num, p.half_den)
         ELSE p.agg_threshold END AS floor_amount
FROM k_members m
JOIN k_households h USING (hh)
LEFT JOIN k_bands b ON b.grp = m.grp AND b.key = m.cat
CROSS JOIN k_param p;

-- The members whose units are not the common case (under 70, the 21,000 floor, the standard
-- 特定疾病 cap): 70–74, a special_75_dependent, a band with the higher dialysis cap.
CREATE OR REPLACE TEMP VIEW k_mu AS
SELECT m.pid, m.grp, coalesce(b.dialysis_upper, false) AS dialysis_upper,
    CASE WHEN m.sp75 THEN k_half_up(p.agg_threshold * p.half_num, p.half_den)
         ELSE p.agg_threshold END AS floor_amount
FROM k_members m
LEFT JOIN k_bands b ON b.grp = m.grp AND b.key = m.cat
CROSS JOIN k_param p
WHERE m.grp = 'elderly' OR m.sp75 OR b.dialysis_upper;

-- §1, §6: a pharmacy claim joins its prescriber (dental when the prescriber's 点数表 digit is
-- 3); 訪問看護 counts as medical outpatient. The claims are grouped into units first, with a
-- 特定疾病 claim summed at both provider caps; the member's band picks one below.
CREATE OR REPLACE TEMP MACRO k_unit_provider(kind, provider, prescribed_by) AS
    CASE WHEN kind = 'pharmacy' THEN prescribed_by ELSE provider END;
CREATE OR REPLACE TEMP MACRO k_inpatient(kind, setting) AS
    setting = 'inpatient' AND kind NOT IN ('pharmacy', 'visiting_nurse');
CREATE OR REPLACE TEMP MACRO k_dental(kind, prescribed_by) AS
    kind = 'dental' OR (kind = 'pharmacy' AND substr(prescribed_by, 3, 1) = '3');

CREATE OR REPLACE TEMP VIEW k_u0 AS
SELECT pid, k_unit_provider(kind, provider, prescribed_by) AS unit_provider,
    k_inpatient(kind, setting) AS inpatient, k_dental(kind, prescribed_by) AS dental,
    sum(points)::BIGINT * 10 AS cost,
    sum(CASE WHEN specific_disease THEN 0 ELSE copay END) AS plain,
    sum(CASE WHEN specific_disease THEN least(copay, p.sd_standard) ELSE 0 END) AS sd_standard,
    sum(CASE WHEN specific_disease THEN least(copay, p.sd_upper) ELSE 0 END) AS sd_upper
FROM k_claims CROSS JOIN k_param p
GROUP BY 1, 2, 3, 4;

-- Per member with a counted unit (70–74: every unit; under 70: the units reaching the floor):
-- what they bring, outpatient and inpatient apart. A member without one brings nothing to
-- any step, so the materialised tables below hold only these (a fraction of the month).
CREATE OR REPLACE TEMP TABLE k_a AS
WITH u AS (
    SELECT u.pid, u.inpatient, u.cost,
        u.plain + CASE WHEN x.dialysis_upper THEN u.sd_upper ELSE u.sd_standard END AS copay
    FROM k_u0 u LEFT JOIN k_mu x USING (pid) CROSS JOIN k_param p
    WHERE x.grp = 'elderly' OR copay >= coalesce(x.floor_amount, p.agg_threshold)
)
SELECT pid,
    coalesce(sum(copay) FILTER (WHERE NOT inpatient), 0)::BIGINT AS out_all,
    coalesce(sum(copay) FILTER (WHERE inpatient), 0)::BIGINT AS in_all,
    sum(cost)::BIGINT AS counted_cost
FROM u GROUP BY pid;

-- Per member (every member, computed when read), in one pass: what they bring (70–74 every
-- co-payment, outpatient and inpatient apart; under 70 the units reaching the floor), then
-- step 1 (70–74 outpatient, 一般・低所得), step 1a (the outpatient annual cap) and step 5
-- (the 75歳到達月 member alone against the ratio applied to their own band, before the
-- household steps).
CREATE OR REPLACE TEMP VIEW k_mall AS
SELECT x.hh, x.pid, x.ord, x.grp, x.halved, x.out_ytd, x.outpatient_annual,
    CASE WHEN x.grp = 'elderly' THEN coalesce(a.out_all, 0) ELSE 0 END AS out_amt,
    CASE WHEN x.grp = 'elderly' THEN coalesce(a.in_all, 0) ELSE 0 END AS in_amt,
    coalesce(a.out_all + a.in_all, 0)::BIGINT AS counted_amt,
    coalesce(a.counted_cost, 0)::BIGINT AS counted_cost,
    CASE WHEN x.grp = 'elderly' AND x.outpatient IS NOT NULL
         THEN k_half_up(x.outpatient * x.fn, x.fd) END AS out_limit,
    CASE WHEN out_limit IS NULL THEN 0 ELSE greatest(0, out_amt - out_limit) END AS b1,
    CASE WHEN x.grp = 'elderly' AND x.outpatient_annual IS NOT NULL AND x.out_ytd IS NOT NULL
         THEN greatest(0, out_amt - b1 - greatest(0, x.outpatient_annual - x.out_ytd))
         ELSE 0 END AS b1a,
    CASE WHEN x.grp = 'elderly' THEN out_amt - b1 - b1a + in_amt
         ELSE counted_amt END AS own_amount,
    CASE WHEN x.halved THEN k_limit(x.base, x.threshold, x.many_amount, x.many, counted_cost,
                                    x.fn, x.fd, p.rate_num, p.rate_den) END AS lim5,
    x.halved AND x.many AND x.many_amount IS NOT NULL AS many5,
    CASE WHEN x.halved THEN greatest(0, own_amount - lim5) ELSE 0 END AS b5,
    own_amount - b5 AS amount
FROM k_mx x LEFT JOIN k_a a USING (pid) CROSS JOIN k_param p;

-- Only what the household pass, the 按分 and `k_persons` read.
CREATE OR REPLACE TEMP TABLE k_m AS
SELECT hh, pid, ord, grp, out_amt, in_amt, counted_amt, counted_cost, b1, b1a, b5, amount
FROM k_mall WHERE pid IN (SELECT pid FROM k_a);

-- Steps 2 and 3 for every household in one pass (a household that brought nothing still
-- has its limits reported). Step 2: the 70–74 members' remainders against the 70–74
-- household limit. Step 3 (only with an under-70 member): everyone's remainder after step 2
-- — the members' amounts less step 2's benefit, which the 按分 hands back to them in full —
-- against the under-70 limit of the household's category.
CREATE OR REPLACE TEMP TABLE k_h AS
WITH t AS (
    SELECT hh,
        sum(amount) FILTER (WHERE grp = 'elderly') AS entering2,
        sum(counted_cost) FILTER (WHERE grp = 'elderly') AS cost2,
        sum(amount) AS amount_all, sum(counted_cost) AS cost3,
        sum(b1 + b1a + b5) AS personal, sum(b1a) AS annual, sum(b5) AS birthday
    FROM k_m GROUP BY hh
)
SELECT h.hh, h.many,
    CASE WHEN h.eld_cat IS NOT NULL THEN coalesce(t.entering2, 0) END::BIGINT AS entering2,
    CASE WHEN h.eld_cat IS NOT NULL THEN coalesce(t.cost2, 0) END::BIGINT AS cost2,
    CASE WHEN h.eld_cat IS NOT NULL
         THEN k_limit(e.base, e.threshold, e.many, h.many, cost2, 1, 1, p.rate_num,
                      p.rate_den) END AS lim2,
    coalesce(greatest(0, entering2 - lim2), 0)::BIGINT AS b2,
    h.many AND e.many IS NOT NULL AS many2,
    CASE WHEN h.u70_cat IS NOT NULL THEN coalesce(t.amount_all, 0) - b2 END::BIGINT
        AS entering3,
    coalesce(t.cost3, 0)::BIGINT AS cost3,
    CASE WHEN h.u70_cat IS NOT NULL
         THEN k_limit(y.base, y.threshold, y.many, h.many, cost3, 1, 1, p.rate_num,
                      p.rate_den) END AS lim3,
    coalesce(greatest(0, entering3 - lim3), 0)::BIGINT AS b3,
    h.many AND y.many IS NOT NULL AS many3,
    coalesce(t.personal, 0)::BIGINT AS personal, coalesce(t.annual, 0)::BIGINT AS annual,
    coalesce(t.birthday, 0)::BIGINT AS birthday
FROM k_households h
LEFT JOIN t USING (hh)
LEFT JOIN k_bands e ON e.grp = 'elderly' AND e.key = h.eld_cat
LEFT JOIN k_bands y ON y.grp = 'under70' AND y.key = h.u70_cat
CROSS JOIN k_param p;

CREATE OR REPLACE TEMP VIEW k_b2 AS SELECT hh, b2 AS benefit FROM k_h WHERE b2 > 0;
CREATE OR REPLACE TEMP VIEW k_a2 AS
    SELECT hh, pid, ord, amount FROM k_m WHERE grp = 'elderly' AND hh IN (SELECT hh FROM k_b2);
{split2}

CREATE OR REPLACE TEMP VIEW k_b3 AS SELECT hh, b3 AS benefit FROM k_h WHERE b3 > 0;
CREATE OR REPLACE TEMP VIEW k_a3 AS
    SELECT m.hh, m.pid, m.ord, m.amount - coalesce(s.share, 0) AS amount
    FROM k_m m LEFT JOIN k_share2 s USING (pid) WHERE m.hh IN (SELECT hh FROM k_b3);
{split3}

-- What was counted, per person × provider × setting × 医科/歯科 (read by the 計算明細).
CREATE OR REPLACE TEMP VIEW k_units AS
SELECT *, grp = 'elderly' OR copay >= floor_amount AS counted
FROM (
    SELECT x.hh, c.pid, k_unit_provider(c.kind, c.provider, c.prescribed_by) AS unit_provider,
        k_inpatient(c.kind, c.setting) AS inpatient, k_dental(c.kind, c.prescribed_by) AS dental,
        sum(c.points)::BIGINT * 10 AS cost,
        sum(CASE WHEN c.specific_disease
                 THEN least(c.copay, CASE WHEN x.dialysis_upper THEN p.sd_upper
                                          ELSE p.sd_standard END)
                 ELSE c.copay END)::BIGINT AS copay,
        count(*) AS claims, min(c.seq) AS first_seq,
        bool_or(c.specific_disease) AS specific_disease,
        bool_or(c.limit_applied) AS limit_applied,
        any_value(x.grp) AS grp, any_value(x.floor_amount) AS floor_amount
    FROM k_claims c JOIN k_mx x USING (pid) CROSS JOIN k_param p
    GROUP BY x.hh, c.pid, 3, 4, 5
);

CREATE OR REPLACE TEMP VIEW k_steps AS
SELECT hh, '1' AS step, pid, out_amt AS entering, NULL::BIGINT AS cost, out_limit AS lim,
    b1 AS benefit, false AS many_applied
FROM k_mall WHERE out_limit IS NOT NULL
UNION ALL
SELECT hh, '1a', pid, out_amt - b1, out_ytd, outpatient_annual - out_ytd, b1a, false
FROM k_mall WHERE grp = 'elderly' AND outpatient_annual IS NOT NULL AND out_ytd IS NOT NULL
UNION ALL
SELECT hh, '5', pid, own_amount, counted_cost, lim5, b5, many5 FROM k_mall WHERE halved
UNION ALL
SELECT hh, '2', NULL, entering2, cost2, lim2, b2, many2 FROM k_h WHERE lim2 IS NOT NULL
UNION ALL
SELECT hh, '3', NULL, entering3, cost3, lim3, b3, many3 FROM k_h WHERE lim3 IS NOT NULL;

CREATE OR REPLACE TEMP VIEW k_shares AS
SELECT '2' AS step, * FROM k_share2 UNION ALL SELECT '3', * FROM k_share3;

-- A member outside `k_m` brought nothing and got nothing.
CREATE OR REPLACE TEMP VIEW k_persons AS
SELECT x.hh, x.pid, x.ord,
    coalesce(CASE WHEN x.grp = 'elderly' THEN m.out_amt + m.in_amt ELSE m.counted_amt END,
             0)::BIGINT AS counted_copay,
    coalesce(m.b1 + m.b1a + m.b5 + coalesce(s2.share, 0) + coalesce(s3.share, 0), 0)::BIGINT
        AS benefit,
    coalesce(m.b1a, 0)::BIGINT AS annual_benefit
FROM k_members x
LEFT JOIN k_m m USING (pid)
LEFT JOIN k_share2 s2 USING (pid)
LEFT JOIN k_share3 s3 USING (pid);

-- The household's benefit is the sum of its steps' benefits; the persons' shares must add
-- up to it (a property the tests check, not something assumed here).
CREATE OR REPLACE TEMP VIEW k_results AS
SELECT hh, personal + b2 + b3 AS benefit, annual AS annual_benefit,
    birthday + b2 + b3 AS household_step_benefit,
    CASE WHEN lim3 IS NOT NULL THEN many3 ELSE coalesce(many2, false) END AS many_times,
    coalesce(lim3, lim2) AS household_limit
FROM k_h;
"""

# §4.8 按分: in proportion to each person's amount entering the step, rounded down, the
# remainder to the largest amount (first in input order on a tie). Integer arithmetic only;
# only households the step pays are split (the others' shares are 0).
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


def _engine_sql() -> str:
    return _STEPS_SQL.replace(
        "{split2}", _SPLIT_SQL.format(out="k_share2", amounts="k_a2", benefits="k_b2") + ";"
    ).replace("{split3}", _SPLIT_SQL.format(out="k_share3", amounts="k_a3", benefits="k_b3") + ";")


def engine_run(con: duckdb.DuckDBPyConnection, rules: MonthRules) -> None:
    """Compute the month for every household in `k_households` (see the module docstring)."""
    # Row order is never relied on (every read says ORDER BY): let DuckDB write in parallel.
    con.execute("SET preserve_insertion_order = false")
    bands = _band_table(rules)  # noqa: F841 — read by name in the SQL below
    con.execute("CREATE OR REPLACE TEMP TABLE k_bands AS SELECT * FROM bands")
    rate_num, rate_den = rules.formula_rate.as_integer_ratio()
    half_num, half_den = rules.birthday_75_ratio.as_integer_ratio()
    con.execute(
        _PARAMETER_SQL,
        {
            "agg": rules.aggregation_threshold,
            "rate_num": rate_num,
            "rate_den": rate_den,
            "sd": rules.specific_disease,
            "sd_upper": rules.specific_disease_dialysis_upper,
            "half_num": half_num,
            "half_den": half_den,
        },
    )
    con.execute(_MACRO_SQL)
    con.execute(_engine_sql())


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
