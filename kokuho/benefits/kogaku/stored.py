"""計算明細 kept with a result: the engine's rows for a paid household, stored by the monthly
run (`explanations_read`) and turned back into an `Outcome` for notices and screens
(`result_outcome`) — so a notice words exactly what was computed, without computing again."""

import datetime as dt
from typing import Any

import duckdb

from kokuho.benefits.kogaku.household import (
    HouseholdIn,
    MemberIn,
    Outcome,
    Step,
    Unit,
    many_times_months,
)
from kokuho.benefits.kogaku.rules import month_rules
from kokuho.benefits.models import KogakuResult
from kokuho.people.models import Person

_PARTS = {
    "members": """
        SELECT m.hh, list({'pid': m.pid, 'ord': m.ord, 'grp': m.grp, 'cat': m.cat,
                           'halved': m.halved, 'sp75': m.sp75,
                           'birth': strftime(p.birth, '%Y-%m-%d')} ORDER BY m.ord)
        FROM k_members m JOIN m_people p USING (pid)
        WHERE m.hh IN (SELECT hh FROM k_results WHERE benefit > 0) GROUP BY m.hh
    """,
    "units": """
        SELECT hh, list({'pid': pid, 'provider': unit_provider, 'inpatient': inpatient,
                         'dental': dental, 'cost': cost, 'copay': copay, 'claims': claims,
                         'counted': counted, 'specific_disease': specific_disease,
                         'limit_applied': limit_applied} ORDER BY first_seq)
        FROM k_units WHERE hh IN (SELECT hh FROM k_results WHERE benefit > 0) GROUP BY hh
    """,
    "steps": """
        SELECT hh, list({'step': step, 'pid': pid, 'entering': entering, 'cost': cost,
                         'limit': lim, 'benefit': benefit, 'many': many_applied})
        FROM k_steps WHERE hh IN (SELECT hh FROM k_results WHERE benefit > 0) GROUP BY hh
    """,
    "shares": """
        SELECT hh, list({'step': step, 'pid': pid, 'amount': amount, 'share': share}
                        ORDER BY step, pid)
        FROM k_shares WHERE hh IN (SELECT hh FROM k_results WHERE benefit > 0) GROUP BY hh
    """,
}


def explanations_read(
    con: duckdb.DuckDBPyConnection,
    prior: dict[int, list[dt.date]],
    carried: dict[int, dict[dt.date, str]] | None = None,
) -> dict[int, dict[str, Any]]:
    """Per paid household of the engine run in `con`: its members, units, steps, shares and
    the paid months that made (or did not make) it 多数回 — JSON-ready. `carried` names the
    months among them counted only as carried over from a former city of the prefecture,
    with that city's 保険者番号 (高額該当の引継ぎ)."""
    carried = carried or {}
    explanations: dict[int, dict[str, Any]] = {}
    for part, sql in _PARTS.items():
        for hh, rows in con.execute(sql).fetchall():
            explanations.setdefault(hh, {})[part] = rows
    for hh, found in explanations.items():
        found.setdefault("shares", [])
        found["prior"] = [m.isoformat() for m in prior.get(hh, [])]
        if carried.get(hh):
            found["carried"] = {m.isoformat(): n for m, n in sorted(carried[hh].items())}
    return explanations


_ORDER = {"1": 0, "1a": 1, "5": 2, "2": 3, "3": 4}


def _labels(result: KogakuResult, pids: list[int]) -> dict[int, str]:
    """Members as notices name them: 氏名, numbered when two share a name. Read from the
    result's prefetched persons when the caller loaded them (a batch of notices), else in
    one query."""
    prefetched = getattr(result, "_prefetched_objects_cache", {}).get("persons")
    if prefetched is not None:
        people = {p.person_id: p.person for p in prefetched}
    else:
        people = Person.objects.in_bulk(pids)
    labels: dict[int, str] = {}
    seen: dict[str, int] = {}
    for pid in pids:
        name = people[pid].name if pid in people else f"被保険者{pid}"
        seen[name] = seen.get(name, 0) + 1
        labels[pid] = name if seen[name] == 1 else f"{name}（{seen[name]}）"
    return labels


def result_outcome(result: KogakuResult) -> Outcome:
    """The stored computation of a paid household as the `Outcome` the 計算明細 words."""
    data = result.explanation
    if not data:
        raise ValueError(f"計算の内訳が保存されていない結果です: {result.pk}")
    rules = month_rules(result.month)
    members_data = sorted(data["members"], key=lambda m: m["ord"])
    label = _labels(result, [m["pid"] for m in members_data])
    members = tuple(
        MemberIn(
            id=label[m["pid"]],
            birth=dt.date.fromisoformat(m["birth"]),
            group=m["grp"],
            band=rules.band(m["grp"], m["cat"]),
            halved=m["halved"],
            special_75_dependent=m["sp75"],
        )
        for m in members_data
    )
    prior = tuple(dt.date.fromisoformat(m) for m in data.get("prior", []))
    carried = {dt.date.fromisoformat(m): n for m, n in data.get("carried", {}).items()}
    steps = sorted(
        (
            Step(
                s["step"],
                label.get(s["pid"]) if s["pid"] is not None else None,
                s["entering"],
                s["cost"],
                s["limit"],
                s["benefit"],
                s["many"],
            )
            for s in data["steps"]
        ),
        key=lambda s: (_ORDER[s.step], s.person or ""),
    )
    shares: dict[str, list[tuple[str, int, int]]] = {}
    for row in data["shares"]:
        shares.setdefault(row["step"], []).append((label[row["pid"]], row["amount"], row["share"]))
    persons = {
        label[p.person_id]: (p.counted_copay, p.benefit)
        for p in result.persons.all()
        if p.person_id in label
    }
    return Outcome(
        month=result.month,
        rules=rules,
        household=HouseholdIn(month=result.month, members=members, claims=(), prior_months=prior),
        many_times=result.many_times,
        counted_prior=many_times_months(result.month, prior, rules),
        carried=carried,
        benefit=result.benefit,
        household_limit=result.household_limit,
        persons=persons,
        units=[
            Unit(
                label[u["pid"]],
                u["provider"],
                "inpatient" if u["inpatient"] else "outpatient",
                "dental" if u["dental"] else "medical",
                u["cost"],
                u["copay"],
                u["claims"],
                u["counted"],
                u["specific_disease"],
                u["limit_applied"],
            )
            for u in data["units"]
        ],
        steps=steps,
        shares=shares,
    )
