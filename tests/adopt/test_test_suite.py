"""What a pytest suite needs in the test sidecar, from the project's development dependencies."""

import pytest

from django_zipserve.adopt.test_suite import pytest_requirements
from tests.adopt.util import write

PYTEST = {"tool": {"pytest": {"ini_options": {"addopts": "--ds=config.settings.test"}}}}


def test_not_a_pytest_project(tmp_path):
    assert pytest_requirements(tmp_path, {"dependency-groups": {"dev": ["pytest"]}}) is None


def test_the_test_tools_of_the_dev_group(tmp_path):
    pyproject = {
        **PYTEST,
        "dependency-groups": {"dev": ["ruff", "pytest>=8", "pytest-django>=4.9", "factory-boy", "mypy"]},
    }
    assert pytest_requirements(tmp_path, pyproject) == (
        ["pytest>=8", "pytest-django>=4.9", "factory-boy"],
        "the dev dependency group",
    )


def test_a_requirements_file_and_the_minimum(tmp_path):
    write(tmp_path / "pytest.ini", "[pytest]\nDJANGO_SETTINGS_MODULE = site.test\n")
    write(tmp_path / "requirements/local.txt", "-r production.txt\nipdb  # debugger\npytest-sugar==1.0\n")
    assert pytest_requirements(tmp_path, {}) == (
        ["pytest", "pytest-django", "pytest-sugar==1.0"],
        "requirements/local.txt",
    )


@pytest.mark.parametrize(
    "pyproject", [PYTEST, {**PYTEST, "project": {"optional-dependencies": {"dev": ["ipdb"]}}}]
)
def test_nothing_listed_gives_the_minimum(tmp_path, pyproject):
    assert pytest_requirements(tmp_path, pyproject) == (["pytest", "pytest-django"], None)
