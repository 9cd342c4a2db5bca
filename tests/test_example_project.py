"""The example project's own test suite, run from its source tree."""

import subprocess
import sys

import django
import pytest

from tests.helpers import REPO, run_project

#: The example's background tasks (django-tasks-db) need Django 5.2 or newer,
#: as its pyproject.toml says; django-zipserve itself is tested on 4.2 too.
needs_the_examples_django = pytest.mark.skipif(
    django.VERSION < (5, 2), reason="the example project needs Django 5.2 or newer"
)


@needs_the_examples_django
def test_example_project_tests_pass(project_env):
    env = dict(project_env, PYTHONPATH=str(REPO / "example_project"))
    result = subprocess.run(
        [sys.executable, "manage.py", "test", "--noinput", "-v", "2"],
        cwd=REPO / "example_project",
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Ran 4 tests" in result.stderr
    assert "\nOK\n" in result.stderr


@needs_the_examples_django
def test_example_project_has_no_missing_migrations(project_env):
    env = dict(project_env, PYTHONPATH=str(REPO / "example_project"))
    result = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=REPO / "example_project",
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_project_without_unittest_tests_fails_instead_of_saying_ok(project_env):
    # The test project has pytest tests only: Django's runner finds none.
    result = run_project(project_env, "test", "--noinput", timeout=120)
    assert result.returncode == 1
    assert f"no tests found in {REPO / 'tests'}: nothing was tested" in result.stderr
    assert "Traceback" not in result.stderr
