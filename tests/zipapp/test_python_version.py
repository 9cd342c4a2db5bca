"""An artifact built with one Python minor version and started with another:
the real failure (hundreds of MB extracted, then a traceback from a
compiled extension) becomes one line, before anything is extracted. The
build runs with a second interpreter (pyenv's), from a virtualenv that has
shiv and sees this checkout."""

import glob
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

import pytest

from tests.helpers import REPO, clean_environ, require_tool
from tests.zipapp.flat_project import write_flat_project

pytestmark = pytest.mark.e2e

RUNNING = f"{sys.version_info[0]}.{sys.version_info[1]}"


def other_interpreter():
    """An installed CPython 3.10-3.13 of another minor version (3.12 first)."""
    patterns = [os.environ.get("ZIPSERVE_OTHER_PYTHON", "")]
    patterns += [f"/root/.pyenv/versions/3.{minor}.*/bin/python3.{minor}" for minor in (12, 13, 11, 10)]
    patterns += [f"/usr/bin/python3.{minor}" for minor in (12, 13, 11, 10)]
    for pattern in filter(None, patterns):
        for path in sorted(glob.glob(os.path.expanduser(pattern))):
            version = subprocess.run(
                [path, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True,
                text=True,
                check=False,
            ).stdout.strip()
            if version and version != RUNNING:
                return path, version
    return None, None


def build_extra():
    """What ``pip install 'django-zipserve[build]'`` adds, as pyproject.toml declares it."""
    with open(REPO / "pyproject.toml", "rb") as file:
        return tomllib.load(file)["project"]["optional-dependencies"]["build"]


def run(command, **kwargs):
    result = subprocess.run([str(part) for part in command], capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def other_build(tmp_path_factory):
    """The flat project built by the other interpreter."""
    python, version = other_interpreter()
    require_tool(python, f"a Python 3.10-3.13 other than {RUNNING} (pyenv install 3.12)")
    base = tmp_path_factory.mktemp("other-python")
    venv = base / "venv"
    run([python, "-m", "venv", venv], timeout=300)
    builder = venv / "bin" / "python"
    packages = [*build_extra(), *(["tomli"] if version == "3.10" else [])]
    run([builder, "-m", "pip", "install", "--quiet", *packages], timeout=600)
    purelib = run([builder, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    (Path(purelib) / "checkout.pth").write_text(f"{REPO}\n")
    project = write_flat_project(
        base / "flatsite", tool={"data-dirs": ["templates", "static"]}, with_tests=False
    )
    command = [builder, "-m", "django_zipserve", "build", "--quiet", "--require", REPO]
    built = run([*command, "--output-dir", base / "dist"], cwd=project, timeout=900)
    pyz = Path(built.stdout.strip().splitlines()[-1])
    return SimpleNamespace(pyz=pyz, version=version, venv=venv, builder=builder, base=base)


def test_the_shebang_names_the_building_minor_version(other_build):
    with other_build.pyz.open("rb") as stream:
        assert stream.readline() == f"#!/usr/bin/env python{other_build.version}\n".encode()


@pytest.mark.parametrize("args", [["migrate"], ["version"], ["zipapp", "info"], ["test"]])
def test_another_python_fails_in_one_line_and_extracts_nothing(other_build, tmp_path, args):
    root = tmp_path / "root"
    root.mkdir()
    env = clean_environ(SHIV_ROOT=root, HOME=tmp_path, DEBUG="true")
    result = subprocess.run(
        [sys.executable, other_build.pyz, *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert result.stderr == (
        f"flatsite-0.3.pyz: built for Python {other_build.version}, but this is Python {RUNNING} "
        f"({sys.executable}); run it with python{other_build.version} {other_build.pyz}\n"
    )
    assert list(root.iterdir()) == [], "extracted before refusing"


def test_its_own_python_runs_it(other_build, tmp_path):
    env = clean_environ(
        SHIV_ROOT=tmp_path / "root", HOME=tmp_path, DEBUG="true", STATE_DIR=tmp_path / "state"
    )
    code = "import pydantic_core, sys; print('compiled extensions load on', sys.version_info[:2])"
    result = run([other_build.builder, other_build.pyz, "shell", "-c", code], env=env, timeout=300)
    major, minor = other_build.version.split(".")
    assert result.stdout.strip().endswith(f"compiled extensions load on ({major}, {minor})")


def test_systemd_render_runs_it_with_the_builds_python(other_build, tmp_path):
    """From inside the artifact, ``systemd render`` looks for python3.X of
    the build's version on PATH: one in /tmp or a home directory (this
    virtualenv, a pyenv build under /root) is one the units' sandbox hides,
    so it refuses in one line; given with --python, it is taken with a
    warning; an interpreter of another version is refused."""
    env = clean_environ(
        SHIV_ROOT=tmp_path / "root",
        HOME=tmp_path,
        PATH=os.pathsep.join([str(other_build.venv / "bin"), os.environ.get("PATH", "")]),
    )
    command = [other_build.builder, other_build.pyz, "systemd", "render", "--name", "flatsite"]
    expected = other_build.venv / "bin" / f"python{other_build.version}"
    hidden = subprocess.run(
        [str(part) for part in (*command, "--output", tmp_path / "hidden")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert hidden.returncode == 2
    refusal = f"CommandError: the only python{other_build.version} on PATH, {expected}, lies under "
    assert hidden.stderr.startswith(refusal)
    given = run([*command, "--output", tmp_path / "units", "--python", expected], env=env, timeout=300)
    assert "warning: --python" in given.stderr
    service = (tmp_path / "units" / "flatsite@.service").read_text()
    assert f"\nExecStart={expected} -I /srv/flatsite/current/flatsite.pyz " in service
    refused = subprocess.run(
        [str(part) for part in (*command, "--output", tmp_path / "refused", "--python", sys.executable)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert refused.returncode == 2
    assert refused.stderr == (
        f"CommandError: --python {sys.executable} is Python {RUNNING}, but the artifact is built for "
        f"Python {other_build.version}\n"
    )
