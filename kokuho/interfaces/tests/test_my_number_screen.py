"""A My Number typed into a field that must not hold one (issue 18): the row is set aside as
「個人番号と思われる値」, the value masked in the quarantine — never stored as typed, in no
column, raw row or hash of the business database."""

import hashlib

import pytest

from kokuho.demo.numbers import demo_my_number
from kokuho.interfaces.layout import row_hash
from kokuho.interfaces.models import ImportErrorCode, QuarantinedRow
from kokuho.interfaces.residents_changes import LAYOUT
from kokuho.interfaces.services import import_claims, import_residents_changes
from kokuho.interfaces.tests.support import CHANGES_HEADER, CLAIMS_HEADER, change, claim, write_csv
from kokuho.people.models import Person

pytestmark = pytest.mark.django_db
NUMBER = demo_my_number(777)
WIDE = NUMBER.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
GROUPED = f"{NUMBER[:4]} {NUMBER[4:8]} {NUMBER[8:]}"


def _database_text() -> str:
    from django.db import connection

    dump = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 (introspected names)
            dump += [repr(row) for row in cursor.fetchall()]
    return "\n".join(dump)


@pytest.mark.parametrize("typed", [NUMBER, WIDE, GROUPED], ids=["plain", "full-width", "4-4-4"])
def test_a_my_number_in_an_address_is_set_aside_masked(tmp_path, typed):
    rows = [
        change("202611000001", "A01", "2026-11-01", "8000000001", "9000000001"),
        change(
            "202611000002", "A01", "2026-11-01", "8000000002", "9000000002",
            address=f"みかん市本町{typed}",
        ),
    ]  # fmt: skip
    summary = import_residents_changes(
        path=write_csv(tmp_path / "c.csv", rows), actor=None, progress=False
    )
    assert (summary.applied, summary.quarantined_total) == (1, 1)
    held = QuarantinedRow.objects.get()
    assert held.code == ImportErrorCode.MY_NUMBER_LIKE and held.field == "address"
    assert held.value == f"みかん市本町**** **** {NUMBER[-4:]}"
    assert "個人番号と思われる12桁の数字" in held.reason
    assert held.raw["address"] == held.value
    assert held.row_sha256 == row_hash(held.raw, LAYOUT.names)
    assert not Person.objects.filter(atena_no="8000000002").exists()
    text = _database_text()
    assert NUMBER not in text and WIDE not in text and GROUPED not in text
    assert hashlib.sha256(typed.encode()).hexdigest() not in text


def test_a_record_number_of_twelve_digits_is_its_own_format(tmp_path):
    """異動連番 is numbered YYYYMM + 6 by the sender: any 12 digits, never screened."""
    assert len(NUMBER) == 12
    rows = [change(NUMBER, "A01", "2026-11-01", "8000000003", "9000000003")]
    summary = import_residents_changes(
        path=write_csv(tmp_path / "c.csv", rows), actor=None, progress=False
    )
    assert (summary.applied, summary.quarantined_total) == (1, 0)


def test_a_my_number_as_a_claim_id_is_set_aside(tmp_path):
    path = write_csv(tmp_path / "r.csv", [claim(NUMBER)], header=CLAIMS_HEADER)
    summary = import_claims(path=path, actor=None, progress=False)
    assert summary.quarantined_total == 1
    held = QuarantinedRow.objects.get()
    assert (held.code, held.field) == (ImportErrorCode.MY_NUMBER_LIKE, "claim_id")
    assert NUMBER not in _database_text()


def test_a_misaligned_row_is_masked_whole(tmp_path):
    row = change("202611000004", "A01", "2026-11-01", "8000000004", "9000000004", address=NUMBER)
    cells = [row.get(name, "") for name in CHANGES_HEADER][:-1]  # one cell short
    text = ",".join(CHANGES_HEADER) + "\r\n" + ",".join(cells) + "\r\n"
    path = tmp_path / "c.csv"
    path.write_text(text, encoding="utf-8")
    import_residents_changes(path=path, actor=None, progress=False)
    held = QuarantinedRow.objects.get()
    assert held.code == ImportErrorCode.ROW_SHAPE
    assert NUMBER not in _database_text()
