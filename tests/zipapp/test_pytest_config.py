"""A project's pytest configuration, read where pytest reads it."""

import pytest

from django_zipserve.zipapp.pytest_config import pytest_configuration

DS = "--ds=config.settings.test --reuse-db"


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("pytest.ini", f"[pytest]\naddopts = {DS}\npython_files = tests.py test_*.py\n"),
        ("tox.ini", f"[tox]\nenv_list = py\n\n[pytest]\naddopts = {DS}\npython_files = tests.py test_*.py\n"),
        (
            "setup.cfg",
            f"[metadata]\nname = x\n\n[tool:pytest]\naddopts = {DS}\npython_files = tests.py test_*.py\n",
        ),
    ],
)
def test_ini_files(tmp_path, name, text):
    (tmp_path / name).write_text(text)
    found = pytest_configuration(tmp_path, {})
    assert found == {"file": name, "options": {"addopts": DS, "python_files": "tests.py test_*.py"}}


@pytest.mark.parametrize(
    "tool",
    [
        {"pytest": {"ini_options": {"addopts": DS, "python_files": ["tests.py", "test_*.py"]}}},
        # pytest 9's native table: lists, arguments included
        {
            "pytest": {
                "addopts": ["--ds=config.settings.test", "--reuse-db"],
                "python_files": ["tests.py", "test_*.py"],
            }
        },
    ],
)
def test_pyproject_tables(tmp_path, tool):
    found = pytest_configuration(tmp_path, {"tool": tool})
    assert found == {
        "file": "pyproject.toml",
        "options": {"addopts": DS, "python_files": "tests.py\ntest_*.py"},
    }


def test_pytest_ini_comes_first_and_source_tree_paths_are_dropped(tmp_path):
    (tmp_path / "pytest.ini").write_text("[pytest]\ntestpaths = tests\nDJANGO_SETTINGS_MODULE = site.test\n")
    found = pytest_configuration(tmp_path, {"tool": {"pytest": {"ini_options": {"addopts": "-q"}}}})
    assert found == {"file": "pytest.ini", "options": {"DJANGO_SETTINGS_MODULE": "site.test"}}


def test_no_configuration(tmp_path):
    (tmp_path / "tox.ini").write_text("[tox]\nenv_list = py\n")
    (tmp_path / "setup.cfg").write_text("[metadata]\nname = x\n")
    assert pytest_configuration(tmp_path, {"tool": {"ruff": {}}}) is None
