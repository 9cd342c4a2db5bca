"""What of the project's source the build copies (``zipapp.source``): never
what git ignores unless the project names it, and a report of what the
install left out. Real git repositories, real copies."""

import argparse
import subprocess

import pytest

from django_zipserve.zipapp import source

GITIGNORE = """\
# the machine's own configuration, as NetBox keeps it
mysite/configuration.py
.env
/frontend/dist/
/media/
*.log
"""


def git(project, *args):
    subprocess.run(["git", "-C", str(project), *args], check=True, capture_output=True, timeout=60)


def write(root, files):
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


@pytest.fixture
def project(tmp_path):
    """A git work tree whose .gitignore keeps secrets, uploads and logs out."""
    root = tmp_path / "project"
    write(
        root,
        {
            ".gitignore": GITIGNORE,
            "mysite/__init__.py": "",
            "mysite/settings.py": "from mysite.configuration import *\n",
            "mysite/configuration.py": 'SECRET_KEY = "hk2-9fj3kd0aPq81Lm"\n',
            "mysite/configuration_example.py": 'SECRET_KEY = ""\n',
            ".env": "DB_PASSWORD=s3cr3t-passw0rd\n",
            "frontend/dist/app.js": "built",
            "frontend/src/app.ts": "source",
            "media/upload.png": "upload",
            "debug.log": "log",
            "mysite/static/site.css": "css",
        },
    )
    git(root, "init", "-q")
    return root


def options(project, data_dirs=(), include_ignored=()):
    return argparse.Namespace(
        project_dir=project, data_dirs=list(data_dirs), include_ignored=list(include_ignored)
    )


def copied_files(copy):
    return sorted(path.relative_to(copy).as_posix() for path in copy.rglob("*") if path.is_file())


def test_git_ignored_files_are_not_copied(project, tmp_path):
    copy = source.copy_source(options(project), tmp_path / "work")
    assert copied_files(copy) == [
        ".gitignore",
        "frontend/src/app.ts",
        "mysite/__init__.py",
        "mysite/configuration_example.py",
        "mysite/settings.py",
        "mysite/static/site.css",
    ]


def test_what_is_left_out_is_named_and_the_way_to_keep_it_said(project):
    left = source.left_out_ignored(options(project))
    # frontend/dist is left out of every copy (IGNORED_SOURCE): not news.
    assert left == [".env", "debug.log", "media", "mysite/configuration.py"]
    assert source.ignored_report(left) == (
        "left out 4 git-ignored path(s): .env, debug.log, media, mysite/configuration.py "
        "(name one in include-ignored in [tool.django-zipserve] to package it)"
    )


def test_a_path_named_on_purpose_is_copied(project, tmp_path):
    """A data directory that a front-end build wrote, and a file declared
    in include-ignored, are packaged although git ignores them."""
    chosen = options(project, data_dirs=["frontend/dist"], include_ignored=["mysite/configuration.py"])
    copy = source.copy_source(chosen, tmp_path / "work")
    assert "frontend/dist/app.js" in copied_files(copy)
    assert "mysite/configuration.py" in copied_files(copy)
    assert ".env" not in copied_files(copy)
    assert source.left_out_ignored(chosen) == [".env", "debug.log", "media"]


def test_a_folder_git_ignores_whole_is_left_out_around_a_declared_path(project, tmp_path):
    write(project, {"media/public/logo.png": "logo"})
    copy = source.copy_source(options(project, data_dirs=["media/public"]), tmp_path / "work")
    assert "media/public/logo.png" in copied_files(copy)
    assert "media/upload.png" not in copied_files(copy)


def test_without_git_nothing_more_is_left_out(tmp_path):
    root = tmp_path / "plain"
    write(root, {".gitignore": "secret.py\n", "secret.py": "x", "mysite/__init__.py": ""})
    assert source.git_ignored(root) == set()
    copy = source.copy_source(options(root), tmp_path / "work")
    assert copied_files(copy) == [".gitignore", "mysite/__init__.py", "secret.py"]


def test_package_files_the_install_left_out_are_named(tmp_path):
    """Migration data in a subfolder and a front-end build's output that the
    project's packaging does not declare (NetBox's migration JSON and
    project-static/dist) are named instead of missing at run time."""
    copy, site = tmp_path / "src", tmp_path / "site"
    write(
        copy,
        {
            "mysite/__init__.py": "",
            "mysite/migrations/0001_initial.py": "",
            "mysite/migrations/data/cpu.json": "{}",
            "mysite/static/dist/app.js": "built",
            "mysite/templates/home.html": "<h1>",
            "tools/helper.txt": "not a package",
        },
    )
    write(
        site,
        {
            "mysite/__init__.py": "",
            "mysite/migrations/0001_initial.py": "",
            "mysite/templates/home.html": "<h1>",
            "django/__init__.py": "",
        },
    )
    left = source.left_out_files(copy, site)
    assert left == ["mysite/migrations/data/cpu.json", "mysite/static/dist/app.js"]
    assert source.left_out_report(left) == (
        "the install left out 2 non-Python file(s) of the project's packages, in mysite/migrations/data, "
        "mysite/static/dist: declare them as package data in pyproject.toml if the site reads them"
    )
    assert source.left_out_report([]) is None


def test_a_report_of_many_folders_names_their_parents_rather_than_leave_some_out():
    left = [f"babybuddy/static/{name}/file.css" for name in "abcdefghij"] + ["core/tests/import/bmi.csv"]
    assert source.left_out_report(left) == (
        "the install left out 11 non-Python file(s) of the project's packages, in babybuddy/static, "
        "core/tests: declare them as package data in pyproject.toml if the site reads them"
    )
