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
