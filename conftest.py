"""Shared pytest fixtures. Builders live in kokuho.testing."""

import pytest
from django.conf import settings as django_settings

# What production hashes passwords with (Argon2 first), before any test changes it.
PRODUCTION_PASSWORD_HASHERS = list(django_settings.PASSWORD_HASHERS)


@pytest.fixture(autouse=True)
def _fast_password_hashing(request, settings):
    """Argon2 is meant to be slow; a suite that creates a thousand staff accounts would spend
    minutes hashing. Tests hash with MD5 unless marked `real_password_hashing` (the test that
    production stores Argon2 hashes is)."""
    if request.node.get_closest_marker("real_password_hashing") is None:
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def var_dir(tmp_path, settings):
    settings.VAR_DIR = tmp_path
    return tmp_path


def _postgresql_pass() -> bool:
    return django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `database_independent` (they open no database of the suite's: a pure
    engine, or a runner that always works on its own in-memory database) run in the SQLite
    pass only — the PostgreSQL pass would repeat them exactly, at minutes of the suite.

    A test on committed data (`transaction=True`) must also ask for `serialized_rollback`.

    Without it, the flush after the test re-creates content types and permissions
    (post_migrate), and the next serialized test on the same xdist worker fails to restore
    its snapshot on them (duplicate key) — and every later test on that worker that needs the
    vault fails after it. Which tests share a worker changes from run to run, so the rule is
    checked here, on every test, instead of surfacing as a rare red CI."""
    repeated = pytest.mark.skip(reason="データベースを使わないテスト: SQLite の回で実行済み")
    for item in items:
        if _postgresql_pass() and item.get_closest_marker("database_independent"):
            if item.get_closest_marker("django_db"):
                raise pytest.UsageError(f"{item.nodeid}: database_independent なのに django_db")
            item.add_marker(repeated)
        marker = item.get_closest_marker("django_db")
        if marker is None or not marker.kwargs.get("transaction"):
            continue
        if not marker.kwargs.get("serialized_rollback"):
            raise pytest.UsageError(
                f"{item.nodeid}: django_db(transaction=True) には serialized_rollback=True も"
                "指定してください（同じワーカーの後続テストの復元が重複キーで失敗します）"
            )
