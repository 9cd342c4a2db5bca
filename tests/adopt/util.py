"""What the init tests share."""

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import REPO, clean_environ

PROJECTS = REPO / "tests" / "projects"
FIXTURES = ("settings_package", "catchall", "many_apps", "src_layout", "cookiecutter_shaped")


def run_init(project, *args, cwd=None):
    """``python -m django_zipserve init`` run in ``project`` (or ``cwd``), as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "django_zipserve", "init", *map(str, args)],
        cwd=cwd or project,
        env=clean_environ(PYTHONPATH=REPO, COLUMNS="200"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def tree(directory):
    """Every file under ``directory`` with its bytes and mode: equal trees, equal results."""
    directory = Path(directory)
    return {
        path.relative_to(directory).as_posix(): (path.read_bytes(), path.stat().st_mode)
        for path in sorted(directory.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def write(path, text):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def make_project(root, files):
    """A project of our own in ``root``: {relative path: text}."""
    for relative, text in files.items():
        write(Path(root) / relative, text)
    return Path(root)


def manage_py(settings):
    return (
        "import os, sys\n\n"
        'if __name__ == "__main__":\n'
        f'    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "{settings}")\n'
        "    from django.core.management import execute_from_command_line\n\n"
        "    execute_from_command_line(sys.argv)\n"
    )


def python_path(project):
    """PYTHONPATH for an adopted project: its package root."""
    return os.pathsep.join(str(path) for path in (project / "src", project) if path.is_dir())


def checkout(root):
    """A copy of a test project as a git checkout: its ``gitignore`` (kept
    without the dot, so that this repository keeps the files it ignores) in
    place as ``.gitignore``, and ``git init``, so that git ignores them."""
    root = Path(root)
    if (root / "gitignore").is_file():
        (root / "gitignore").rename(root / ".gitignore")
    subprocess.run(["git", "init", "--quiet", str(root)], check=True, capture_output=True)
    return root
