import itertools

import pytest

from kokuho.core.mynumber import my_number_check_digit

_serial = itertools.count(1)


def synthetic_my_number() -> str:
    """A valid-looking number made up at run time (never stored in the repository)."""
    first = f"98{next(_serial):09d}"
    return first + str(my_number_check_digit(first))


@pytest.fixture(autouse=True)
def vault_key_file(tmp_path, settings):
    settings.KOKUHO_VAULT_KEY_FILE = tmp_path / "vault-keys.json"
    return settings.KOKUHO_VAULT_KEY_FILE


class Verified:
    """What django-otp's middleware does to the user of an MFA-verified session."""

    def __init__(self, user):
        self.user = user

    def __enter__(self):
        self.user.is_verified = lambda: True
        return self.user

    def __exit__(self, *exc):
        del self.user.is_verified
