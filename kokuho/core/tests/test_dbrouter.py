from types import SimpleNamespace

from django.conf import settings

from kokuho.dbrouter import VaultRouter


def _model(app_label):
    return SimpleNamespace(_meta=SimpleNamespace(app_label=app_label))


def test_identity_models_live_in_the_vault_only():
    router = VaultRouter()
    assert router.db_for_read(_model("identity")) == "vault"
    assert router.db_for_write(_model("people")) == "default"
    assert router.allow_migrate("vault", "identity")
    assert not router.allow_migrate("vault", "people")
    assert not router.allow_migrate("default", "identity")


def test_no_relation_crosses_the_vault_boundary():
    router = VaultRouter()
    assert not router.allow_relation(_model("identity"), _model("people"))
    assert router.allow_relation(_model("people"), _model("audit"))


def test_the_vault_is_a_separate_database():
    default, vault = settings.DATABASES["default"], settings.DATABASES["vault"]
    assert (default["NAME"], default.get("HOST")) != (vault["NAME"], vault.get("HOST"))
