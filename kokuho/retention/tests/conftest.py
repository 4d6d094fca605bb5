import pytest


@pytest.fixture(autouse=True)
def private_paths(tmp_path, settings):
    """The vault's key file and the upload directory of each test, under its tmp_path."""
    settings.KOKUHO_VAULT_KEY_FILE = tmp_path / "vault-keys.json"
    settings.KOKUHO_UPLOAD_DIR = tmp_path / "uploads"
    settings.KOKUHO_UPLOAD_DIR.mkdir()
    return tmp_path
