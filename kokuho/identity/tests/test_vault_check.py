"""`kokuho vault check`: the key file opens the vault (the restore drill's proof), counts only."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kokuho.audit.models import AuditEvent
from kokuho.core.purposes import Purpose
from kokuho.identity.checks import NumberCheck
from kokuho.identity.keys import KeyRing, key_ring
from kokuho.identity.models import IdentityLink
from kokuho.identity.services import my_numbers_register_bulk, vault_check
from kokuho.identity.tests.conftest import synthetic_my_number
from kokuho.testing import make_person

pytestmark = pytest.mark.django_db(databases=["default", "vault"])


def _linked(count: int) -> list[str]:
    numbers = {make_person().atena_no: synthetic_my_number() for _ in range(count)}
    my_numbers_register_bulk(
        numbers=numbers,
        number_check=NumberCheck.REGISTRY_MATCH,
        purpose=Purpose.NHI_ELIGIBILITY,
        source="test",
    )
    return list(numbers.values())


def _active_kek() -> str:
    return IdentityLink.objects.using("vault").values_list("kek_id", flat=True).first()


def _check(*args: str) -> str:
    out = StringIO()
    call_command("vault", "check", *args, stdout=out)
    return out.getvalue()


def test_it_opens_every_row_and_prints_counts_and_key_ids_only():
    numbers = _linked(5)
    events = AuditEvent.objects.count()
    out = _check("--all")
    assert "登録 5 件のうち 5 件を確認し、5 件を復号できました" in out
    assert _active_kek() in out
    assert not re.search(r"\d{12}", out) and not any(n[-4:] in out for n in numbers)
    assert AuditEvent.objects.count() == events  # read-only: nothing recorded


def test_a_sample_still_tries_the_first_row_of_every_key_in_use():
    _linked(4)
    found = vault_check(sample=0)
    assert found.ok and found.links == 4 and found.checked == 1 and found.opened == 1


def test_another_installations_key_file_opens_nothing(settings, tmp_path):
    _linked(3)
    settings.KOKUHO_VAULT_KEY_FILE = tmp_path / "other-keys.json"
    key_ring(settings.KOKUHO_VAULT_KEY_FILE, create=True)
    with pytest.raises(CommandError) as refused:
        _check("--all")
    assert refused.value.returncode == 1
    assert "開けない行があります: 3 件" in str(refused.value)
    # Same key id (named by date), other key material: what a mixed-up restore looks like.
    found = vault_check(sample=None)
    assert not found.ok and found.keks_missing == [] and found.opened == 0


def test_a_key_file_that_lost_a_key_in_use_names_it(settings, tmp_path):
    """A key retired too early (rotation) or a key file older than the vault dump."""
    _linked(2)
    used = _active_kek()
    rotated, _new = KeyRing.load(settings.KOKUHO_VAULT_KEY_FILE).with_new_kek()
    settings.KOKUHO_VAULT_KEY_FILE = tmp_path / "retired-too-early.json"
    rotated.without({used}).save(settings.KOKUHO_VAULT_KEY_FILE)
    with pytest.raises(CommandError):
        _check()
    assert vault_check(sample=None).keks_missing == [used]


def test_a_row_whose_blind_index_does_not_match_its_number_fails():
    _linked(2)
    link = IdentityLink.objects.using("vault").order_by("pk").first()
    link.blind_index = "0" * 64
    link.save(using="vault")
    found = vault_check(sample=None)
    assert not found.ok and (found.checked, found.opened) == (2, 1)


def test_a_missing_key_file_is_an_error_without_a_traceback(settings, tmp_path):
    settings.KOKUHO_VAULT_KEY_FILE = tmp_path / "absent.json"
    with pytest.raises(CommandError, match="鍵ファイルがありません"):
        _check()
