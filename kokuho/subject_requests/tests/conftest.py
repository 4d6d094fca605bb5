from kokuho.identity.tests.conftest import vault_key_file  # noqa: F401 (autouse fixture)
