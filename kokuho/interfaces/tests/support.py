"""Builders for import tests: one line writes a CSV file of the interfaces.md layouts."""

import csv
import io
from pathlib import Path

from kokuho.interfaces import claims, income, residents_changes

CHANGES_HEADER = list(residents_changes.LAYOUT.names)
INCOME_HEADER = list(income.LAYOUT.names)
CLAIMS_HEADER = list(claims.LAYOUT.names)


def change(record_id: str, code: str, date: str, atena_no: str, household_no: str, **fields: str):
    """A 住基異動 row; A codes get a plausible person unless fields say otherwise."""
    row = {
        "record_id": record_id,
        "change_code": code,
        "change_date": date,
        "atena_no": atena_no,
        "household_no": household_no,
    }
    if code.startswith("A"):
        row |= {
            "relation": "世帯主",
            "name": "試験 太郎",
            "name_kana": "シケン タロウ",
            "birth_date": "1980-01-01",
            "sex": "1",
            "postal_code": "799-0001",
            "address": "みかん市本町1-1",
        }
    if code == "B01":
        row["destination"] = "domestic"
    return row | fields


def claim(claim_id: str, person=None, month: str = "202610", **fields: str) -> dict[str, str]:
    """A レセプト row: an outpatient 医科 claim of 1,000 points (3,000 yen) for the person's
    newest 記号・番号・枝番 (or for a number nobody holds), unless fields say otherwise."""
    from django.conf import settings

    from kokuho.eligibility.models import BranchNumber

    number = (
        BranchNumber.objects.filter(person=person)
        .select_related("household_number")
        .order_by("-assigned_on", "-id")
        .first()
        if person is not None
        else None
    )
    row = {
        "claim_id": claim_id,
        "service_month": month,
        "insurer_no": settings.KOKUHO_INSURER_NUMBER,
        "symbol": number.household_number.symbol if number else "99",
        "number": number.household_number.number if number else "999999",
        "branch": number.branch if number else "01",
        "provider": "3810000001",
        "setting": "2",
        "kind": "1",
        "prescribed_by": "",
        "points": "1000",
        "copay": "3000",
        "public_payer": "",
        "specific_disease": "0",
        "limit_applied": "0",
    }
    return row | fields


def csv_text(rows: list[dict[str, str]], header: list[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def write_csv(
    path: Path,
    rows: list[dict[str, str]],
    *,
    header: list[str] | None = None,
    encoding: str = "utf-8",
) -> Path:
    """`encoding` "utf-8-sig" writes the BOM, "cp932" a Shift_JIS file."""
    path.write_bytes(csv_text(rows, header or CHANGES_HEADER).encode(encoding))
    return path
