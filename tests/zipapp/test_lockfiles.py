"""Lock files of other tools: a uv.lock exported by the real uv, the others
refused with the command that exports them."""

import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from django_zipserve.zipapp import lockfiles
from tests.helpers import REPO

FIXTURE = REPO / "tests" / "projects" / "cookiecutter_shaped"


def options(project_dir, extra=(), requirements="uv.lock"):
    return SimpleNamespace(
        project_dir=Path(project_dir),
        requirements=Path(project_dir) / requirements,
        extra_requirements=list(extra),
    )


def exported(tmp_path, project_dir, extra=()):
    work = tmp_path / "work"
    work.mkdir()
    path = lockfiles.export_uv_lock(options(project_dir, extra), work, {"PATH": "/usr/bin:/bin"})
    return path.read_text().splitlines()


def names(lines):
    return {line.split("==")[0] for line in lines if "==" in line}


def test_the_production_dependencies_only(tmp_path):
    lines = exported(tmp_path, FIXTURE)
    assert {"django", "django-environ", "asgiref", "sqlparse"} <= names(lines)
    # the dev group (pytest, pytest-django) is not the site's; the project is installed from its source
    assert not names(lines) & {"pytest", "pytest-django", "pluggy", "bookshelf"}
    assert not [line for line in lines if line.startswith(("-e", "#", "."))]
    assert not (FIXTURE / ".cache").exists()


def test_a_local_path_dependency_is_made_absolute(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(FIXTURE, project)
    vendored = project / "vendored"
    (vendored / "vendored").mkdir(parents=True)
    (vendored / "vendored" / "__init__.py").write_text("")
    (vendored / "pyproject.toml").write_text('[project]\nname = "vendored"\nversion = "1.0"\n')
    text = (project / "uv.lock").read_text()
    # the lock as uv writes it for a path source, without running uv lock (no index needed)
    text += '\n[[package]]\nname = "vendored"\nversion = "1.0"\nsource = { directory = "vendored" }\n'
    text = text.replace(
        '    { name = "django-environ" },\n]\n\n[package.dev-dependencies]',
        '    { name = "django-environ" },\n    { name = "vendored" },\n]\n\n[package.dev-dependencies]',
        1,
    )
    (project / "uv.lock").write_text(text)
    lines = exported(tmp_path, project)
    assert str(vendored) in lines


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ([str(REPO)], "django-zipserve"),
        (["django-zipserve @ https://example.com/django-zipserve.tar.gz"], "django-zipserve"),
        (["django-zipserve>=0.1"], "django-zipserve"),
        (["gunicorn"], "gunicorn"),
    ],
)
def test_what_an_extra_requirement_installs(tmp_path, extra, expected):
    assert lockfiles.requirement_name(extra[0], tmp_path) == expected
    supplied = lockfiles.supplies_zipserve(options(tmp_path, extra))
    assert supplied == (expected == "django-zipserve")
    arguments = lockfiles.export_arguments(options(tmp_path, extra), tmp_path / "out.txt")
    assert ("django-zipserve" in arguments) == supplied


@pytest.mark.parametrize(
    ("lock", "command"),
    [
        ("poetry.lock", "poetry export --only main --without-hashes"),
        ("pdm.lock", "pdm export --prod --without-hashes"),
        ("Pipfile.lock", "pipenv requirements"),
    ],
)
def test_other_tools_lock_files_are_refused_with_the_export_command(tmp_path, lock, command):
    (tmp_path / lock).write_text("")
    problems = lockfiles.lock_problems(options(tmp_path, requirements=lock))
    assert len(problems) == 1
    assert problems[0].startswith(f"{lock} is a lock file pip cannot read: export it with '{command}")


def test_the_locked_names():
    assert {"django", "pytest", "bookshelf"} <= set(lockfiles.locked_names(FIXTURE / "uv.lock"))
    assert lockfiles.locked_names(FIXTURE / "missing.lock") == []
