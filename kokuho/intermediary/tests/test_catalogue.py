"""副本の目録: the shipped catalogue loads (and the start-up check passes); a catalogue that
breaks a rule is refused with the file and item named."""

import datetime as dt
from pathlib import Path

import pytest

from kokuho.intermediary.catalogue import CATALOGUE_DIR, CatalogueError, catalogue, catalogue_load
from kokuho.intermediary.checks import intermediary_catalogue_check

SHIPPED = (CATALOGUE_DIR / "medical_benefits.yaml").read_text(encoding="utf-8")


def test_the_shipped_catalogue_loads_with_versions_in_force():
    assert intermediary_catalogue_check(None) == []
    entry = next(e for e in catalogue() if e.provided)
    assert entry.version_on(dt.date(2024, 6, 30)) is None
    assert entry.version_on(dt.date(2024, 12, 1)).version == "R061100"
    assert entry.version_on(dt.date(2026, 7, 1)).version == "R080700"
    copay = entry.datasets[1]
    before = entry.items_of(copay, entry.version_on(dt.date(2024, 8, 1)))
    assert [i.code for i in before] == ["TK00000000000201", "TK00000000000202"]
    assert all("仮コード" in e.placeholder for e in catalogue())


@pytest.mark.parametrize(
    "old, new, message",
    [
        ("code: TM00000000000001", "code: TM0001", "特定個人情報名コード"),
        ("code: TK00000000000101", "code: XK00000000000101", "項目コードは"),
        ("source: insurer_no}", "source: select_star}", "セレクタ"),
        ("2025-07-01, kind: yearly", "2025-06-01, kind: yearly", "7月"),
        ('unset: "01"}', 'unset: "77"}', "未設定事由"),
        ("code: TK00000000000102", "code: TK00000000000101", "重複"),
        ('since: "R061100"', 'since: "R990700"', "since"),
    ],
)
def test_a_bad_catalogue_is_refused(tmp_path: Path, old, new, message):
    assert old in SHIPPED
    (tmp_path / "medical_benefits.yaml").write_text(SHIPPED.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(CatalogueError, match=message):
        catalogue_load(tmp_path)


def test_an_empty_catalogue_is_refused(tmp_path: Path):
    with pytest.raises(CatalogueError, match="目録がありません"):
        catalogue_load(tmp_path)
