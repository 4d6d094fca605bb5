"""Demo staff accounts: one per role, passwords generated on the machine into var/.

Demo accounts are marked (`StaffProfile.is_demo`), trained, and — for the roles that need a
second factor — given a confirmed TOTP device whose key is written beside the password in
var/demo-logins.txt (base32 and as an otpauth URI for an authenticator app);
`kokuho demo-totp USERNAME` prints the current code for a demo account and for no other.
"""

import secrets
from base64 import b32encode
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User

from kokuho.accounts.models import REQUIRED_COURSE
from kokuho.accounts.permissions import Role
from kokuho.accounts.selectors import mfa_device_confirmed
from kokuho.accounts.services import (
    mfa_device_create_confirmed,
    mfa_required,
    staff_create,
    training_record,
    training_valid,
)

DEMO_STAFF: tuple[tuple[str, str, Role], ...] = (
    ("madoguchi", "窓口 一郎", Role.COUNTER),
    ("shikaku", "資格 花子", Role.ELIGIBILITY),
    ("kyufu", "給付 次郎", Role.BENEFITS),
    ("kanri", "管理 三郎", Role.ADMINISTRATOR),
    ("kansa", "監査 良子", Role.AUDITOR),
    ("shozokucho", "所属 課長", Role.SUPERVISOR),
    ("itaku", "委託 四郎", Role.CONTRACTOR),
)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: Role
    totp_secret: str = ""  # base32, for roles that need a second factor
    otpauth_uri: str = ""


def logins_file() -> Path:
    return Path(settings.VAR_DIR) / "demo-logins.txt"


def _known_passwords(path: Path) -> dict[str, str]:
    known: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            username, password, *_totp = [*line.split("\t"), ""]
            if username:
                known[username] = password
    return known


def _demo_account_complete(*, user: User, today: date) -> tuple[str, str]:
    """Mark, train and (for MFA roles) equip a demo account; its TOTP key (base32) and
    otpauth URI, or empty strings for a role without a second factor."""
    profile = user.staff_profile
    if not profile.is_demo:
        profile.is_demo = True
        profile.save(update_fields=["is_demo"])
    if not training_valid(user, today):
        training_record(user=user, course=REQUIRED_COURSE, completed_on=today, recorded_by=None)
    if not mfa_required(user):
        return "", ""
    device = mfa_device_confirmed(user=user) or mfa_device_create_confirmed(user=user)
    return b32encode(device.bin_key).decode(), device.config_url


def demo_staff_ensure(*, today: date) -> list[DemoLogin]:
    """Create missing demo accounts; return every demo login (from var/demo-logins.txt)."""
    path = logins_file()
    known = _known_passwords(path)
    logins = []
    for username, full_name, role in DEMO_STAFF:
        if not User.objects.filter(username=username).exists():
            known[username] = secrets.token_urlsafe(12)
            valid_until = today + timedelta(days=365) if role is Role.CONTRACTOR else None
            staff_create(
                username=username,
                full_name=full_name,
                password=known[username],
                roles=[role],
                valid_from=today,
                valid_until=valid_until,
                is_contractor=role is Role.CONTRACTOR,
                department="デモ",
                is_demo=True,
            )
        user = User.objects.select_related("staff_profile").get(username=username)
        secret, uri = _demo_account_complete(user=user, today=today)
        password = known.get(username, "(var/demo-logins.txt にありません)")
        logins.append(DemoLogin(username, password, role, secret, uri))
    path.parent.mkdir(parents=True, exist_ok=True)
    # username, password, then for MFA roles the TOTP key (base32) and its otpauth URI.
    lines = []
    for login in logins:
        fields = [login.username, known.get(login.username, "")]
        if login.totp_secret:
            fields += [login.totp_secret, login.otpauth_uri]
        lines.append("\t".join(fields) + "\n")
    path.write_text("".join(lines))
    path.chmod(0o600)
    return logins
