"""``python -m django_zipserve build``: settings, normalisation, a real build."""

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from django_zipserve.zipapp import build, settings
from tests.helpers import REPO, build_artifact


def args(*argv):
    """The build's own command line, parsed."""
    parser = argparse.ArgumentParser()
    build.add_arguments(parser)
    return parser.parse_args([str(arg) for arg in argv])


def write_project(path, tool=""):
    path.mkdir(parents=True, exist_ok=True)
    (path / "pyproject.toml").write_text(
        '[project]\nname = "My-Site"\nversion = "2.1"\n'
        + (f"\n[tool.django-zipserve]\n{tool}" if tool else "")
    )
    return path


def run_build(*argv):
    # A wide terminal: argparse wraps --help at the width it finds.
    return subprocess.run(
        [sys.executable, "-m", "django_zipserve", "build", *map(str, argv)],
        env=dict(os.environ, COLUMNS="1000"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


class TestOptions:
    def test_defaults_come_from_the_project_name(self, tmp_path):
        project = write_project(tmp_path / "p")
        options = build.resolve_options(args("--project-dir", project))
        assert options.package == "my_site"
        assert options.entry_point == "my_site.__main__:main"
        assert options.settings == "my_site.settings"
        assert options.python == "/usr/bin/env python3"
        assert options.version == "2.1"
        assert options.requirements is None
        assert options.output_dir == project / "dist"
        assert options.output_name == "my_site"
        assert options.quiet is False

    def test_pyproject_settings_then_flags(self, tmp_path):
        project = write_project(
            tmp_path / "p",
            'package = "site"\npython = "/usr/bin/python3.11"\n'
            'extra-requirements = ["psycopg"]\noutput-dir = "out"\n'
            'output-name = "mysite"\n',
        )
        (project / "requirements.lock").write_text("Django==5.2\n")
        options = build.resolve_options(
            args("--project-dir", project, "--python", "/opt/py/bin/python3", "--require", "x", "--quiet")
        )
        assert options.package == "site"
        assert options.entry_point == "site.__main__:main", "derived from the package pyproject.toml names"
        assert options.python == "/opt/py/bin/python3"
        assert options.extra_requirements == ["psycopg", "x"]
        assert options.requirements == project / "requirements.lock"
        assert options.output_dir == project / "out", "a path in pyproject.toml is relative to the project"
        assert options.output_name == "mysite"
        assert options.quiet is True

    def test_missing_pyproject_names_the_step(self, tmp_path):
        result = run_build("--project-dir", tmp_path)
        assert result.returncode == 1
        assert "build failed at step read settings: no pyproject.toml" in result.stderr
        assert "Traceback" not in result.stderr

    def test_unknown_key_is_refused_with_the_valid_keys(self, tmp_path):
        project = write_project(tmp_path / "p", 'output-dir = "out"\noutput_dir = "typo"\n')
        with pytest.raises(build.BuildError) as error:
            build.resolve_options(args("--project-dir", project))
        assert error.value.report() == (
            f"build failed at step read settings: {project / 'pyproject.toml'}: unknown key 'output_dir' in "
            f"[tool.django-zipserve]; valid keys: {', '.join(sorted(settings.BY_KEY))}"
        )
        result = run_build("--project-dir", project)
        assert result.returncode == 1, result.stderr
        assert result.stderr.splitlines() == [error.value.report()], "one line, no traceback"
        assert not (project / "typo").exists() and not (project / "out").exists()

    @pytest.mark.parametrize(
        "line, expected",
        [
            ("python = 3", "python in [tool.django-zipserve]: expected a non-empty string, got int 3"),
            (
                'extra-requirements = "psycopg"',
                "extra-requirements in [tool.django-zipserve]: expected a list of strings, got str 'psycopg'",
            ),
            ("extra-requirements = [1]", "expected a list of strings, got list [1]"),
            ('package = ""', "package in [tool.django-zipserve]: expected a non-empty string"),
        ],
    )
    def test_value_of_the_wrong_type_is_refused(self, tmp_path, line, expected):
        project = write_project(tmp_path / "p", line + "\n")
        with pytest.raises(build.BuildError) as error:
            build.resolve_options(args("--project-dir", project))
        assert str(project / "pyproject.toml") in error.value.report()
        assert expected in error.value.report()
        assert error.value.exit_status != 0


class TestDeclaration:
    """Every setting is declared once, with what the reference needs."""

    def test_every_setting_has_a_flag_a_default_and_a_help_sentence(self):
        for setting in settings.BUILD_SETTINGS:
            assert setting.flag.startswith("--"), setting
            assert setting.default_text.strip(), setting
            assert setting.help[:1].isupper() and setting.help.endswith("."), setting
            assert setting.kind in ("text", "path", "list", "switch"), setting
            if setting.key and setting.kind != "list":
                assert setting.derive is not None, f"{setting.key}: how its default is derived"
        dests = [setting.dest for setting in settings.BUILD_SETTINGS]
        assert len(dests) == len(set(dests)), "one attribute per setting"

    def test_every_key_is_accepted_and_reaches_the_options(self, tmp_path):
        values = {"text": '"given"', "path": '"given"', "list": '["given"]'}
        declared = [setting for setting in settings.BUILD_SETTINGS if setting.key]
        project = write_project(
            tmp_path / "p", "".join(f"{setting.key} = {values[setting.kind]}\n" for setting in declared)
        )
        options = build.resolve_options(args("--project-dir", project))
        for setting in declared:
            expected = {"text": "given", "path": project / "given", "list": ["given"]}[setting.kind]
            assert getattr(options, setting.dest) == expected, setting.key

    def test_help_lists_every_flag_key_and_default(self):
        result = run_build("--help")
        assert result.returncode == 0, result.stderr
        entries = {}  # flag: its whole entry (argparse may put the help on the next line)
        for line in result.stdout.split("options:", 1)[1].splitlines():
            if line.startswith("  -"):
                flag = line.split()[0].rstrip(",")
                entries[flag] = line
            elif line.startswith("    "):
                entries[flag] += " " + line.strip()
        for setting in settings.BUILD_SETTINGS:
            line = entries[setting.flag]
            assert setting.help in line, setting.flag
            if setting.key:
                expected = f"Default: {setting.default_text}. In pyproject.toml: {setting.key}."
                assert expected in line, setting.key


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
    build.normalise(site, 315532800)
    assert not (site / "bin").exists()
    assert not (site / "pkg" / "__pycache__").exists()
    assert not (dist_info / "direct_url.json").exists()
    assert (dist_info / "RECORD").read_text() == "pkg/m.py,,\n"
    assert oct((site / "pkg" / "m.py").stat().st_mode & 0o777) == "0o644"
    assert (site / "pkg" / "m.py").stat().st_mtime == 315532800


def test_prune_translations_keeps_offered_languages(tmp_path):
    site = tmp_path / "site"
    for path in (
        "django/conf/locale/en/formats.py",
        "django/conf/locale/en_GB/formats.py",
        "django/conf/locale/fr/formats.py",
        "django/contrib/admin/locale/de/LC_MESSAGES/django.mo",
        "django/contrib/admin/locale/pt_BR/LC_MESSAGES/django.mo",
        "app/locale/pt/LC_MESSAGES/django.mo",
    ):
        (site / path).parent.mkdir(parents=True, exist_ok=True)
        (site / path).write_text("")
    assert build.prune_translations(site, {"en", "pt"}) == 2
    assert (site / "django/conf/locale/en_GB").is_dir()
    assert (site / "django/contrib/admin/locale/pt_BR").is_dir()
    assert not (site / "django/conf/locale/fr").exists()
    assert not (site / "django/contrib/admin/locale/de").exists()
    assert build.prune_translations(site, None) == 0, "all languages offered: nothing removed"


def source_tree_status():
    """What git sees in the example project's folder, ignored files included."""
    command = ["git", "status", "--porcelain", "--ignored", "example_project"]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False).stdout


@pytest.mark.e2e
def test_build_the_example_project(tmp_path):
    before = source_tree_status()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "django_zipserve",
            "build",
            "--require",
            str(REPO),
            "--output-dir",
            str(tmp_path),
        ],
        cwd=REPO / "example_project",
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
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
    bundled = {"Django", "pyuwsgi", "gunicorn", "whitenoise", "goodconf", "django-zipserve"}
    assert bundled <= set(record["packages"])
    with zipfile.ZipFile(pyz) as archive:
        names = archive.namelist()
    assert "site-packages/example_project/static_collected/staticfiles.json" in names
    assert any(
        name.startswith("site-packages/example_project/static_collected/example_project/site.")
        and name.endswith(".css.gz")
        for name in names
    )
    assert "site-packages/example_project/templates/home.html" in names
    # pip's console scripts (with the build machine's paths) are gone; only
    # our start-up preamble is in bin/.
    assert [name for name in names if "/bin/" in name] == ["site-packages/bin/zipserve_preamble.py"]
    assert not any(name.endswith("direct_url.json") for name in names)
    assert "_zipserve_boot.py" in names
    # Bytecode compiled at build time, and only the offered languages.
    assert "site-packages/django/__pycache__/__init__.cpython-{}{}.pyc".format(*sys.version_info[:2]) in names
    assert any(name.startswith("site-packages/django/conf/locale/en/") for name in names)
    assert not any(name.startswith("site-packages/django/conf/locale/fr/") for name in names)
    assert not any(name.endswith(".po") for name in names)
    after = source_tree_status()
    assert after == before, "the build wrote into the source tree"


@pytest.mark.e2e
def test_two_builds_in_different_folders_are_identical(tmp_path):
    """Same source, same inputs: the same bytes, wherever it was built."""
    digests = []
    for folder in ("first", "second-build-elsewhere"):
        source = tmp_path / folder / "example_project"
        shutil.copytree(
            REPO / "example_project", source, ignore=shutil.ignore_patterns("dist", "static_collected")
        )
        os.utime(source / "pyproject.toml")  # a different mtime must not matter
        pyz = build_artifact(
            source, tmp_path / folder / "dist", env=dict(os.environ, SOURCE_DATE_EPOCH="1700000000")
        )
        digests.append(hashlib.sha256(pyz.read_bytes()).hexdigest())
    assert digests[0] == digests[1]
