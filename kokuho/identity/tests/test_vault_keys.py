"""Envelope encryption: what opens, what must not, rotation and the key file."""

import json
import stat

import pytest

from kokuho.identity.keys import KeyRing, Sealed, VaultKeyError, key_ring
from kokuho.identity.tests.conftest import synthetic_my_number


def test_a_number_sealed_opens_with_its_binding_only():
    ring = KeyRing.generate()
    number = synthetic_my_number()
    sealed = ring.seal(number, binding="100000001")
    assert number.encode() not in sealed.ciphertext and number.encode() not in sealed.wrapped_dek
    assert ring.open(sealed, binding="100000001") == number
    with pytest.raises(VaultKeyError):
        ring.open(sealed, binding="100000002")  # moved to another row


def test_the_wrong_key_does_not_open_it():
    number = synthetic_my_number()
    sealed = KeyRing.generate().seal(number, binding="1")
    stranger = KeyRing.generate()
    # Same key id, other key material: a stolen database with another installation's file.
    impostor = KeyRing(
        active=sealed.kek_id,
        keks={sealed.kek_id: stranger.keks[stranger.active]},
        index_key=stranger.index_key,
    )
    with pytest.raises(VaultKeyError) as error:
        impostor.open(sealed, binding="1")
    assert number not in str(error.value)


def test_a_tampered_ciphertext_is_refused():
    ring = KeyRing.generate()
    sealed = ring.seal(synthetic_my_number(), binding="1")
    flipped = bytearray(sealed.ciphertext)
    flipped[-1] ^= 1
    with pytest.raises(VaultKeyError):
        ring.open(Sealed(sealed.kek_id, sealed.wrapped_dek, bytes(flipped)), binding="1")


def test_rotation_rewraps_the_data_key_and_keeps_the_ciphertext():
    ring = KeyRing.generate()
    number = synthetic_my_number()
    sealed = ring.seal(number, binding="1")
    rotated, new_id = ring.with_new_kek()
    moved = rotated.rewrap(sealed)
    assert moved.kek_id == new_id != sealed.kek_id
    assert moved.ciphertext == sealed.ciphertext
    retired = rotated.without({sealed.kek_id})
    assert retired.open(moved, binding="1") == number
    with pytest.raises(VaultKeyError):
        retired.open(sealed, binding="1")  # its old key is gone


def test_the_blind_index_is_keyed():
    import hashlib

    number = synthetic_my_number()
    one, two = KeyRing.generate(), KeyRing.generate()
    assert one.blind_index(number) == one.blind_index(number)
    assert one.blind_index(number) != two.blind_index(number)
    assert one.blind_index(number) != hashlib.sha256(number.encode()).hexdigest()


def test_the_key_file_is_owner_only_and_round_trips(tmp_path):
    path = tmp_path / "keys.json"
    ring = key_ring(path, create=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = key_ring(path)
    number = synthetic_my_number()
    assert again.open(ring.seal(number, binding="x"), binding="x") == number


def test_a_damaged_key_file_is_reported_without_its_content(tmp_path):
    path = tmp_path / "keys.json"
    key_ring(path, create=True)
    data = json.loads(path.read_text())
    data["index_key"] = "not base64!"
    path.write_text(json.dumps(data))
    with pytest.raises(VaultKeyError, match="壊れています"):
        key_ring(path)
    with pytest.raises(VaultKeyError, match="ありません"):
        key_ring(tmp_path / "missing.json")
