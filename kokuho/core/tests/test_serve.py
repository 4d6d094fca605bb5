"""`kokuho serve`: the real gunicorn with the production settings serves the login page and a
static file, and its log is JSON lines without a My Number or a query string."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.db import connections

from kokuho.core.mynumber import is_valid_my_number, my_number_check_digit

FIRST = "98123456780"
MY_NUMBER = FIRST + str(my_number_check_digit(FIRST))
STATIC = Path(__file__).resolve().parents[2] / "web" / "static" / "web" / "kokuho.css"

pytestmark = pytest.mark.django_db(databases=["default", "vault"])


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _database_url(alias: str, tmp_path: Path) -> str:
    """The test database on PostgreSQL (another process can open it); a file on SQLite, whose
    test database lives in memory — the pages fetched here read no table."""
    settings_dict = connections[alias].settings_dict
    if connections[alias].vendor != "postgresql":
        return f"sqlite:///{tmp_path / f'{alias}.sqlite3'}"
    user = settings_dict["USER"] or "postgres"
    host = settings_dict["HOST"] or "127.0.0.1"
    port = settings_dict["PORT"] or 5432
    return f"postgresql://{user}@{host}:{port}/{settings_dict['NAME']}"


def _get(base: str, path: str) -> tuple[int, dict, bytes]:
    # As the city's TLS-terminating proxy forwards it (production redirects plain HTTP).
    request = urllib.request.Request(  # noqa: S310 — http://127.0.0.1 only
        base + path, headers={"X-Forwarded-Proto": "https"}
    )
    try:
        with _opener.open(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def _raw(port: int, request_line: bytes) -> None:
    """A request no browser sends (unencoded UTF-8 in the query): gunicorn logs its line."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request_line + b"\r\nHost: 127.0.0.1\r\n\r\n")
        conn.recv(1024)


@pytest.fixture
def server(tmp_path):
    port = _free_port()
    log = tmp_path / "server.log"
    env = {
        **os.environ,
        "KOKUHO_PRODUCTION": "1",
        "KOKUHO_DEBUG": "0",
        "KOKUHO_LOG_FORMAT": "json",
        "KOKUHO_SECRET_KEY": "test-only-" + "x" * 50,
        "KOKUHO_ALLOWED_HOSTS": "127.0.0.1",
        "KOKUHO_VAR_DIR": str(tmp_path),
        "KOKUHO_VAULT_KEY_FILE": str(tmp_path / "vault-keys.json"),
        "KOKUHO_DATABASE_URL": _database_url("default", tmp_path),
        "KOKUHO_VAULT_DATABASE_URL": _database_url("vault", tmp_path),
    }
    kokuho = Path(sys.executable).with_name("kokuho")
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(kokuho), "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if _get(base, "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "gunicorn did not answer: " + log.read_text()
            time.sleep(0.5)
        yield base, port, process, log
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_gunicorn_serves_the_login_page_and_static_files_and_logs_json_lines(server):
    base, port, process, log = server

    status, _headers, body = _get(base, "/login/")
    assert status == 200 and "ログイン" in body.decode()
    status, headers, body = _get(base, "/static/web/kokuho.css")
    assert status == 200 and body == STATIC.read_bytes()
    assert headers["Content-Type"].startswith("text/css")
    # A person search as the browser sends it (the query holds the person's data), a My
    # Number in a path, and a malformed request line: none of it may reach the log.
    query = urllib.parse.urlencode({"kana": "ヤマダ タロウ", "birth": "S35.5.10"})
    assert _get(base, f"/?{query}")[0] == 302  # to the login page
    assert _get(base, f"/people/{MY_NUMBER}/")[0] == 302
    _raw(port, "GET /?kana=ヤマダ&birth=S35.5.10 HTTP/1.1".encode())

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=40) == 0
    text = log.read_text()
    entries = [json.loads(line) for line in text.splitlines()]  # every line is JSON

    access = {(e["method"], e["path"], e["status"]) for e in entries if "path" in e}
    assert {("GET", "/login/", 200), ("GET", "/static/web/kokuho.css", 200)} <= access
    assert ("GET", "/", 302) in access
    assert any("Invalid HTTP request line" in e["message"] for e in entries)
    assert "ヤマダ" not in text and "kana" not in text and "birth" not in text
    assert "S35" not in text and "%E3%83" not in text.upper()
    assert not [d for d in re.findall(r"\d{12}", text) if is_valid_my_number(d)]
    assert f"/people/**** **** {MY_NUMBER[-4:]}/" in {e.get("path") for e in entries}
    assert any(e["message"] == "Shutting down: Master" for e in entries)
