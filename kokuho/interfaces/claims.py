"""レセプト (monthly claims from the 国保連合会) — `claims-YYYYMM.csv`, interfaces.md §3.

Each valid record becomes one `benefits.Claim`, matched to an insured person on the way in:
記号・番号 → `HouseholdNumber`, 枝番 → `BranchNumber` → person, and the person counts as
insured in the 診療月 when one of their current eligibility periods overlaps it. A claim
whose number is unknown (番号不明) or whose person was not insured that month (資格喪失後受診・
資格なし) is stored all the same, marked, and reported in the import summary — it is never
dropped and never quarantined. A claim for another insurer is not ours: quarantined
(他保険者のレセプト).

A file is applied a chunk at a time (`claims_apply_batch`): the numbers, 枝番 and current
periods of the whole chunk in three queries (`benefits.claims_match.claims_match_bulk`, the
matching the 再照合 of unmatched claims runs too), then one bulk insert. `claim_apply`, the
per-record path the importer falls back on, calls the same function with one claim.
"""

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection

from kokuho.benefits.claims_match import ClaimFound, ClaimKey, claims_match_bulk
from kokuho.benefits.models import Claim, ClaimKind, ClaimMatch, ClaimSetting
from kokuho.benefits.selectors import claims_unmatched_counts
from kokuho.core.bulkwrite import row_writer
from kokuho.core.purposes import Purpose
from kokuho.interfaces.importer import ApplyContext, Importer, RowRejected
from kokuho.interfaces.layout import (
    Column,
    FieldInvalid,
    Layout,
    Parser,
    choice,
    digits,
    flag,
    identifier,
    nfkc,
    text,
)
from kokuho.interfaces.models import ImportErrorCode, ImportFile, ImportKind

# 点数表番号 (the third digit of a 医療機関コード): 医科, 歯科, 調剤, 訪問看護.
_SCORE_TABLES = frozenset("1346")
# A prescription comes from a medical or a dental provider.
_PRESCRIBER_TABLES = frozenset("13")
_PREFECTURES = frozenset(f"{n:02d}" for n in range(1, 48))
# Only outpatient care is claimed on these (interfaces.md: 訪問看護 counts as outpatient).
_OUTPATIENT_ONLY = (ClaimKind.PHARMACY, ClaimKind.HOME_NURSING)


def _service_month(value: str) -> dt.date:
    """診療年月: YYYYMM as the 国保連合会 sends it; YYYY-MM accepted (typed by hand)."""
    normalized = nfkc(value)
    if len(normalized) == 7 and normalized[4] in "-/":
        normalized = normalized[:4] + normalized[5:]
    if len(normalized) == 6 and normalized.isascii() and normalized.isdigit():
        year, month = int(normalized[:4]), int(normalized[4:])
        if year >= 1900 and 1 <= month <= 12:
            return dt.date(year, month, 1)
    raise FieldInvalid(
        f"YYYYMM（例: 202610）または YYYY-MM で入力してください: '{value}'",
        ImportErrorCode.INVALID_DATE,
    )


def _provider_code(*, tables: frozenset[str]) -> Parser:
    """医療機関コード: 10 digits, 都道府県番号 (01–47) + 点数表番号 + 医療機関 7 digits."""

    def parse(value: str) -> str:
        code = nfkc(value)
        if not (code.isascii() and code.isdigit()) or len(code) != 10:
            raise FieldInvalid(
                f"10 桁の数字で入力してください（都道府県 2 桁 + 点数表 1 桁 + 7 桁）: '{value}'",
                ImportErrorCode.INVALID_VALUE,
            )
        if code[:2] not in _PREFECTURES:
            raise FieldInvalid(
                f"先頭 2 桁の都道府県番号（01〜47）が正しくありません: '{value}'",
                ImportErrorCode.INVALID_VALUE,
            )
        if code[2] not in tables:
            raise FieldInvalid(
                f"3 桁目の点数表番号 '{code[2]}' は使えません（{', '.join(sorted(tables))} の"
                f"いずれか）: '{value}'",
                ImportErrorCode.INVALID_CODE,
            )
        return code

    return parse


def _branch(value: str) -> str:
    """枝番: two digits; a single digit is read with its leading zero ("1" → "01")."""
    return digits(2)(value).zfill(2)


def _fixed_digits(length: int) -> Parser:
    def parse(value: str) -> str:
        code = digits(length)(value)
        if len(code) != length:
            raise FieldInvalid(
                f"{length} 桁の数字で入力してください（{len(code)} 桁）",
                ImportErrorCode.INVALID_VALUE,
            )
        return code

    return parse


def _amount(max_digits: int) -> Parser:
    """An integer ≥ 0 of at most `max_digits` digits (the claim record's field widths)."""

    def parse(value: str) -> int:
        normalized = nfkc(value)
        if not (normalized.isascii() and normalized.isdigit()):
            raise FieldInvalid(
                f"0 以上の整数で入力してください: '{value}'", ImportErrorCode.INVALID_NUMBER
            )
        if len(normalized.lstrip("0")) > max_digits:
            raise FieldInvalid(
                f"{max_digits} 桁以内で入力してください（{len(normalized)} 桁）",
                ImportErrorCode.TOO_LONG,
            )
        return int(normalized)

    return parse


def _pharmacy(parsed: Mapping[str, Any]) -> bool:
    return parsed.get("kind") == ClaimKind.PHARMACY


def _checks(record: Mapping[str, Any]) -> Iterator[tuple[str, str, ImportErrorCode]]:
    ours = settings.KOKUHO_INSURER_NUMBER
    if record["insurer_no"] != ours:
        yield (
            "insurer_no",
            f"他保険者のレセプトです（保険者番号 {record['insurer_no']}。当保険者の番号は {ours}）",
            ImportErrorCode.OTHER_INSURER,
        )
    if record["prescribed_by"] and not _pharmacy(record):
        yield (
            "prescribed_by",
            "処方元医療機関コードは調剤（種別 4）のレセプトにのみ指定できます",
            ImportErrorCode.INVALID_VALUE,
        )
    if record["kind"] in _OUTPATIENT_ONLY and record["setting"] == ClaimSetting.INPATIENT:
        yield (
            "setting",
            f"{ClaimKind(record['kind']).label}のレセプトは入院外（2）です",
            ImportErrorCode.INVALID_CODE,
        )
    if record["copay"] > record["points"] * 10:
        yield (
            "copay",
            f"一部負担金額 {record['copay']:,}円 が総医療費（総点数 × 10 = "
            f"{record['points'] * 10:,}円）を超えています",
            ImportErrorCode.INVALID_VALUE,
        )


LAYOUT = Layout(
    title="レセプト",
    id_column="claim_id",
    columns=(
        Column("claim_id", "レセプト管理番号", text(40), required=True),
        Column("service_month", "診療年月", _service_month, required=True),
        Column("insurer_no", "保険者番号", digits(8), required=True),
        Column("symbol", "記号", identifier(20), required=True),
        Column("number", "番号", identifier(20), required=True),
        Column("branch", "枝番", _branch, required=True),
        Column("provider", "医療機関コード", _provider_code(tables=_SCORE_TABLES), required=True),
        # Plain ints, not the enums: they go to the database as they are (COPY).
        Column("setting", "入院・入院外", choice({"1": 1, "2": 2}), required=True),
        Column("kind", "種別", choice({"1": 1, "3": 3, "4": 4, "5": 5}), required=True),
        Column(
            "prescribed_by",
            "処方元医療機関コード",
            _provider_code(tables=_PRESCRIBER_TABLES),
            required=_pharmacy,
            default="",
        ),
        Column("points", "総点数", _amount(8), required=True),
        Column("copay", "一部負担金額", _amount(9), required=True),
        Column("public_payer", "公費負担者番号", _fixed_digits(8), default=""),
        Column("specific_disease", "特定疾病", flag, default=False),
        Column("limit_applied", "限度額適用済み", flag, default=False),
    ),
    checks=(_checks,),
)

# Claim columns written from a record, in this order, then the looked-up ones.
_RECORD_FIELDS = (
    "claim_id",
    "service_month",
    "insurer_no",
    "symbol",
    "number",
    "branch",
    "provider",
    "setting",
    "kind",
    "prescribed_by",
    "points",
    "copay",
    "public_payer",
    "specific_disease",
    "limit_applied",
)
FIELDS = (*_RECORD_FIELDS, "import_file", "person", "household_number", "match", "recorded_at")


def _refusal(record: Mapping[str, Any], ctx: ApplyContext) -> RowRejected | None:
    """A claim for a month that has not begun by the day the file was received."""
    received = ctx.reported_on
    if record["service_month"] > received.replace(day=1):
        return RowRejected(
            "service_month",
            f"診療年月 {record['service_month']:%Y年%m月} は受付日"
            f"（{received.isoformat()}）より後の月です",
            ImportErrorCode.INVALID_DATE,
        )
    return None


def _key(record: Mapping[str, Any]) -> ClaimKey:
    return ClaimKey(record["symbol"], record["number"], record["branch"], record["service_month"])


def _row(record: Mapping[str, Any], ctx: ApplyContext, found: ClaimFound) -> tuple[Any, ...]:
    return (
        *(record[name] for name in _RECORD_FIELDS),
        ctx.import_file_id,
        found.person_id,
        found.household_number_id,
        found.match.value,
        ctx.recorded_at,
    )


def claim_apply(record: Mapping[str, Any], ctx: ApplyContext) -> None:
    """Store one validated claim with its match (joins the caller's transaction)."""
    refusal = _refusal(record, ctx)
    if refusal is not None:
        raise refusal
    (found,) = claims_match_bulk([_key(record)])
    values = _row(record, ctx, found)
    Claim.objects.create(**dict(zip(_attnames(), values, strict=True)))


def _attnames() -> list[str]:
    return [Claim._meta.get_field(name).attname for name in FIELDS]


def claims_apply_batch(
    records: list[tuple[Mapping[str, Any], ApplyContext]],
) -> list[RowRejected | None]:
    """Store a chunk of validated claims: matched in three queries (`claims_match_bulk`),
    then one insert. For each record None or why it is refused."""
    refusals = [_refusal(record, ctx) for record, ctx in records]
    accepted = [
        (record, ctx)
        for (record, ctx), refusal in zip(records, refusals, strict=True)
        if refusal is None
    ]
    found = claims_match_bulk([_key(record) for record, _ctx in accepted])
    out = [_row(record, ctx, result) for (record, ctx), result in zip(accepted, found, strict=True)]
    row_writer(connection).insert(Claim, FIELDS, out)
    return refusals


def claim_explain(record: Mapping[str, Any], error: Exception) -> RowRejected:
    if isinstance(error, RowRejected):
        return error
    if (
        isinstance(error, IntegrityError)
        and Claim.objects.filter(claim_id=record["claim_id"]).exists()
    ):
        return RowRejected(
            "claim_id",
            f"レセプト管理番号 {record['claim_id']} のレセプトは既に登録されています",
            ImportErrorCode.CONFLICT,
        )
    return RowRejected("", f"レセプトを登録できません: {error}", ImportErrorCode.REJECTED)


def claims_report(file: ImportFile) -> dict[str, int]:
    """The file's claims that match no insured person of their month, by reason."""
    return {
        ClaimMatch(match).label: n
        for match, n in claims_unmatched_counts(import_file_id=file.pk).items()
    }


IMPORTER = Importer(
    kind=ImportKind.CLAIMS,
    layout=LAYOUT,
    apply=claim_apply,
    explain=claim_explain,
    apply_batch=claims_apply_batch,
    source_prefix="レセプト",
    purpose=Purpose.NHI_BENEFITS,
    report=claims_report,
    report_title="照合できなかったレセプト",
    tables=(Claim,),
)
