"""The vault's keys and cryptography (暗号鍵の管理): envelope encryption of My Numbers.

* Each vault row has its own data key (DEK, AES-256). The My Number is sealed with it by
  AES-256-GCM, with the row's 団体内統合宛名番号 as associated data, so a ciphertext copied
  onto another row does not open.
* The DEK is stored wrapped (AES-256-GCM) by a key-encryption key (KEK) named by `kek_id`
  on the row. KEKs live in a key file outside both databases (`KOKUHO_VAULT_KEY_FILE`,
  owner-only), never in the database: a copy of the databases alone reveals nothing.
* Rotation adds a KEK and re-wraps every DEK (`vault rotate-keys`); the data itself is not
  re-encrypted. Erasure destroys a row's wrapped DEK (cryptographic erasure, 暗号化消去)
  before the row is deleted.
* Exact-match search uses a blind index: HMAC-SHA256 of the number under an index key from
  the same file. Without the key the index is useless to a reader of the database (a bare
  hash of 12 digits would be reversed by trying them all).
"""

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12
KEY_BYTES = 32
_FORMAT = 1


class VaultKeyError(Exception):
    """The key file is missing or damaged, or a key does not open what it should.

    Messages never contain key material or a My Number."""


@dataclass(frozen=True)
class Sealed:
    """What a vault row stores for its number."""

    kek_id: str
    wrapped_dek: bytes  # nonce ‖ AES-GCM(KEK, DEK)
    ciphertext: bytes  # nonce ‖ AES-GCM(DEK, number)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def _new_kek_id(existing: dict[str, bytes]) -> str:
    stem = f"kek-{dt.date.today():%Y%m%d}"
    n = 1
    while f"{stem}-{n}" in existing:
        n += 1
    return f"{stem}-{n}"


class KeyRing:
    """The KEKs and the index key, as read from the key file."""

    def __init__(self, *, active: str, keks: dict[str, bytes], index_key: bytes) -> None:
        if active not in keks:
            raise VaultKeyError("鍵ファイルの有効な鍵（active）が見つかりません")
        if any(len(k) != KEY_BYTES for k in keks.values()) or len(index_key) != KEY_BYTES:
            raise VaultKeyError("鍵ファイルの鍵の長さが正しくありません（256ビット）")
        self.active = active
        self.keks = dict(keks)
        self.index_key = index_key

    # --- the file ---------------------------------------------------------------------------

    @classmethod
    def generate(cls) -> "KeyRing":
        keks: dict[str, bytes] = {}
        kek_id = _new_kek_id(keks)
        keks[kek_id] = AESGCM.generate_key(bit_length=256)
        return cls(active=kek_id, keks=keks, index_key=secrets.token_bytes(KEY_BYTES))

    @classmethod
    def load(cls, path: Path) -> "KeyRing":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != _FORMAT:
                raise VaultKeyError(f"鍵ファイルの形式が違います: {path}")
            return cls(
                active=data["active"],
                keks={name: _unb64(value) for name, value in data["keks"].items()},
                index_key=_unb64(data["index_key"]),
            )
        except FileNotFoundError:
            raise VaultKeyError(f"鍵ファイルがありません: {path}") from None
        except (KeyError, ValueError, TypeError) as error:
            raise VaultKeyError(
                f"鍵ファイルが壊れています: {path} ({type(error).__name__})"
            ) from None

    def save(self, path: Path) -> None:
        """Write atomically, owner-only (0600)."""
        data = {
            "format": _FORMAT,
            "active": self.active,
            "keks": {name: _b64(key) for name, key in self.keks.items()},
            "index_key": _b64(self.index_key),
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=2)
        os.replace(temporary, path)

    def with_new_kek(self) -> tuple["KeyRing", str]:
        """A ring with one more KEK, made the active one (rotation, step 1)."""
        keks = dict(self.keks)
        kek_id = _new_kek_id(keks)
        keks[kek_id] = AESGCM.generate_key(bit_length=256)
        return KeyRing(active=kek_id, keks=keks, index_key=self.index_key), kek_id

    def without(self, kek_ids: set[str]) -> "KeyRing":
        """A ring without retired KEKs (rotation, last step, once no row uses them)."""
        if self.active in kek_ids:
            raise VaultKeyError("有効な鍵は削除できません")
        keks = {k: v for k, v in self.keks.items() if k not in kek_ids}
        return KeyRing(active=self.active, keks=keks, index_key=self.index_key)

    # --- cryptography -----------------------------------------------------------------------

    def blind_index(self, number: str) -> str:
        return hmac.new(self.index_key, number.encode("ascii"), hashlib.sha256).hexdigest()

    def _kek(self, kek_id: str) -> AESGCM:
        try:
            return AESGCM(self.keks[kek_id])
        except KeyError:
            raise VaultKeyError(f"鍵 {kek_id} が鍵ファイルにありません") from None

    @staticmethod
    def _dek_aad(kek_id: str) -> bytes:
        return f"kokuho:vault:dek:{kek_id}".encode()

    @staticmethod
    def _data_aad(binding: str) -> bytes:
        return f"kokuho:vault:my_number:{binding}".encode()

    def _wrap(self, dek: bytes) -> tuple[str, bytes]:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._kek(self.active).encrypt(nonce, dek, self._dek_aad(self.active))
        return self.active, nonce + sealed

    def _unwrap(self, kek_id: str, wrapped: bytes) -> bytes:
        try:
            return self._kek(kek_id).decrypt(
                wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], self._dek_aad(kek_id)
            )
        except InvalidTag:
            raise VaultKeyError(f"鍵 {kek_id} でデータ鍵を復号できません") from None

    def seal(self, number: str, *, binding: str) -> Sealed:
        dek = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = nonce + AESGCM(dek).encrypt(
            nonce, number.encode("ascii"), self._data_aad(binding)
        )
        kek_id, wrapped = self._wrap(dek)
        return Sealed(kek_id, wrapped, ciphertext)

    def open(self, sealed: Sealed, *, binding: str) -> str:
        dek = self._unwrap(sealed.kek_id, sealed.wrapped_dek)
        try:
            plain = AESGCM(dek).decrypt(
                sealed.ciphertext[:NONCE_BYTES],
                sealed.ciphertext[NONCE_BYTES:],
                self._data_aad(binding),
            )
        except InvalidTag:
            raise VaultKeyError("個人番号を復号できません（改ざん又は行の取り違え）") from None
        return plain.decode("ascii")

    def rewrap(self, sealed: Sealed) -> Sealed:
        """The same DEK wrapped by the active KEK (the number is not re-encrypted)."""
        if sealed.kek_id == self.active:
            return sealed
        kek_id, wrapped = self._wrap(self._unwrap(sealed.kek_id, sealed.wrapped_dek))
        return Sealed(kek_id, wrapped, sealed.ciphertext)


def key_ring(path: Path, *, create: bool = False) -> KeyRing:
    """The installation's key ring; `create` writes a new key file if there is none (setup)."""
    if create and not path.exists():
        ring = KeyRing.generate()
        ring.save(path)
        return ring
    return KeyRing.load(path)
