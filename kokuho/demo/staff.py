"""Demo staff accounts: one per role, passwords generated on the machine into var/."""

import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User

from kokuho.accounts.permissions import Role
from kokuho.accounts.services import staff_create

DEMO_STAFF: tuple[tuple[str, str, Role], ...] = (
    ("madoguchi", "窓口 一郎", Role.COUNTER),
    ("shikaku", "資格 花子", Role.ELIGIBILITY),
    ("kyufu", "給付 次郎", Role.BENEFITS),
    ("kanri", "管理 三郎", Role.ADMINISTRATOR),
    ("kansa", "監査 良子", Role.AUDITOR),
    ("itaku", "委託 四郎", Role.CONTRACTOR),
)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: Role


def logins_file() -> Path:
    return Path(settings.VAR_DIR) / "demo-logins.txt"


def demo_staff_ensure(*, today: date) -> list[DemoLogin]:
    """Create missing demo accounts; return every demo login (from var/demo-logins.txt)."""
    path = logins_file()
    known: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            username, _, password = line.partition("\t")
            known[username] = password
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
            )
        logins.append(
            DemoLogin(username, known.get(username, "(var/demo-logins.txt にありません)"), role)
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{u}\t{p}\n" for u, p in known.items()))
    path.chmod(0o600)
    return logins
