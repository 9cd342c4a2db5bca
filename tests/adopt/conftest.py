"""Fixtures of the init tests: a copy of a test project, and init run on it
for real (``python -m django_zipserve init`` in a subprocess)."""

import shutil

import pytest

from tests.adopt.util import PROJECTS, run_init


@pytest.fixture
def copy_project(tmp_path):
    """``copy_project("catchall")``: a copy of tests/projects/catchall in tmp_path."""

    def copy(name):
        target = tmp_path / name
        shutil.copytree(PROJECTS / name, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        return target

    return copy


@pytest.fixture
def adopted(copy_project):
    """``adopted("catchall")``: a copy of the project, after a real init."""

    def adopt(name):
        project = copy_project(name)
        result = run_init(project)
        assert result.returncode == 0, result.stderr
        return project

    return adopt


@pytest.fixture(autouse=True)
def index_install(monkeypatch):
    """Plans made in the tests see django-zipserve installed from an index,
    however the running copy was installed."""
    from django_zipserve.adopt import pyproject

    monkeypatch.setattr(pyproject, "installed_from", lambda: None, raising=False)
