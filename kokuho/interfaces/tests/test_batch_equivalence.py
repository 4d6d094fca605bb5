"""The batch path (`eligibility.bulk`) gives exactly what the row-by-row path gives.

A seeded generator writes a 住基異動 file with every code, returning residents, deaths after
a move, 世帯分離・合併 with and without a new head, 住所地特例, late and very late reports,
people turning 75, and refused rows of every kind (unknown residents and households, a 転入
of a current resident, a 転出 of a former one, invalid values, repeated and conflicting
record ids). The same file is imported row by row and then, after rolling that back, in
batches; everything the import writes is compared, ids and timestamps aside.
"""

import datetime as dt
import random
import re
from collections import defaultdict

import pytest
from django.db import connection, transaction
from django.db.models import Max
from django.test.utils import CaptureQueriesContext

from kokuho.audit.models import AuditEvent
from kokuho.audit.selectors import audit_chain_verify
from kokuho.eligibility.models import (
    BranchNumber,
    CurrentEligibility,
    EligibilityNotice,
    EligibilityVersion,
    HouseholdNumber,
    KeptInsured,
)
from kokuho.interfaces import importer, residents_changes
from kokuho.interfaces.importer import file_import
from kokuho.interfaces.models import ImportedRecord, QuarantinedRow
from kokuho.interfaces.tests.support import change, write_csv
from kokuho.people.models import Household, HouseholdHistory, OtherCoverage, Person, PersonHistory

pytestmark = pytest.mark.django_db
SOURCE_FILE = re.compile(r"(住基異動) \d+:")


def generate(seed: int, rows: int) -> list[dict[str, str]]:
    rng = random.Random(seed)
    out: list[dict[str, str]] = []
    residents: dict[str, str] = {}  # atena → household
    former: list[str] = []  # moved out (may return, may still die: 住所地特例 case)
    households: list[str] = []
    counter = iter(range(1, 1_000_000))
    day = dt.date(2025, 4, 1)

    def new_id(prefix: int) -> str:
        return str(prefix + next(counter))

    def dates() -> dict[str, str]:
        nonlocal day
        day += dt.timedelta(days=rng.choice([0, 0, 1, 2]))
        late = rng.choices([0, 3, 20, 90], weights=[70, 15, 10, 5])[0]
        return {
            "change_date": day.isoformat(),
            "report_date": (day + dt.timedelta(late)).isoformat(),
        }

    def person(relation: str) -> dict[str, str]:
        birth = dt.date(rng.randint(1946, 2024), rng.randint(1, 12), rng.randint(1, 28))
        return {
            "relation": relation,
            "name": rng.choice(["試験 花子", "見本 太郎", "仮名 次郎"]),
            "name_kana": rng.choice(["シケン ハナコ", "ミホン タロウ", "カメイ ジロウ"]),
            "birth_date": min(birth, day).isoformat(),
            "sex": rng.choice("12"),
        }

    def pick() -> str:
        return rng.choice(sorted(residents))

    for i in range(rows):
        rid = f"Q{i:05d}"
        kinds = ["A01new", "A03"]
        if households:
            kinds += ["A01join", "A02"]
        if len(residents) > 8:
            kinds += ["B01", "B02", "B03", "C01", "C02", "C03", "C04", "C05", "bad"]
        if former:
            kinds += ["return", "B02former"]
        kind = rng.choice(kinds)
        if kind in ("A01new", "A03"):
            atena, household = new_id(200_000_000), new_id(700_000_000)
            code = "A03" if kind == "A03" else "A01"
            row = change(rid, code, "", atena, household, **person("世帯主"))
            if code == "A01" and rng.random() < 0.1:
                row["special_address"] = "1"
            residents[atena] = household
            households.append(household)
        elif kind in ("A01join", "A02"):
            atena, household = new_id(200_000_000), rng.choice(households)
            code = "A02" if kind == "A02" else "A01"
            row = change(rid, code, "", atena, household, **person("子"))
            if code == "A02":
                row["birth_date"] = day.isoformat()
            residents[atena] = household
        elif kind == "return":
            atena = former.pop(rng.randrange(len(former)))
            household = rng.choice(households)
            row = change(rid, "A01", "", atena, household, **person(rng.choice(["世帯主", "子"])))
            residents[atena] = household
        elif kind == "B02former":
            atena = rng.choice(former)
            row = change(rid, "B02", "", atena, "1")
        elif kind in ("B01", "B02", "B03"):
            atena = pick()
            row = change(rid, kind, "", atena, residents.pop(atena))
            if kind == "B01":
                row["destination"] = rng.choice(["domestic", "abroad"])
            if kind != "B02":
                former.append(atena)
        elif kind == "C01":
            atena = pick()
            row = change(rid, "C01", "", atena, residents[atena], relation="子")
            row |= {"postal_code": "799-0003", "address": f"みかん市港町{i}"}
        elif kind == "C02":
            atena = pick()
            household = residents[atena] if rng.random() < 0.85 else rng.choice(households)
            row = change(rid, "C02", "", atena, household, relation="世帯主")
        elif kind == "C03":
            atena = pick()
            household = new_id(700_000_000)
            households.append(household)
            relation = "世帯主" if rng.random() < 0.7 else "同居人"
            row = change(rid, "C03", "", atena, household, relation=relation)
            residents[atena] = household
        elif kind == "C04":
            atena = pick()
            household = rng.choice(households)
            relation = rng.choice(["同居人", "子", "世帯主"])
            row = change(rid, "C04", "", atena, household, relation=relation)
            residents[atena] = household
        elif kind == "C05":
            atena = pick()
            row = change(rid, "C05", "", atena, residents[atena], relation="子")
            row |= {"name": "改姓 花子", "name_kana": "カイセイ ハナコ"}
        else:  # refused or invalid rows of every kind
            bad = rng.choice(["unknown", "again", "gone", "date", "household", "repeat", "clash"])
            if bad == "unknown":
                row = change(rid, rng.choice(["B01", "C01", "C02"]), "", "999999", "1")
                row |= {"relation": "子", "postal_code": "799-0001", "address": "どこか"}
            elif bad == "again":
                atena = pick()
                row = change(rid, "A01", "", atena, residents[atena], **person("子"))
            elif bad == "gone" and former:
                row = change(rid, "B01", "", rng.choice(former), "1")
            elif bad == "household":
                row = change(rid, "C02", "", pick(), "888888", relation="世帯主")
            elif bad in ("repeat", "clash") and out:
                row = dict(rng.choice(out))
                if bad == "clash":
                    row["postal_code"] = "799-9999"
                out.append(row)
                continue
            else:
                row = change(rid, "C01", "", pick(), "1", relation="子", address="x")
                row["postal_code"] = "郵便"
        out.append(row | dates())
    return out


def _src(text: str) -> str:
    return SOURCE_FILE.sub(r"\1 #:", text)


def dump(audit_after: int) -> dict[str, object]:
    """Everything an import writes, by natural keys, without ids and clock times."""
    persons = {
        p.atena_no: (
            p.name,
            p.name_kana,
            p.kana_key,
            p.birth_date,
            p.sex,
            p.postal_code,
            p.address,
            p.household.household_no,
            p.relation,
            p.resident_from,
            p.resident_until,
            p.is_foreign,
        )
        for p in Person.objects.select_related("household")
    }
    households = {
        h.household_no: (h.head.atena_no if h.head else None, h.formed_on, h.dissolved_on)
        for h in Household.objects.select_related("head")
    }
    history = defaultdict(list)
    for h in PersonHistory.objects.select_related("person").order_by("id"):
        history[h.person.atena_no].append(
            (h.change_code, h.change_date, h.reported_on, _src(h.source), h.snapshot)
        )
    household_history = defaultdict(list)
    for h in HouseholdHistory.objects.select_related("household").order_by("id"):
        household_history[h.household.household_no].append(
            (h.change_code, h.change_date, _src(h.source), h.snapshot)
        )
    versions = defaultdict(list)
    for v in EligibilityVersion.objects.select_related("person").order_by("person_id", "seq"):
        periods = [(p.start, p.end, p.acquired, p.lost) for p in v.periods.order_by("start")]
        versions[v.person.atena_no].append(
            (v.seq, v.cause, v.fact_date, v.reported_on, v.changed_from, v.is_retroactive, periods)
        )
    notices = defaultdict(list)
    for n in EligibilityNotice.objects.select_related("person").order_by("id"):
        notices[n.person.atena_no].append((n.code, n.message, n.fact_date, n.reported_on))
    audit = []
    for e in AuditEvent.objects.filter(seq__gt=audit_after).order_by("seq"):
        extra = dict(e.extra)
        if "source" in extra:
            extra["source"] = _src(extra["source"])
        if "import_file" in extra:
            extra["import_file"] = {k: v for k, v in extra["import_file"].items() if k != "id"}
        audit.append((e.event_type, e.subject_type, e.subject_id.split(":")[0], extra))
    return {
        "persons": persons,
        "households": households,
        "history": dict(history),
        "household_history": dict(household_history),
        "coverages": sorted(
            OtherCoverage.objects.values_list("person__atena_no", "kind", "start", "end")
        ),
        "kept": sorted(KeptInsured.objects.values_list("person__atena_no", "kind", "start", "end")),
        "versions": dict(versions),
        "current": sorted(
            CurrentEligibility.objects.values_list("person__atena_no", "version__seq")
        ),
        "numbers": sorted(
            HouseholdNumber.objects.values_list(
                "household__household_no", "symbol", "number", "assigned_on"
            )
        ),
        "branches": sorted(
            BranchNumber.objects.values_list(
                "household_number__household__household_no", "person__atena_no", "branch"
            )
        ),
        "notices": dict(notices),
        "audit": audit,
        "ledger": sorted(ImportedRecord.objects.values_list("record_id", "row_sha256", "line")),
        "quarantine": sorted(
            QuarantinedRow.objects.values_list(
                "line", "record_id", "field", "value", "code", "reason"
            )
        ),
    }


def _import(path, *, batch: bool) -> tuple[dict[str, object], dict[str, object], int]:
    mark = AuditEvent.objects.aggregate(m=Max("seq"))["m"] or 0
    with CaptureQueriesContext(connection) as queries:
        summary = file_import(
            residents_changes.IMPORTER, path=path, actor=None, progress=False, batch=batch
        )
    return dump(mark), summary.counts(), len(queries)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_batches_write_what_row_by_row_writes(tmp_path, monkeypatch, seed):
    # Small windows, so that batches see what earlier batches wrote.
    monkeypatch.setattr(importer, "LEDGER_WINDOW", 41)
    rows = generate(seed, 400)
    path = write_csv(tmp_path / "changes.csv", rows)

    with transaction.atomic():
        by_row, by_row_counts, by_row_queries = _import(path, batch=False)
        transaction.set_rollback(True)
    batched, batched_counts, batched_queries = _import(path, batch=True)

    assert batched_counts["batches_redone"] == 0  # the batch path really did the work
    assert batched_counts == by_row_counts
    assert by_row_counts["applied"] > 250 and by_row_counts["quarantined"] > 10
    for key in by_row:
        assert batched[key] == by_row[key], key
    assert audit_chain_verify().ok
    # A bounded number of statements per batch (≈40: loads, one write per table, the
    # ledger), not some per row as row by row.
    batches = -(-len(rows) // 41)
    assert batched_queries <= 50 * batches
    assert by_row_queries > 10 * batched_queries


def test_a_second_run_of_a_batched_file_changes_nothing(tmp_path):
    path = write_csv(tmp_path / "changes.csv", generate(7, 150))
    file_import(residents_changes.IMPORTER, path=path, actor=None, progress=False)
    mark = AuditEvent.objects.aggregate(m=Max("seq"))["m"]
    before = dump(mark)
    summary = file_import(residents_changes.IMPORTER, path=path, actor=None, progress=False)
    assert summary.applied == 0 and summary.quarantined_total == 0
    after = dump(mark)
    assert [e[0] for e in after.pop("audit")] == ["file_imported"]
    before.pop("audit")
    assert after == before


def test_the_batch_writes_every_column_of_new_persons_and_versions():
    from kokuho.eligibility import bulk

    def columns(model):
        return {f.name for f in model._meta.concrete_fields if not f.primary_key}

    assert set(bulk.PERSON_FIELDS) == columns(Person)
    assert set(bulk.VERSION_FIELDS) == columns(EligibilityVersion)


def test_rows_validated_in_worker_processes_import_what_one_process_imports(
    tmp_path, monkeypatch, settings
):
    """A long file's rows are validated in forked workers (`parallel_read`): the import
    writes exactly what validating in the importer's own process writes, and this process
    validated none of the rows itself."""
    from kokuho.interfaces import parallel_read

    monkeypatch.setattr(importer, "LEDGER_WINDOW", 41)
    monkeypatch.setattr(parallel_read, "SLICE", 37)  # slices that do not fall on windows
    validated_here: list[int] = []
    real = parallel_read.layout_rows

    def counted(source, layout):
        validated_here.append(len(source.lines))
        return real(source, layout)

    monkeypatch.setattr(parallel_read, "layout_rows", counted)
    rows = generate(5, 400)
    path = write_csv(tmp_path / "changes.csv", rows)
    settings.KOKUHO_IMPORT_WORKERS = 1
    with transaction.atomic():
        alone, alone_counts, _queries = _import(path, batch=True)
        transaction.set_rollback(True)
    assert validated_here == [len(rows)]
    validated_here.clear()
    settings.KOKUHO_IMPORT_WORKERS = 2
    settings.KOKUHO_IMPORT_PARALLEL_MIN_LINES = 100
    forked, forked_counts, _queries = _import(path, batch=True)
    assert validated_here == []  # the workers' calls are counted in their own copies
    assert forked_counts == alone_counts
    assert alone_counts["applied"] > 250 and alone_counts["quarantined"] > 10
    for key in alone:
        assert forked[key] == alone[key], key
    assert audit_chain_verify().ok
