"""The オンライン資格確認 file at rest: encrypted with a data key the vault's KEK wraps, opened
only through the vault's key ring, every read recorded."""

import datetime as dt

import pytest
from django.core.management import call_command

from kokuho.audit.models import AuditEvent, EventType
from kokuho.identity.keys import KeyRing
from kokuho.national.ledger import national_export
from kokuho.national.models import Feed
from kokuho.national.onshi.files import (
    NationalFileError,
    national_file_open,
    national_file_segments,
    national_file_stream,
)
from kokuho.national.tests.test_onshi_export import DAY, FEED, city, plaintext

pytestmark = pytest.mark.django_db(databases=["default", "vault"])


@pytest.fixture(autouse=True)
def _national_dir(tmp_path, settings):
    settings.KOKUHO_NATIONAL_DIR = tmp_path / "national"
    settings.KOKUHO_INSURER_NUMBER = "389999"
    settings.KOKUHO_VAULT_KEY_FILE = tmp_path / "vault-keys.json"


@pytest.fixture
def sent():
    numbers = city()
    return national_export(feed=FEED, as_of=DAY, full=True, actor=None), numbers


def test_the_file_opens_only_with_the_vault_key_ring(sent):
    outcome, _ = sent
    assert outcome.path.read_bytes().startswith(b"KKHNENC1")
    with pytest.raises(NationalFileError, match="データ鍵"):
        b"".join(national_file_segments(outcome.path, ring=KeyRing.generate()))
    assert plaintext(outcome.path).startswith(b"1,onshi_history,")


def test_a_cut_or_altered_file_does_not_open(sent, tmp_path):
    outcome, _ = sent
    raw = outcome.path.read_bytes()
    cut = tmp_path / "cut.csv.enc"
    cut.write_bytes(raw[:-7])
    with pytest.raises(NationalFileError, match="切れて"):
        b"".join(national_file_segments(cut))
    altered = tmp_path / "altered.csv.enc"
    altered.write_bytes(raw[:-3] + bytes([raw[-3] ^ 1]) + raw[-2:])
    with pytest.raises(NationalFileError, match="復号できません"):
        b"".join(national_file_segments(altered))


def test_the_ledger_hash_is_of_the_plaintext(sent):
    import hashlib

    outcome, _ = sent
    assert hashlib.sha256(plaintext(outcome.path)).hexdigest() == outcome.file.sha256
    assert hashlib.sha256(outcome.path.read_bytes()).hexdigest() != outcome.file.sha256


def test_opening_for_transmission_is_recorded_and_checked_against_the_ledger(sent, tmp_path):
    outcome, numbers = sent
    out = tmp_path / "send.csv"
    sha = national_file_open(path=outcome.path, out=out, actor=None, reason="国保連合会へ送信")
    assert sha == outcome.file.sha256 and out.read_bytes() == plaintext(outcome.path)
    assert out.stat().st_mode & 0o077 == 0
    (event,) = AuditEvent.objects.filter(event_type=EventType.NATIONAL_FILE_READ)
    assert event.extra["file"] == outcome.path.name and event.extra["sequence"] == 1
    assert event.extra["reason"] == "国保連合会へ送信"
    assert not any(n in str(event.extra) for n in numbers.values())


def test_a_stream_whose_plaintext_differs_from_the_ledger_raises(sent):
    outcome, _ = sent
    outcome.file.sha256 = "0" * 64
    outcome.file.save(update_fields=["sha256"])
    with pytest.raises(NationalFileError, match="台帳"):
        b"".join(national_file_stream(path=outcome.path, actor=None, reason="x"))


def test_the_open_command_decrypts_and_records(sent, tmp_path, capsys):
    outcome, _ = sent
    out = tmp_path / "cmd.csv"
    call_command("national", "open", str(outcome.path), "--out", str(out))
    assert out.read_bytes() == plaintext(outcome.path)
    assert "読出しを記録" in capsys.readouterr().out
    assert AuditEvent.objects.filter(event_type=EventType.NATIONAL_FILE_READ).count() == 1


def test_the_export_command_knows_the_onshi_target(capsys):
    city()
    call_command("national", "export", "onshi", "--full", "--date", DAY.isoformat())
    text = capsys.readouterr().out
    assert Feed.ONSHI_HISTORY.label in text and "推定レイアウト" in text and ".csv.enc" in text
    call_command("national", "export", "onshi", "--date", (DAY + dt.timedelta(days=1)).isoformat())
    assert "通番 2 差分" in capsys.readouterr().out
