"""Purpose-bound use of My Number (個人番号の利用): register, show masked, reveal, look up.

Every function takes the actor and the 事務 (purpose) and refuses — with an audit event —
when the purpose is not one the actor's roles may use My Number for (番号法9条: 利用範囲;
privacy.md §1), when the actor lacks the permission, or (reveal) when the session is not
MFA-verified or no reason is given. The number itself never reaches an audit event, a log
line or an exception message: events name the person by 宛名番号 and the link by
団体内統合宛名番号.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone

from kokuho.accounts.permissions import Perm, purposes_for_roles
from kokuho.accounts.services import mfa_verified
from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.core.mynumber import is_valid_my_number, mask_my_number
from kokuho.core.purposes import Purpose
from kokuho.dbrouter import VAULT_ALIAS
from kokuho.identity.checks import IdentityCheck, NumberCheck
from kokuho.identity.keys import KeyRing, Sealed, VaultKeyError, key_ring
from kokuho.identity.models import IdentityLink
from kokuho.people.models import Person

__all__ = [
    "MyNumberRefused",
    "VaultError",
    "VaultKeyError",
    "my_number_look_up",
    "my_number_masked",
    "my_number_register",
    "my_number_reveal",
    "my_numbers_erase",
    "my_numbers_for_linkage",
    "my_numbers_register_bulk",
    "vault_check",
    "vault_keys_rotate",
]

# 事務 in whose flow a number may be acquired (取得): the NHI 事務 themselves. The linkage
# purposes use numbers already held.
REGISTER_PURPOSES = frozenset({Purpose.NHI_ELIGIBILITY, Purpose.NHI_BENEFITS})
# 宛名番号 per vault query of the bulk look-ups (one bound array each: `among`).
LOOKUP_CHUNK = 5000


class VaultError(ValueError):
    """The input cannot be registered (bad check digit, already linked …). No number in it."""


class MyNumberRefused(PermissionError):
    """The actor may not do this with My Number (purpose, permission, MFA, reason)."""


# --- keys ---------------------------------------------------------------------------------------


def _key_path() -> Path:
    return Path(settings.KOKUHO_VAULT_KEY_FILE)


@cache
def _ring_cached(path: Path, mtime_ns: int) -> KeyRing:
    return key_ring(path)


def vault_key_ring(*, create: bool = False) -> KeyRing:
    """The key ring from the key file (re-read when the file changes: rotation)."""
    path = _key_path()
    if create and not path.exists():
        key_ring(path, create=True)
    try:
        return _ring_cached(path, path.stat().st_mtime_ns)
    except FileNotFoundError:
        raise VaultKeyError(f"鍵ファイルがありません: {path}") from None


def _sealed(link: IdentityLink) -> Sealed:
    return Sealed(link.kek_id, bytes(link.wrapped_dek), bytes(link.ciphertext))


# --- checks -------------------------------------------------------------------------------------


def _roles(actor: Any) -> set[str]:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return set()
    return set(actor.groups.values_list("name", flat=True))


def _refuse(
    *, actor: Any, action: str, atena_no: str, purpose: str, reason: str
) -> MyNumberRefused:
    """Record the refusal (its own transaction: the caller's rollback must not erase it)."""
    with transaction.atomic():
        audit_event_record(
            event_type=EventType.MY_NUMBER_REFUSED,
            actor=actor,
            subject_type=SubjectType.PERSON if atena_no else SubjectType.SYSTEM,
            subject_id=atena_no,
            extra={"action": action, "purpose": str(purpose), "reason": reason},
        )
    return MyNumberRefused(reason)


def _authorize(
    *, actor: Any, action: str, atena_no: str, purpose: Any, perm: Perm, allowed: Iterable[Purpose]
) -> Purpose:
    """The purpose, if the actor may use My Number for it with this permission; else refuse."""
    try:
        chosen = Purpose(purpose)
    except ValueError:
        chosen = None
    if chosen is None or chosen not in allowed:
        raise _refuse(
            actor=actor,
            action=action,
            atena_no=atena_no,
            purpose=str(purpose),
            reason=f"この事務では個人番号を利用できません: {purpose}",
        )
    if chosen not in purposes_for_roles(_roles(actor)):
        raise _refuse(
            actor=actor,
            action=action,
            atena_no=atena_no,
            purpose=chosen,
            reason=f"あなたの役割では「{chosen.label}」に個人番号を利用できません",
        )
    if not actor.has_perm(str(perm)):
        raise _refuse(
            actor=actor,
            action=action,
            atena_no=atena_no,
            purpose=chosen,
            reason=f"権限がありません（{perm.label}）",
        )
    return chosen


def _normalized(number: str) -> str:
    digits = "".join(c for c in number if not c.isspace() and c != "-")
    digits = digits.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if not is_valid_my_number(digits):
        # Never echo the input: it may be a real number with one digit wrong.
        raise VaultError("個人番号が正しくありません（12桁・検査用数字を確認してください）")
    return digits


# --- register -----------------------------------------------------------------------------------


def _next_integrated_numbers(count: int) -> list[str]:
    last = IdentityLink.objects.using(VAULT_ALIAS).aggregate(m=Max("integrated_no"))["m"]
    start = int(last) + 1 if last else 1
    return [f"{n:015d}" for n in range(start, start + count)]


@dataclass(frozen=True)
class Registration:
    integrated_no: str
    atena_no: str
    masked: str


def my_number_register(
    *,
    actor: Any,
    atena_no: str,
    my_number: str,
    purpose: Any,
    number_check: NumberCheck,
    identity_checks: list[IdentityCheck],
) -> Registration:
    """個人番号の登録 inside an NHI 事務, with 番号確認 and 身元確認 recorded.

    A person has one number and a number one person: a different number for a linked
    person, or a number linked to someone else, is refused (corrections are their own
    procedure)."""
    chosen = _authorize(
        actor=actor,
        action="register",
        atena_no=atena_no,
        purpose=purpose,
        perm=Perm.ELIGIBILITY_CHANGE,
        allowed=REGISTER_PURPOSES,
    )
    number = _normalized(my_number)
    if not identity_checks:
        raise VaultError("身元確認の書類を選んでください")
    checks = [IdentityCheck(c) for c in identity_checks]
    if not Person.objects.filter(atena_no=atena_no).exists():
        raise VaultError(f"宛名番号 {atena_no} の住民が見つかりません")
    ring = vault_key_ring(create=True)
    index = ring.blind_index(number)
    with transaction.atomic(using=VAULT_ALIAS):
        existing = IdentityLink.objects.using(VAULT_ALIAS).filter(atena_no=atena_no).first()
        if existing is not None:
            if existing.blind_index == index:
                raise VaultError(f"宛名番号 {atena_no} には同じ個人番号が登録済みです")
            raise VaultError(
                f"宛名番号 {atena_no} には別の個人番号が登録済みです（訂正は別の手続）"
            )
        other = IdentityLink.objects.using(VAULT_ALIAS).filter(blind_index=index).first()
        if other is not None:
            raise VaultError("この個人番号は別の住民に登録済みです")
        sealed = ring.seal(number, binding=atena_no)
        link = IdentityLink.objects.using(VAULT_ALIAS).create(
            integrated_no=_next_integrated_numbers(1)[0],
            atena_no=atena_no,
            kek_id=sealed.kek_id,
            wrapped_dek=sealed.wrapped_dek,
            ciphertext=sealed.ciphertext,
            blind_index=index,
            purpose=chosen.value,
            number_check=NumberCheck(number_check).value,
            identity_checks=[c.value for c in checks],
            registered_at=timezone.now(),
            registered_by=actor.get_username(),
        )
        with transaction.atomic():
            audit_event_record(
                event_type=EventType.MY_NUMBER_REGISTERED,
                actor=actor,
                subject_type=SubjectType.PERSON,
                subject_id=atena_no,
                purpose=chosen,
                extra={
                    "integrated_no": link.integrated_no,
                    "number_check": link.number_check,
                    "identity_checks": link.identity_checks,
                },
            )
    return Registration(link.integrated_no, atena_no, mask_my_number(number))


def my_numbers_register_bulk(
    *, numbers: dict[str, str], number_check: NumberCheck, purpose: Purpose, source: str
) -> int:
    """System registration of many numbers at once (初期移行 from the 団体内統合宛名システム,
    and the demo city): no staff actor, one audit event for the batch. Persons already
    linked are left alone; returns how many were linked."""
    if purpose not in REGISTER_PURPOSES:
        raise VaultError(f"この事務では個人番号を登録できません: {purpose}")
    ring = vault_key_ring(create=True)
    vault = IdentityLink.objects.using(VAULT_ALIAS)
    with transaction.atomic(using=VAULT_ALIAS):
        # Every link, not an IN list of the batch: a city's worth of 宛名番号 would pass
        # SQLite's limit on query parameters.
        linked = set(vault.values_list("atena_no", flat=True))
        todo = sorted(a for a in numbers if a not in linked)
        now = timezone.now()
        rows = []
        for atena_no, integrated_no in zip(todo, _next_integrated_numbers(len(todo)), strict=True):
            number = _normalized(numbers[atena_no])
            sealed = ring.seal(number, binding=atena_no)
            rows.append(
                IdentityLink(
                    integrated_no=integrated_no,
                    atena_no=atena_no,
                    kek_id=sealed.kek_id,
                    wrapped_dek=sealed.wrapped_dek,
                    ciphertext=sealed.ciphertext,
                    blind_index=ring.blind_index(number),
                    purpose=purpose.value,
                    number_check=NumberCheck(number_check).value,
                    identity_checks=[IdentityCheck.OFFICIAL_RECORD.value],
                    registered_at=now,
                    registered_by="",
                )
            )
        vault.bulk_create(rows, batch_size=2000)
        with transaction.atomic():
            audit_event_record(
                event_type=EventType.MY_NUMBER_REGISTERED,
                actor=None,
                subject_type=SubjectType.SYSTEM,
                purpose=purpose,
                extra={"bulk": source, "linked": len(rows), "number_check": str(number_check)},
            )
    return len(rows)


# --- read ---------------------------------------------------------------------------------------


def _link(atena_no: str) -> IdentityLink | None:
    return IdentityLink.objects.using(VAULT_ALIAS).filter(atena_no=atena_no).first()


def my_number_masked(*, actor: Any, atena_no: str, purpose: Any) -> str | None:
    """`**** **** 1234` for staff who may see the person's record in this 事務 (None: no
    number registered). Showing the masked form is not a use of the number and is covered
    by the person_viewed event of the page that shows it."""
    _authorize(
        actor=actor,
        action="masked",
        atena_no=atena_no,
        purpose=purpose,
        perm=Perm.PEOPLE_VIEW,
        allowed=Purpose,
    )
    link = _link(atena_no)
    if link is None:
        return None
    return mask_my_number(vault_key_ring().open(_sealed(link), binding=atena_no))


def my_number_reveal(*, actor: Any, atena_no: str, purpose: Any, reason: str) -> str:
    """個人番号の表示: the number in clear, for a role with the right, in an MFA-verified
    session, with a reason; recorded. The caller shows it once (no-store) and keeps it
    nowhere."""
    chosen = _authorize(
        actor=actor,
        action="reveal",
        atena_no=atena_no,
        purpose=purpose,
        perm=Perm.MY_NUMBER_REVEAL,
        allowed=Purpose,
    )
    if not mfa_verified(actor):
        raise _refuse(
            actor=actor,
            action="reveal",
            atena_no=atena_no,
            purpose=chosen,
            reason="二要素認証を済ませてから表示してください",
        )
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise _refuse(
            actor=actor,
            action="reveal",
            atena_no=atena_no,
            purpose=chosen,
            reason="表示する理由を入力してください",
        )
    link = _link(atena_no)
    if link is None:
        raise VaultError(f"宛名番号 {atena_no} の個人番号は登録されていません")
    number = vault_key_ring().open(_sealed(link), binding=atena_no)
    with transaction.atomic():
        audit_event_record(
            event_type=EventType.MY_NUMBER_REVEALED,
            actor=actor,
            subject_type=SubjectType.PERSON,
            subject_id=atena_no,
            purpose=chosen,
            extra={"integrated_no": link.integrated_no, "reason": reason[:200]},
        )
    return number


def my_number_look_up(*, actor: Any, my_number: str, purpose: Any) -> str | None:
    """個人番号による検索: the 宛名番号 linked to the number (exact match by the blind
    index), or None. Recorded without the number."""
    chosen = _authorize(
        actor=actor,
        action="look_up",
        atena_no="",
        purpose=purpose,
        perm=Perm.PEOPLE_SEARCH,
        allowed=Purpose,
    )
    number = _normalized(my_number)
    link = (
        IdentityLink.objects.using(VAULT_ALIAS)
        .filter(blind_index=vault_key_ring().blind_index(number))
        .first()
    )
    with transaction.atomic():
        audit_event_record(
            event_type=EventType.MY_NUMBER_LOOKED_UP,
            actor=actor,
            subject_type=SubjectType.PERSON if link else SubjectType.SYSTEM,
            subject_id=link.atena_no if link else "",
            purpose=chosen,
            extra={"found": link is not None},
        )
    return link.atena_no if link else None


# --- linkage files ------------------------------------------------------------------------------

# 事務 whose outbound files carry My Number (privacy.md §2: exports carry none except the
# info-linkage and online-eligibility feeds). Their batch jobs draw the numbers at write time.
LINKAGE_PURPOSES = frozenset({Purpose.ONLINE_ELIGIBILITY, Purpose.INFO_LINKAGE_PROVIDE})


def my_numbers_for_linkage(*, atena_nos: Iterable[str], purpose: Any, job: str) -> dict[str, str]:
    """The numbers of those of `atena_nos` who have one, for a linkage file the named batch
    job is writing now (a system read: no staff actor, no screen). Refused and logged for a
    purpose outside `LINKAGE_PURPOSES`. One audit event per call names the job, the purpose
    and the counts, never a number; the caller writes them into the (encrypted) file and
    keeps them nowhere. Chunked look-ups."""
    try:
        chosen = Purpose(purpose)
    except ValueError:
        chosen = None
    if chosen not in LINKAGE_PURPOSES:
        raise _refuse(
            actor=None,
            action="linkage_read",
            atena_no="",
            purpose=str(purpose),
            reason=f"この事務の連携ファイルには個人番号を記載できません: {purpose}",
        )
    wanted = sorted(set(atena_nos))
    ring = vault_key_ring()
    vault = IdentityLink.objects.using(VAULT_ALIAS)
    found: dict[str, str] = {}
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        rows = vault.filter(atena_no__among=wanted[start : start + LOOKUP_CHUNK]).values_list(
            "atena_no", "kek_id", "wrapped_dek", "ciphertext"
        )
        for atena_no, kek_id, wrapped, ciphertext in rows:
            sealed = Sealed(kek_id, bytes(wrapped), bytes(ciphertext))
            found[atena_no] = ring.open(sealed, binding=atena_no)
    with transaction.atomic():
        audit_event_record(
            event_type=EventType.MY_NUMBER_LINKAGE_READ,
            actor=None,
            subject_type=SubjectType.SYSTEM,
            subject_id=job[:40],
            purpose=chosen,
            extra={"linkage_job": job, "asked": len(wanted), "found": len(found)},
        )
    return found


# --- erasure ------------------------------------------------------------------------------------


def my_numbers_erase(*, atena_nos: Iterable[str], rule: str) -> int:
    """暗号化消去: destroy the wrapped data key and the ciphertext of each person's row, then
    delete the row (the retention job decides who; decision 33 says when it is final).
    Returns how many were erased; one audit event names the rule and the count only."""
    vault = IdentityLink.objects.using(VAULT_ALIAS)
    wanted = sorted(set(atena_nos))
    with transaction.atomic(using=VAULT_ALIAS):
        rows = list(vault.filter(atena_no__in=wanted).select_for_update())
        for link in rows:
            link.wrapped_dek = b"\x00" * len(bytes(link.wrapped_dek))
            link.ciphertext = b"\x00" * len(bytes(link.ciphertext))
        vault.bulk_update(rows, ["wrapped_dek", "ciphertext"])
        erased = vault.filter(pk__in=[link.pk for link in rows]).delete()[0]
        if erased:
            with transaction.atomic():
                audit_event_record(
                    event_type=EventType.MY_NUMBER_ERASED,
                    actor=None,
                    subject_type=SubjectType.SYSTEM,
                    extra={"rule": rule, "erased": erased},
                )
    return erased


# --- keys ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rotation:
    new_kek_id: str
    rewrapped: int
    retired: list[str]


def vault_keys_rotate(*, retire_old: bool = False, chunk: int = 1000) -> Rotation:
    """暗号鍵の更新: add a KEK, re-wrap every row's data key with it, and (with
    `retire_old`) drop the KEKs no row uses any more from the key file.

    The key file is written first with old and new keys, so a crash half-way leaves every row
    readable; a re-run finishes the rows still on an old key."""
    path = _key_path()
    ring, new_id = vault_key_ring().with_new_kek()
    ring.save(path)
    vault = IdentityLink.objects.using(VAULT_ALIAS)
    rewrapped = 0
    while True:
        with transaction.atomic(using=VAULT_ALIAS):
            rows = list(vault.exclude(kek_id=new_id).order_by("pk")[:chunk])
            if not rows:
                break
            for link in rows:
                sealed = ring.rewrap(_sealed(link))
                link.kek_id, link.wrapped_dek = sealed.kek_id, sealed.wrapped_dek
            vault.bulk_update(rows, ["kek_id", "wrapped_dek"])
            rewrapped += len(rows)
    retired: list[str] = []
    if retire_old:
        in_use = set(vault.values_list("kek_id", flat=True).distinct())
        retired = sorted(k for k in ring.keks if k != new_id and k not in in_use)
        ring.without(set(retired)).save(path)
    with transaction.atomic():
        audit_event_record(
            event_type=EventType.VAULT_KEY_ROTATED,
            actor=None,
            subject_type=SubjectType.SYSTEM,
            extra={"new_kek_id": new_id, "rewrapped": rewrapped, "retired": retired},
        )
    return Rotation(new_id, rewrapped, retired)


def vault_status() -> dict[str, Any]:
    """Counts for the operator (no numbers): links per KEK, and the key file's KEKs."""
    ring = vault_key_ring()
    per_kek = dict(
        IdentityLink.objects.using(VAULT_ALIAS)
        .values_list("kek_id")
        .annotate(n=Count("pk"))
        .values_list("kek_id", "n")
    )
    return {
        "links": sum(per_kek.values()),
        "per_kek": per_kek,
        "keks": sorted(ring.keks),
        "active": ring.active,
    }


@dataclass(frozen=True)
class VaultCheck:
    """What `vault_check` found: counts and key ids only."""

    links: int  # rows in the vault
    checked: int  # rows tried
    opened: int  # opened by the key file, a valid number, and its blind index the stored one
    keks_in_use: list[str]
    keks_missing: list[str]  # used by rows, absent from the key file

    @property
    def ok(self) -> bool:
        return self.opened == self.checked and not self.keks_missing


def vault_check(*, sample: int | None = 1000) -> VaultCheck:
    """Does this key file open this vault (after a restore, a move of the key file, a
    rotation)? Tries the first row of every key in use and `sample` rows at random (every row
    with None): each must unwrap, decrypt, carry a valid check digit and have the blind index
    the row stores (which proves the index key too). Read-only: each number is dropped as
    soon as it is checked, nothing is written and no event recorded — nothing is shown or
    used (docs/operations.md: 復元訓練)."""
    ring = vault_key_ring()
    vault = IdentityLink.objects.using(VAULT_ALIAS)
    links = vault.count()
    in_use = sorted(vault.values_list("kek_id", flat=True).distinct())
    if sample is None:
        rows = vault.all()
    else:
        firsts = {
            vault.filter(kek_id=kek_id).order_by("pk").values_list("pk", flat=True).first()
            for kek_id in in_use
        }
        picked = set(vault.order_by("?").values_list("pk", flat=True)[:sample]) | firsts
        rows = vault.filter(pk__in=picked)
    checked = opened = 0
    columns = ("atena_no", "kek_id", "wrapped_dek", "ciphertext", "blind_index")
    for atena_no, kek_id, wrapped, ciphertext, index in rows.values_list(*columns).iterator(
        chunk_size=LOOKUP_CHUNK
    ):
        checked += 1
        try:
            number = ring.open(Sealed(kek_id, bytes(wrapped), bytes(ciphertext)), binding=atena_no)
        except VaultKeyError:
            continue
        if is_valid_my_number(number) and ring.blind_index(number) == index:
            opened += 1
        del number
    return VaultCheck(
        links=links,
        checked=checked,
        opened=opened,
        keks_in_use=in_use,
        keks_missing=[k for k in in_use if k not in ring.keks],
    )


# --- retention ----------------------------------------------------------------------------------


def vault_linked_atena_nos(*, atena_nos: Iterable[str]) -> set[str]:
    """Which of these 宛名番号 have a vault row (no numbers, no other column): for the
    retention job (kokuho.retention), which must not erase a person's records while their
    number is still held, and counts the numbers it would erase. Chunked look-ups."""
    wanted = sorted(set(atena_nos))
    vault = IdentityLink.objects.using(VAULT_ALIAS)
    found: set[str] = set()
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        chunk = wanted[start : start + LOOKUP_CHUNK]
        found.update(vault.filter(atena_no__among=chunk).values_list("atena_no", flat=True))
    return found


# --- 団体内統合宛名番号 (info linkage) -----------------------------------------------------------


def vault_integrated_numbers(*, atena_nos: Iterable[str]) -> dict[str, str]:
    """宛名番号 → 団体内統合宛名番号 of those linked (never the number itself): for the
    中間サーバー feeds (kokuho.intermediary), which key every 副本 and 照会 by the integrated
    number. Chunked look-ups, so a chunk of a city's persons costs a few queries."""
    wanted = sorted(set(atena_nos))
    vault = IdentityLink.objects.using(VAULT_ALIAS)
    found: dict[str, str] = {}
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        chunk = wanted[start : start + LOOKUP_CHUNK]
        found.update(vault.filter(atena_no__among=chunk).values_list("atena_no", "integrated_no"))
    return found
