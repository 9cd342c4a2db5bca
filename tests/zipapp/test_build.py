"""``python -m django_zipserve build``: settings, normalisation, a real build."""

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from django_zipserve.zipapp import build

from tests.helpers import REPO


def args(**overrides):
    namespace = argparse.Namespace(project_dir=".", output_dir=None, name=None, package=None, entry_point=None,
                                   settings=None, python=None, requirements=None, require=None, quiet=True)
    for key, value in overrides.items():
        setattr(namespace, key, value)
    return namespace


def write_project(path, tool=""):
    path.mkdir(parents=True, exist_ok=True)
    (path / "pyproject.toml").write_text(
        '[project]\nname = "My-Site"\nversion = "2.1"\n' + (f"\n[tool.django-zipserve]\n{tool}" if tool else "")
    )
    return path


class TestOptions:
    def test_defaults_come_from_the_project_name(self, tmp_path):
        options = build.resolve_options(args(project_dir=write_project(tmp_path / "p")))
        assert options.package == "my_site"
        assert options.entry_point == "my_site.__main__:main"
        assert options.settings == "my_site.settings"
        assert options.python == "/usr/bin/env python3"
        assert options.version == "2.1"
        assert options.requirements is None

    def test_pyproject_settings_then_flags(self, tmp_path):
        project = write_project(tmp_path / "p", 'package = "site"\npython = "/usr/bin/python3.11"\n'
                                               'extra-requirements = ["psycopg"]\n')
        (project / "requirements.lock").write_text("Django==5.2\n")
        options = build.resolve_options(args(project_dir=project, python="/opt/py/bin/python3", require=["x"]))
        assert options.package == "site"
        assert options.python == "/opt/py/bin/python3"
        assert options.extra == ["psycopg", "x"]
        assert options.requirements == project / "requirements.lock"

    def test_missing_pyproject_names_the_step(self, tmp_path):
        result = subprocess.run([sys.executable, "-m", "django_zipserve", "build", "--project-dir", str(tmp_path)],
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 1
        assert "build failed at step read settings: no pyproject.toml" in result.stderr
        assert "Traceback" not in result.stderr


def test_normalise_removes_build_paths_and_fixes_modes(tmp_path):
    site = tmp_path / "site"
    (site / "bin").mkdir(parents=True)
    (site / "bin" / "tool").write_text("#!/tmp/build/venv/bin/python\n")
    (site / "pkg" / "__pycache__").mkdir(parents=True)
    (site / "pkg" / "__pycache__" / "m.cpython-311.pyc").write_bytes(b"x")
    (site / "pkg" / "m.py").write_text("x = 1\n")
    os.chmod(site / "pkg" / "m.py", 0o600)
    dist_info = site / "pkg-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "direct_url.json").write_text('{"url": "file:///tmp/build/src"}')
    (dist_info / "RECORD").write_text("pkg/m.py,,\n../../bin/tool,,\npkg-1.0.dist-info/direct_url.json,,\n")
    build.normalise(site, tmp_path, 315532800)
    assert not (site / "bin").exists()
    assert not (site / "pkg" / "__pycache__").exists()
    assert not (dist_info / "direct_url.json").exists()
    assert (dist_info / "RECORD").read_text() == "pkg/m.py,,\n"
    assert oct((site / "pkg" / "m.py").stat().st_mode & 0o777) == "0o644"
    assert (site / "pkg" / "m.py").stat().st_mtime == 315532800


def test_prune_translations_keeps_offered_languages(tmp_path):
    site = tmp_path / "site"
    for path in ("django/conf/locale/en/formats.py", "django/conf/locale/en_GB/formats.py",
                 "django/conf/locale/fr/formats.py", "django/contrib/admin/locale/de/LC_MESSAGES/django.mo",
                 "django/contrib/admin/locale/pt_BR/LC_MESSAGES/django.mo", "app/locale/pt/LC_MESSAGES/django.mo"):
        (site / path).parent.mkdir(parents=True, exist_ok=True)
        (site / path).write_text("")
    assert build.prune_translations(site, {"en", "pt"}) == 2
    assert (site / "django/conf/locale/en_GB").is_dir()
    assert (site / "django/contrib/admin/locale/pt_BR").is_dir()
    assert not (site / "django/conf/locale/fr").exists()
    assert not (site / "django/contrib/admin/locale/de").exists()
    assert build.prune_translations(site, None) == 0, "all languages offered: nothing removed"


@pytest.mark.e2e
def test_build_the_example_project(tmp_path):
    before = subprocess.run(["git", "status", "--porcelain", "--ignored", "example_project"], cwd=REPO,
                            capture_output=True, text=True).stdout
    result = subprocess.run(
        [sys.executable, "-m", "django_zipserve", "build", "--require", str(REPO), "--output-dir", str(tmp_path)],
        cwd=REPO / "example_project", capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stderr
    for step in ("install the project", "collect static files", "build the zipapp with shiv"):
        assert step in result.stderr
    pyz = tmp_path / "example_project-1.0.0.pyz"
    digest = hashlib.sha256(pyz.read_bytes()).hexdigest()
    assert (tmp_path / "example_project-1.0.0.pyz.sha256").read_text() == f"{digest}  {pyz.name}\n"
    record = json.loads((tmp_path / "example_project-1.0.0.json").read_text())
    assert record["version"] == "1.0.0"
    assert record["sha256"] == digest
    assert record["python"] == f"{sys.version_info.major}.{sys.version_info.minor}"
    assert {"Django", "pyuwsgi", "gunicorn", "whitenoise", "goodconf", "django-zipserve"} <= set(record["packages"])
    with zipfile.ZipFile(pyz) as archive:
        names = archive.namelist()
    assert "site-packages/example_project/static_collected/staticfiles.json" in names
    assert any(name.startswith("site-packages/example_project/static_collected/example_project/site.")
               and name.endswith(".css.gz") for name in names)
    assert "site-packages/example_project/templates/home.html" in names
    # pip's console scripts (with the build machine's paths) are gone; only
    # our start-up preamble is in bin/.
    assert [name for name in names if "/bin/" in name] == ["site-packages/bin/zipserve_preamble.py"]
    assert not any(name.endswith("direct_url.json") for name in names)
    assert "_zipserve_boot.py" in names
    # Bytecode compiled at build time, and only the offered languages.
    assert "site-packages/django/__pycache__/__init__.cpython-%d%d.pyc" % sys.version_info[:2] in names
    assert any(name.startswith("site-packages/django/conf/locale/en/") for name in names)
    assert not any(name.startswith("site-packages/django/conf/locale/fr/") for name in names)
    assert not any(name.endswith(".po") for name in names)
    after = subprocess.run(["git", "status", "--porcelain", "--ignored", "example_project"], cwd=REPO,
                           capture_output=True, text=True).stdout
    assert after == before, "the build wrote into the source tree"


@pytest.mark.e2e
def test_two_builds_in_different_folders_are_identical(tmp_path):
    """Same source, same inputs: the same bytes, wherever it was built."""
    digests = []
    for folder in ("first", "second-build-elsewhere"):
        source = tmp_path / folder / "example_project"
        shutil.copytree(REPO / "example_project", source, ignore=shutil.ignore_patterns("dist", "static_collected"))
        os.utime(source / "pyproject.toml")  # a different mtime must not matter
        result = subprocess.run(
            [sys.executable, "-m", "django_zipserve", "build", "--quiet", "--require", str(REPO),
             "--output-dir", str(tmp_path / folder / "dist")],
            cwd=source, capture_output=True, text=True, timeout=900,
            env=dict(os.environ, SOURCE_DATE_EPOCH="1700000000"),
        )
        assert result.returncode == 0, result.stderr
        digests.append(hashlib.sha256(Path(result.stdout.strip()).read_bytes()).hexdigest())
    assert digests[0] == digests[1]
