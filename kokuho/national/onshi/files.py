"""Linkage files encrypted at rest (暗号化した連携ファイル): written, and opened for transmission.

A file that carries My Number never exists in clear on disk. It is written as `<name>.enc`:

    magic "KKHNENC1" ‖ header length (4 bytes, big-endian) ‖ header (JSON: format, kek_id,
    wrapped_dek, name, chunk) ‖ segments

The header names the vault KEK (`identity.services.vault_key_ring`) that wraps the file's own
data key (a fresh AES-256 key per file, AES-GCM with the KEK id and the file name as
associated data). The plaintext is cut into segments of `SEGMENT` bytes, each
`flag (1: last) ‖ length (4) ‖ AES-GCM(data key, nonce = segment number)` with the header's
hash, the segment number and the flag as associated data — so a segment moved, dropped or
cut off, or a file without its last segment (truncated), does not open. Memory stays one
segment whatever the file's size.

The ledger's SHA-256 is of the **plaintext** bytes (what the recipient receives and what a
re-run must reproduce); the ciphertext differs on every write (a new data key).

`national_file_open` decrypts for transmission and records the read (NATIONAL_FILE_READ:
who, which file, its hash checked against the ledger).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import transaction

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.core.purposes import Purpose
from kokuho.identity.keys import KeyRing
from kokuho.identity.services import vault_key_ring
from kokuho.interfaces.exports import export_permission_check
from kokuho.national.layouts import Descriptor

MAGIC = b"KKHNENC1"
SEGMENT = 64 * 1024
SUFFIX = ".enc"
_FORMAT = 1
_NONCE = 12


class NationalFileError(ValueError):
    """The file does not open: not ours, damaged, cut short, or another key ring's.
    Messages name the file, never its content."""


def _dek_aad(kek_id: str, name: str) -> bytes:
    return f"kokuho:national:file-dek:{kek_id}:{name}".encode()


def _segment_aad(header_digest: bytes, index: int, last: bool) -> bytes:
    return header_digest + index.to_bytes(8, "big") + (b"\x01" if last else b"\x00")


def _nonce(index: int) -> bytes:
    # A counter is safe: every file has its own data key.
    return index.to_bytes(_NONCE, "big")


class EncryptedWriter:
    """The ledger's writer for a feed whose file carries My Number (same interface as
    `ledger._Writer`): a temporary `.<name>.enc.tmp`, encrypted as written, hashed in clear,
    fsynced and renamed by `finish`."""

    def __init__(self, path: Path, desc: Descriptor, *, ring: KeyRing | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.desc = desc
        self.path = path.with_name(path.name + SUFFIX)
        self.temporary = self.path.with_name(f".{self.path.name}.tmp")
        ring = ring or vault_key_ring(create=True)
        self._key = AESGCM.generate_key(bit_length=256)
        self._aes = AESGCM(self._key)
        nonce = os.urandom(_NONCE)
        wrapped = nonce + AESGCM(ring.keks[ring.active]).encrypt(
            nonce, self._key, _dek_aad(ring.active, path.name)
        )
        header = json.dumps(
            {
                "format": _FORMAT,
                "kek_id": ring.active,
                "wrapped_dek": base64.b64encode(wrapped).decode("ascii"),
                "name": path.name,
                "segment": SEGMENT,
            },
            sort_keys=True,
        ).encode("utf-8")
        self._digest = hashlib.sha256(MAGIC + header).digest()
        fd = os.open(self.temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        self.out: IO[bytes] = os.fdopen(fd, "wb")
        self.out.write(MAGIC + len(header).to_bytes(4, "big") + header)
        self.sha = hashlib.sha256()
        self._buffer = bytearray()
        self._index = 0
        self.size = 0

    def _seal(self, data: bytes, *, last: bool) -> None:
        sealed = self._aes.encrypt(
            _nonce(self._index), data, _segment_aad(self._digest, self._index, last)
        )
        self.out.write((b"\x01" if last else b"\x00") + len(sealed).to_bytes(4, "big") + sealed)
        self._index += 1

    def write(self, raw: bytes) -> None:
        self.sha.update(raw)
        self.size += len(raw)
        self._buffer += raw
        while len(self._buffer) >= SEGMENT:
            self._seal(bytes(self._buffer[:SEGMENT]), last=False)
            del self._buffer[:SEGMENT]

    def line(self, text: str) -> None:
        self.write((text + self.desc.line_ending).encode(self.desc.encoding))

    def finish(self) -> str:
        self._seal(bytes(self._buffer), last=True)
        self._buffer.clear()
        self.out.flush()
        os.fsync(self.out.fileno())
        self.out.close()
        os.replace(self.temporary, self.path)
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        return self.sha.hexdigest()

    def abandon(self) -> None:
        self.out.close()
        self.temporary.unlink(missing_ok=True)


def _read_exact(source: IO[bytes], count: int, name: str) -> bytes:
    data = source.read(count)
    if len(data) != count:
        raise NationalFileError(f"{name}: 暗号化ファイルが途中で切れています")
    return data


def national_file_segments(path: Path, *, ring: KeyRing | None = None) -> Iterator[bytes]:
    """The plaintext of an encrypted linkage file, segment by segment (no audit: callers that
    hand the bytes on use `national_file_open` / `national_file_stream`)."""
    name = path.name
    ring = ring or vault_key_ring()
    with path.open("rb") as source:
        if source.read(len(MAGIC)) != MAGIC:
            raise NationalFileError(f"{name}: 暗号化した連携ファイルではありません")
        length = int.from_bytes(_read_exact(source, 4, name), "big")
        header_raw = _read_exact(source, length, name)
        try:
            header = json.loads(header_raw)
            wrapped = base64.b64decode(header["wrapped_dek"])
            kek = ring.keks.get(header["kek_id"])
            if header.get("format") != _FORMAT or kek is None:
                raise NationalFileError(f"{name}: この鍵（{header.get('kek_id')}）では開けません")
            key = AESGCM(kek).decrypt(
                wrapped[:_NONCE], wrapped[_NONCE:], _dek_aad(header["kek_id"], header["name"])
            )
        except (InvalidTag, KeyError, ValueError, TypeError):
            raise NationalFileError(
                f"{name}: データ鍵を復号できません（別の鍵又は改ざん）"
            ) from None
        aes, digest, index = AESGCM(key), hashlib.sha256(MAGIC + header_raw).digest(), 0
        while True:
            head = source.read(5)
            if len(head) < 5:
                raise NationalFileError(f"{name}: 暗号化ファイルが途中で切れています")
            last = head[0] == 1
            sealed = _read_exact(source, int.from_bytes(head[1:], "big"), name)
            try:
                yield aes.decrypt(_nonce(index), sealed, _segment_aad(digest, index, last))
            except InvalidTag:
                raise NationalFileError(f"{name}: {index + 1}番目の区画を復号できません") from None
            index += 1
            if last:
                if source.read(1):
                    raise NationalFileError(f"{name}: 最後の区画の後にデータがあります")
                return


def _ledger_row(path: Path) -> Any:
    from kokuho.national.models import OutboundFile

    plain_name = path.name[: -len(SUFFIX)] if path.name.endswith(SUFFIX) else path.name
    return OutboundFile.objects.filter(file_name=plain_name).first()


def national_file_stream(*, path: Path, actor: Any | None, reason: str) -> Iterator[bytes]:
    """Read an encrypted linkage file for transmission: the read is recorded now (who, which
    file, why), then the plaintext is yielded segment by segment; at the end its SHA-256 is
    checked against the ledger (a mismatch raises — the bytes are not what was sent)."""
    export_permission_check(actor=actor)
    file = _ledger_row(path)
    with transaction.atomic():
        audit_event_record(
            event_type=EventType.NATIONAL_FILE_READ,
            actor=actor,
            subject_type=SubjectType.EXPORT if file and file.export_id else SubjectType.SYSTEM,
            subject_id=str(file.export_id) if file and file.export_id else path.name[:40],
            purpose=Purpose.ONLINE_ELIGIBILITY,
            extra={
                "file": path.name,
                "feed": file.feed if file else None,
                "sequence": file.sequence if file else None,
                "reason": reason[:200],
            },
        )
    return _checked(path, file)


def _checked(path: Path, file: Any) -> Iterator[bytes]:
    sha = hashlib.sha256()
    for segment in national_file_segments(path):
        sha.update(segment)
        yield segment
    if file is not None and file.sha256 and sha.hexdigest() != file.sha256:
        raise NationalFileError(f"{path.name}: 復号した内容のハッシュが台帳と一致しません")


def national_file_open(*, path: Path, out: Path, actor: Any | None, reason: str) -> str:
    """Decrypt `path` to `out` (owner-only, for the transmission step) and return the
    plaintext SHA-256. The read is recorded; a partial output is removed on failure."""
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    sha = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as target:
            for segment in national_file_stream(path=path, actor=actor, reason=reason):
                sha.update(segment)
                target.write(segment)
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    return sha.hexdigest()
