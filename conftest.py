"""Shared pytest fixtures. Builders live in kokuho.testing."""

import pytest


@pytest.fixture
def var_dir(tmp_path, settings):
    settings.VAR_DIR = tmp_path
    return tmp_path
