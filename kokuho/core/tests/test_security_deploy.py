"""Production settings (KOKUHO_PRODUCTION=1): `kokuho check --deploy` finds nothing, with
nothing silenced; the one switch turns on HSTS, secure cookies and the HTTPS redirect, and
without it the demo still works on http://127.0.0.1."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

KOKUHO = Path(sys.executable).with_name("kokuho")
SETTINGS_DUMP = """
import json, django
from django.conf import settings
django.setup()
names = [
    "DEBUG", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD",
    "SECURE_PROXY_SSL_HEADER", "SECURE_REDIRECT_EXEMPT", "SILENCED_SYSTEM_CHECKS",
]
print(json.dumps({name: getattr(settings, name) for name in names}))
"""


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A fresh installation's environment: its own var/ and databases, no debug."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("KOKUHO_") and key != "DJANGO_SETTINGS_MODULE"
    }
    env |= {
        "DJANGO_SETTINGS_MODULE": "kokuho.settings",
        "KOKUHO_VAR_DIR": str(tmp_path),
        "KOKUHO_DATABASE_URL": f"sqlite:///{tmp_path / 'kokuho.sqlite3'}",
        "KOKUHO_VAULT_DATABASE_URL": f"sqlite:///{tmp_path / 'vault.sqlite3'}",
    }
    return env | extra


def _production(tmp_path: Path) -> dict[str, str]:
    return _env(
        tmp_path,
        KOKUHO_PRODUCTION="1",
        KOKUHO_SECRET_KEY=secrets.token_urlsafe(50),
        KOKUHO_ALLOWED_HOSTS="kokuho.city.example.lg.jp",
    )


def _settings(env: dict[str, str]) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", SETTINGS_DUMP], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def test_check_deploy_finds_nothing_in_production(tmp_path):
    done = subprocess.run(
        [str(KOKUHO), "check", "--deploy", "--fail-level", "DEBUG"],
        env=_production(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues (0 silenced)." in done.stdout


def test_check_deploy_does_flag_the_demo_settings(tmp_path):
    """The control: the same command does see what production turns on."""
    done = subprocess.run(
        [str(KOKUHO), "check", "--deploy"],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in done.stderr + done.stdout, warning


def test_the_one_switch_turns_on_hsts_secure_cookies_and_the_redirect(tmp_path):
    values = _settings(_production(tmp_path))
    assert values["DEBUG"] is False
    assert values["SESSION_COOKIE_SECURE"] is values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 365 * 24 * 3600
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is values["SECURE_HSTS_PRELOAD"] is True
    # Behind the city's TLS proxy unless told otherwise; without that the redirect loops.
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["SILENCED_SYSTEM_CHECKS"] == []


def test_a_server_terminating_tls_itself_does_not_trust_the_forwarded_header(tmp_path):
    values = _settings(_production(tmp_path) | {"KOKUHO_BEHIND_TLS_PROXY": "0"})
    assert values["SECURE_PROXY_SSL_HEADER"] is None
    assert values["SECURE_SSL_REDIRECT"] is True


def test_without_the_switch_the_demo_works_over_plain_http(tmp_path):
    values = _settings(_env(tmp_path))
    assert values["SESSION_COOKIE_SECURE"] is False
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0
    assert values["SECURE_PROXY_SSL_HEADER"] is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "redirected"),
    [("/login/", True), ("/healthz", False), ("/api/v1/eligibility/changes", False)],
)
def test_production_redirects_plain_http_except_the_probe_and_the_api(
    client, settings, path, redirected
):
    """The production values as the SecurityMiddleware applies them: a screen goes to
    HTTPS; the health probe answers, and the API gives its own refusal, not a redirect a
    client would learn to follow with its token."""
    settings.SECURE_SSL_REDIRECT = True
    response = client.get(path)
    assert (response.status_code == 301) is redirected, response.status_code
    if redirected:
        assert response["Location"] == f"https://testserver{path}"
    secure = client.get(path, secure=True)
    assert secure.status_code != 301
