"""目的を超えた紐付け: no join path from business code or tables to the vault's rows."""

import ast
from pathlib import Path

from django.apps import apps

import kokuho

PACKAGE = Path(kokuho.__file__).parent
VAULT_MODULE = "kokuho.identity.models"


def _imports(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def test_no_app_but_identity_imports_the_vault_models():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "identity" or "migrations" in relative.parts:
            continue
        if VAULT_MODULE in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            offenders.append(str(relative))
    assert offenders == []


def test_the_scan_sees_an_import_when_there_is_one():
    # The check above is only as good as its parser: it must recognise both spellings.
    assert VAULT_MODULE in _imports(ast.parse("from kokuho.identity.models import IdentityLink"))
    assert VAULT_MODULE in _imports(ast.parse("from kokuho.identity import models"))


def test_no_business_model_relates_to_the_vault_or_names_a_my_number_column():
    vault = {m for m in apps.get_app_config("identity").get_models()}
    for model in apps.get_models():
        if model in vault:
            continue
        for field in model._meta.get_fields():
            assert getattr(field, "related_model", None) not in vault, (model, field.name)
            if field.get_internal_type() == "BooleanField":
                continue  # a flag such as Incident.includes_my_number holds no number
            name = getattr(field, "column", None) or field.name
            assert "my_number" not in name and "kojin_bango" not in name, (model, name)
