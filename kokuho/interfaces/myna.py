"""マイナ保険証の利用登録状況 (the national side's registration-status file) — `myna-status.csv`.

One record says what the national side knew about one insured person's マイナ保険証 on a
基準日: 利用登録済み, 未登録, 利用登録の解除 or 電子証明書の有効期限切れ. The person is found
through 記号・番号・枝番 (`HouseholdNumber` → `BranchNumber`, as for claims); the state goes
to `certificates.MynaRegistration`, one row per person, updated in place.

* A number nobody holds is quarantined (番号不明); so is another insurer's person (他保険者)
  and a 基準日 after the day the file was received.
* A 基準日 older than the one already recorded never overwrites it: the row is taken (it is
  in the ledger) and counted as 「より新しい状況が登録済み」, not quarantined — the national
  side resends old states, staff have nothing to correct.
* `kakuninsho_requested_on` (a 要配慮者's request, recorded at the counter) is left alone.

A chunk is applied set-based (`myna_apply_batch`): one query matches the chunk's numbers,
one reads (and locks) the persons' current rows, then one bulk insert and one bulk update.
What the chunk did is added to the file's tally in the same transaction, and the file gets
one audit event (`MYNA_STATUS_CHANGED`, subject SYSTEM) with the totals when it is done —
not one per person.
"""

from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

from django.conf import settings

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.certificates.models import MynaRegistration, MynaStatus
from kokuho.core.purposes import Purpose
from kokuho.eligibility.models import BranchNumber
from kokuho.interfaces.importer import ApplyContext, Importer, RowRejected
from kokuho.interfaces.layout import (
    Column,
    FieldInvalid,
    Layout,
    choice,
    date_value,
    digits,
    identifier,
    text,
)
from kokuho.interfaces.models import ImportErrorCode, ImportFile, ImportKind

# 利用登録状況 codes of the file.
STATUS_CODES: dict[str, MynaStatus] = {
    "0": MynaStatus.UNREGISTERED,
    "1": MynaStatus.REGISTERED,
    "2": MynaStatus.CANCELLED,
    "3": MynaStatus.CARD_EXPIRED,
}

# Where a chunk adds what it did, in the file's `counts` until the file is done.
TALLY_KEY = "myna_status"
OLDER_REASON = "基準日が登録済みの状況より古い（上書きしていません）"


def _insurer_number(value: str) -> str:
    """保険者番号: a 国保 insurer number has six digits."""
    code = digits(6)(value)
    if len(code) != 6:
        raise FieldInvalid(
            f"6 桁の数字で入力してください（{len(code)} 桁）", ImportErrorCode.INVALID_VALUE
        )
    return code


def _branch(value: str) -> str:
    """枝番: two digits; a single digit is read with its leading zero ("1" → "01")."""
    return digits(2)(value).zfill(2)


def _checks(record: Mapping[str, Any]) -> Iterator[tuple[str, str, ImportErrorCode]]:
    ours = settings.KOKUHO_INSURER_NUMBER
    if record["insurer_no"] != ours:
        yield (
            "insurer_no",
            f"他保険者の被保険者です（保険者番号 {record['insurer_no']}。当保険者の番号は {ours}）",
            ImportErrorCode.OTHER_INSURER,
        )


LAYOUT = Layout(
    title="マイナ保険証の利用登録状況",
    id_column="record_id",
    columns=(
        Column("record_id", "レコード番号", text(40), required=True, screen=False),
        Column("insurer_no", "保険者番号", _insurer_number, required=True),
        Column("symbol", "記号", identifier(20), required=True),
        Column("number", "番号", identifier(20), required=True),
        Column("branch", "枝番", _branch, required=True),
        Column("status", "利用登録状況", choice(STATUS_CODES), required=True),
        Column("as_of", "基準日", date_value, required=True),
    ),
    checks=(_checks,),
)


def _future(record: Mapping[str, Any], ctx: ApplyContext) -> RowRejected | None:
    """A 基準日 after the day the file was received cannot have been reported yet."""
    if record["as_of"] > ctx.reported_on:
        return RowRejected(
            "as_of",
            f"基準日 {record['as_of']:%Y-%m-%d} は受付日（{ctx.reported_on:%Y-%m-%d}）より後の"
            "日付です",
            ImportErrorCode.INVALID_DATE,
        )
    return None


def _unknown(record: Mapping[str, Any], *, number_known: bool) -> RowRejected:
    where = f"記号 {record['symbol']}・番号 {record['number']}・枝番 {record['branch']}"
    if number_known:
        return RowRejected(
            "branch",
            f"番号不明: {where}（記号・番号はありますが、この枝番の被保険者がいません）",
            ImportErrorCode.UNKNOWN_NUMBER,
        )
    return RowRejected(
        "number",
        f"番号不明: {where}（この記号・番号の世帯がありません）",
        ImportErrorCode.UNKNOWN_NUMBER,
    )


def _persons(
    records: list[Mapping[str, Any]],
) -> tuple[dict[tuple[str, str, str], int], set[tuple[str, str]]]:
    """The chunk's 記号・番号・枝番 → person, and the 記号・番号 that exist: one query."""
    pairs = {(r["symbol"], r["number"]) for r in records}
    if not pairs:
        return {}, set()
    rows = BranchNumber.objects.filter(
        household_number__symbol__in=sorted({s for s, _n in pairs}),
        household_number__number__in=sorted({n for _s, n in pairs}),
    ).values_list("household_number__symbol", "household_number__number", "branch", "person_id")
    found = {(s, n, b): person for s, n, b, person in rows if (s, n) in pairs}
    return found, {(s, n) for s, n, _b in found}


def myna_apply_batch(
    records: list[tuple[Mapping[str, Any], ApplyContext]],
) -> list[RowRejected | None]:
    """Record a chunk of validated statuses; for each record None or why it is refused.

    Rows of the chunk are taken in file order, so of two rows for one person the later
    基準日 wins (on the same 基準日, the later row). Fixed number of queries per chunk."""
    refusals: list[RowRejected | None] = [_future(record, ctx) for record, ctx in records]
    found, numbers = _persons(
        [r for (r, _c), refused in zip(records, refusals, strict=True) if not refused]
    )
    person_of: list[int | None] = []
    for i, (record, _ctx) in enumerate(records):
        person = None
        if refusals[i] is None:
            person = found.get((record["symbol"], record["number"], record["branch"]))
            if person is None:
                number_known = (record["symbol"], record["number"]) in numbers
                refusals[i] = _unknown(record, number_known=number_known)
        person_of.append(person)
    wanted = sorted({p for p in person_of if p is not None})
    stored = MynaRegistration.objects.select_for_update().in_bulk(wanted) if wanted else {}
    created: dict[int, MynaRegistration] = {}
    updated: dict[int, MynaRegistration] = {}
    tally: Counter[str] = Counter()
    for (record, ctx), person in zip(records, person_of, strict=True):
        if person is None:
            continue
        status, as_of = record["status"], record["as_of"]
        row = created.get(person) or stored.get(person)
        if row is None:
            created[person] = MynaRegistration(
                person_id=person, status=status, status_as_of=as_of, updated_at=ctx.recorded_at
            )
            tally["created"] += 1
            tally[f"to_{status.value}"] += 1
            continue
        if as_of < row.status_as_of:
            tally["older"] += 1
            continue
        if status == row.status and as_of == row.status_as_of:
            tally["unchanged"] += 1
            continue
        if status != row.status:
            tally["changed"] += 1
            tally[f"{MynaStatus(row.status).value}_to_{status.value}"] += 1
            tally[f"to_{status.value}"] += 1
        else:
            tally["as_of_only"] += 1
        row.status, row.status_as_of, row.updated_at = status, as_of, ctx.recorded_at
        if person not in created:
            updated[person] = row
    MynaRegistration.objects.bulk_create(created.values())
    MynaRegistration.objects.bulk_update(updated.values(), ["status", "status_as_of", "updated_at"])
    file_ids = {ctx.import_file_id for _record, ctx in records} - {None}
    if tally and len(file_ids) == 1:
        _tally_add(file_ids.pop(), tally)
    return refusals


def _tally_add(import_file_id: int, tally: Counter[str]) -> None:
    """Add a chunk's counts to its file's, in the chunk's transaction: a chunk rolled back
    (and redone row by row) is counted once."""
    current = (
        ImportFile.objects.select_for_update()
        .filter(pk=import_file_id)
        .values_list("counts", flat=True)
        .first()
    )
    if current is None:
        return
    total = Counter(current.get(TALLY_KEY, {}))
    total.update(tally)
    ImportFile.objects.filter(pk=import_file_id).update(
        counts={**current, TALLY_KEY: dict(sorted(total.items()))}
    )


def myna_apply(record: Mapping[str, Any], ctx: ApplyContext) -> None:
    """Record one validated status (the per-row path: the batch of one)."""
    refusal = myna_apply_batch([(record, ctx)])[0]
    if refusal is not None:
        raise refusal


def myna_explain(record: Mapping[str, Any], error: Exception) -> RowRejected:
    if isinstance(error, RowRejected):
        return error
    return RowRejected("", f"利用登録状況を登録できません: {error}", ImportErrorCode.REJECTED)


def myna_report(file: ImportFile) -> dict[str, int]:
    """Once per file, after its last chunk: the file's audit event with what it changed,
    and the rows not applied because a newer state is recorded (reported, not quarantined)."""
    counts = ImportFile.objects.filter(pk=file.pk).values_list("counts", flat=True).first()
    tally: dict[str, int] = (counts or {}).get(TALLY_KEY, {})
    audit_event_record(
        event_type=EventType.MYNA_STATUS_CHANGED,
        actor=file.actor,
        subject_type=SubjectType.SYSTEM,
        subject_id=f"import_file:{file.pk}",
        purpose=Purpose.NHI_ELIGIBILITY,
        extra={
            "source": "import",
            "import_file": file.pk,
            "file_name": file.file_name,
            "counts": tally,
        },
    )
    return {OLDER_REASON: tally.get("older", 0)}


IMPORTER = Importer(
    kind=ImportKind.MYNA_STATUS,
    layout=LAYOUT,
    apply=myna_apply,
    explain=myna_explain,
    apply_batch=myna_apply_batch,
    source_prefix="マイナ登録状況",
    purpose=Purpose.NHI_ELIGIBILITY,
    report=myna_report,
    report_title="より新しい状況が登録済みの行",
    tables=(MynaRegistration,),
)
