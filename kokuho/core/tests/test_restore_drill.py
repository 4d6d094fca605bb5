"""scripts/restore-drill.sh: both databases and the key file backed up, restored into fresh
databases, the audit chain verified and the vault opened there; the drill's databases and
its copy of the key file gone afterwards, whether it passed or not (PostgreSQL only)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection, connections

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.core.mynumber import is_valid_my_number, my_number_check_digit
from kokuho.core.purposes import Purpose
from kokuho.identity.checks import NumberCheck
from kokuho.identity.keys import key_ring
from kokuho.identity.services import my_numbers_register_bulk
from kokuho.testing import make_person

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "restore-drill.sh"

pytestmark = [
    pytest.mark.django_db(
        transaction=True, serialized_rollback=True, databases=["default", "vault"]
    ),
    pytest.mark.skipif(
        "postgresql" not in os.environ.get("KOKUHO_DATABASE_URL", ""),
        reason="pg_dump / pg_restore: PostgreSQL only (KOKUHO_DATABASE_URL)",
    ),
]


def _url(alias: str) -> str:
    settings_dict = connections[alias].settings_dict
    user = settings_dict["USER"] or "postgres"
    host = settings_dict["HOST"] or "127.0.0.1"
    port = settings_dict["PORT"] or 5432
    return f"postgresql://{user}@{host}:{port}/{settings_dict['NAME']}"


def _number(serial: int) -> str:
    first = f"97{serial:09d}"
    return first + str(my_number_check_digit(first))


@pytest.fixture
def source(settings, tmp_path):
    """A small installation: five residents with numbers in the vault, a few audit events."""
    settings.KOKUHO_VAULT_KEY_FILE = tmp_path / "vault-keys.json"
    people = [make_person() for _ in range(5)]
    my_numbers_register_bulk(
        numbers={p.atena_no: _number(i) for i, p in enumerate(people, start=1)},
        number_check=NumberCheck.REGISTRY_MATCH,
        purpose=Purpose.NHI_ELIGIBILITY,
        source="drill-test",
    )
    for person in people[:3]:
        audit_event_record(
            event_type=EventType.PERSON_VIEWED,
            actor=None,
            subject_type=SubjectType.PERSON,
            subject_id=person.atena_no,
        )
    return settings.KOKUHO_VAULT_KEY_FILE


def _drill(tmp_path: Path, key_file: Path) -> tuple[subprocess.CompletedProcess, str]:
    name = re.sub(r"[^a-z0-9_]", "_", connection.settings_dict["NAME"].lower())[:40] + "_drill"
    (tmp_path / "tmp").mkdir(exist_ok=True)
    env = {
        **os.environ,
        "KOKUHO_VAULT_KEY_FILE": str(key_file),
        "KOKUHO_DRILL_NAME": name,
        "KOKUHO": str(Path(sys.executable).with_name("kokuho")),
        "TMPDIR": str(tmp_path / "tmp"),
    }
    done = subprocess.run(
        ["bash", str(SCRIPT), _url("default"), _url("vault")],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    return done, name


def _databases_named(prefix: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", [prefix + "%"])
        return [row[0] for row in cursor.fetchall()]


def _assert_no_my_number(text: str) -> None:
    assert not [d for d in re.findall(r"\d{12}", text) if is_valid_my_number(d)]


def test_the_drill_restores_both_databases_verifies_the_chain_and_opens_the_vault(source, tmp_path):
    done, name = _drill(tmp_path, source)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert f"訓練用: {name}, {name}_vault" in out
    assert "保管庫 復元元 5 → 復元 5" in out
    assert re.search(r"監査ログ \d+ 件を検証しました: 異常なし", out)
    assert "登録 5 件のうち 5 件を確認し、5 件を復号できました" in out
    assert "復元訓練: 成功" in out
    _assert_no_my_number(out + done.stderr)
    assert _databases_named(name) == []
    assert list((tmp_path / "tmp").iterdir()) == []  # the backup and its key copy removed


def test_a_key_file_that_does_not_open_the_vault_fails_the_drill_and_still_cleans_up(
    source, tmp_path
):
    other = tmp_path / "other-installation-keys.json"
    key_ring(other, create=True)
    done, name = _drill(tmp_path, other)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "鍵ファイルで開けない行があります: 5 件" in done.stderr
    assert "復元訓練: 失敗" in done.stderr and "成功" not in done.stdout
    _assert_no_my_number(done.stdout + done.stderr)
    assert _databases_named(name) == []
    assert list((tmp_path / "tmp").iterdir()) == []
