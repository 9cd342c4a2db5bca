"""``python -m django_zipserve build``: settings, normalisation, a real build."""

import argparse
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from django_zipserve.zipapp import build, bundle, prerequisites
from django_zipserve.zipapp import options as build_options
from tests.helpers import REPO, build_artifact
from tests.zipapp.flat_project import write_flat_project

RUNNING = "{}.{}.{}".format(*sys.version_info[:3])


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
        minor = f"{sys.version_info.major}.{sys.version_info.minor}"
        assert options.python == f"/usr/bin/env python{minor}", "the exact version that builds"
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
        assert result.stderr == f"build failed at step check prerequisites: no pyproject.toml in {tmp_path}\n"

    def test_unknown_key_is_refused_with_the_valid_keys(self, tmp_path):
        project = write_project(tmp_path / "p", 'output-dir = "out"\noutput_dir = "typo"\n')
        with pytest.raises(build.BuildError) as error:
            build.resolve_options(args("--project-dir", project))
        assert error.value.report() == (
            f"build failed at step read settings: {project / 'pyproject.toml'}: unknown key 'output_dir' in "
            f"[tool.django-zipserve]; valid keys: {', '.join(sorted(build_options.BY_KEY))}"
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
            ('installer = "poetry"', "installer in [tool.django-zipserve]: expected one of 'uv', 'pip', got"),
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
        for setting in build_options.BUILD_SETTINGS:
            assert setting.flag.startswith("--"), setting
            assert setting.default_text.strip(), setting
            assert setting.help[:1].isupper() and setting.help.endswith("."), setting
            assert setting.kind in ("text", "path", "list", "switch"), setting
            if setting.key and setting.kind != "list":
                assert setting.derive is not None, f"{setting.key}: how its default is derived"
        dests = [setting.dest for setting in build_options.BUILD_SETTINGS]
        assert len(dests) == len(set(dests)), "one attribute per setting"

    def test_every_key_is_accepted_and_reaches_the_options(self, tmp_path):
        values = {"text": '"given"', "path": '"given"', "list": '["given"]'}
        declared = [setting for setting in build_options.BUILD_SETTINGS if setting.key]

        def given(setting):
            return f'"{setting.choices[-1]}"' if setting.choices else values[setting.kind]

        project = write_project(
            tmp_path / "p", "".join(f"{setting.key} = {given(setting)}\n" for setting in declared)
        )
        options = build.resolve_options(args("--project-dir", project))
        for setting in declared:
            expected = {"text": "given", "path": project / "given", "list": ["given"]}[setting.kind]
            if setting.choices:
                expected = setting.choices[-1]
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
        for setting in build_options.BUILD_SETTINGS:
            line = entries[setting.flag]
            assert setting.help in line, setting.flag
            if setting.key:
                expected = f"Default: {setting.default_text}. In pyproject.toml: {setting.key}."
                assert expected in line, setting.key


def venv_without_build_tools(path):
    """A real interpreter that can import django-zipserve but has neither
    pip nor shiv: a build environment set up wrong."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", path], check=True, timeout=120)
    purelib = subprocess.run(
        [path / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(purelib) / "checkout.pth").write_text(f"{REPO}\n")
    if sys.version_info < (3, 11):  # pyproject.toml is read with tomli there
        import tomli

        shutil.copytree(Path(tomli.__file__).parent, Path(purelib) / "tomli")
    return path / "bin" / "python"


class TestPrerequisites:
    def test_every_missing_prerequisite_is_reported_at_once(self, tmp_path):
        project = write_flat_project(tmp_path / "p", with_tests=False)
        (project / "flatsite" / "settings.py").unlink()
        (project / "flatsite" / "locale" / "fr" / "LC_MESSAGES").mkdir(parents=True)
        (project / "flatsite" / "locale" / "fr" / "LC_MESSAGES" / "django.po").write_text("")
        pyproject = project / "pyproject.toml"
        pyproject.write_text(
            pyproject.read_text()
            + 'requirements = "requirements-prod.txt"\ndata-dirs = ["templates", "nope", "../outside"]\n'
            + 'test-requirements = ["-r requirements-test.txt"]\n'
        )
        python = venv_without_build_tools(tmp_path / "venv")
        empty_bin = tmp_path / "bin"  # no msgfmt (nor anything else) on PATH
        empty_bin.mkdir()
        result = subprocess.run(
            [python, "-m", "django_zipserve", "build", "--output-dir", tmp_path / "dist"],
            cwd=project,
            env=dict(os.environ, PATH=str(empty_bin)),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 1
        assert result.stderr.splitlines() == [
            "build failed at step check prerequisites: 9 prerequisites are missing:",
            f"  - pip is not importable by {python} (python -m ensurepip, or a virtualenv with pip)",
            f"  - shiv is not importable by {python} (pip install 'django-zipserve[build]')",
            f"  - packaging is not importable by {python} (pip install 'django-zipserve[build]')",
            f"  - settings module flatsite.settings: neither flatsite/settings.py nor "
            f"flatsite/settings/__init__.py in {project}, {project / 'src'} (the settings setting)",
            f"  - requirements file {project / 'requirements-prod.txt'} does not exist",
            f"  - data-dirs: 'nope': no directory or file {project / 'nope'}",
            "  - data-dirs: '../outside' must be a directory or file inside the project, "
            "relative to its root",
            f"  - test-requirements: no requirements file {project / 'requirements-test.txt'}",
            "  - the project has .po files (flatsite/locale/fr/LC_MESSAGES/django.po) but msgfmt "
            "(GNU gettext) is not on PATH",
        ]
        assert not (tmp_path / "dist").exists()

    def test_a_project_for_another_python_is_refused_before_pip(self, tmp_path):
        project = write_flat_project(tmp_path / "p", with_tests=False)
        pyproject = project / "pyproject.toml"
        pyproject.write_text(
            pyproject.read_text().replace(
                'version = "0.3"\n', 'version = "0.3"\nrequires-python = ">=3.99"\n', 1
            )
        )
        result = run_build("--project-dir", project, "--output-dir", tmp_path / "dist")
        assert result.returncode == 1
        assert result.stderr.splitlines() == [
            f"build failed at step check prerequisites: the project needs Python >=3.99 (requires-python in "
            f"{pyproject}) but this build runs Python {RUNNING} ({sys.executable}), and the "
            "artifact runs on the Python that builds it: build with a Python that fits"
        ]
        assert not (tmp_path / "dist").exists()

    @pytest.mark.parametrize(
        ("declared", "running", "expected"),
        [
            (">=3.12", "3.11.7", "build with python3.12 (a virtualenv of it with django-zipserve[build])"),
            ("~=3.13.0", "3.12.1", "build with python3.13 (a virtualenv of it with django-zipserve[build])"),
            ("<3.11", "3.12.1", "build with python3.10 (a virtualenv of it with django-zipserve[build])"),
            (">=3.12", "3.12.0", None),
            ("==3.11.*", "3.11.7", None),
            (">=3.13", "3.13.0", None),
        ],
    )
    def test_requires_python_is_checked_against_the_building_python(
        self, tmp_path, declared, running, expected
    ):
        project = write_project(tmp_path / "p")
        options = SimpleNamespace(project_dir=project, pyproject={"project": {"requires-python": declared}})
        problems = prerequisites.python_problems(options, running=running)
        if expected is None:
            assert problems == []
        else:
            [problem] = problems
            assert problem.startswith(f"the project needs Python {declared} (requires-python in ")
            assert f"but this build runs Python {running} (" in problem
            assert problem.endswith(expected)

    def test_a_malformed_requires_python_is_named(self, tmp_path):
        options = SimpleNamespace(project_dir=tmp_path, pyproject={"project": {"requires-python": "3.12+"}})
        assert prerequisites.python_problems(options) == [
            f"requires-python '3.12+' in {tmp_path / 'pyproject.toml'} "
            "is not a version specifier (such as '>=3.12')"
        ]

    def test_no_requires_python_is_no_problem(self, tmp_path):
        options = SimpleNamespace(project_dir=tmp_path, pyproject={"project": {"name": "x"}})
        assert prerequisites.python_problems(options) == []

    def test_missing_tools_and_a_missing_pyproject_together(self, tmp_path):
        python = venv_without_build_tools(tmp_path / "venv")
        project = tmp_path / "empty"
        project.mkdir()
        result = subprocess.run(
            [python, "-m", "django_zipserve", "build"],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 1
        lines = result.stderr.splitlines()
        assert lines[0] == "build failed at step check prerequisites: 4 prerequisites are missing:"
        assert lines[-1] == f"  - no pyproject.toml in {project}"

    def test_a_failing_shell_step_names_the_step_and_the_command(self, tmp_path):
        project = write_flat_project(
            tmp_path / "p",
            tool={"shell-steps": ["true", "echo the front-end build broke >&2; exit 3"]},
            with_tests=False,
        )
        result = run_build("--project-dir", project, "--quiet", "--output-dir", tmp_path / "dist")
        assert result.returncode == 1
        command = "echo the front-end build broke >&2; exit 3"
        assert result.stderr.splitlines() == [
            f"build failed at step shell step 2 of 2: {command}: "
            f"command failed with status 3: sh -c {command}",
            "the front-end build broke",
        ]
        assert not (tmp_path / "dist").exists()

    def test_a_data_directory_a_shell_step_writes_need_not_exist_before(self, tmp_path):
        project = write_flat_project(
            tmp_path / "p",
            tool={
                "data-dirs": ["generated"],
                "shell-steps": ["mkdir generated && echo built > generated/bundle.js", "exit 4"],
            },
            with_tests=False,
        )
        result = run_build("--project-dir", project, "--quiet", "--output-dir", tmp_path / "dist")
        assert result.returncode == 1
        assert result.stderr.startswith("build failed at step shell step 2 of 2: exit 4: "), result.stderr


def test_the_source_copy_leaves_out_caches_but_keeps_data_directories_whole(tmp_path):
    """``dist``, ``build`` and ``node_modules`` are left out of the copy, but
    not inside or on the way to a data directory: a front-end build's output
    is what the site serves."""
    project = tmp_path / "project"
    for name in (
        ".venv/lib/x.py",
        "node_modules/y.js",
        "dist/old.pyz",
        "mysite/build/leftover.py",
        "frontend/dist/app.js",
        "frontend/node_modules/dep.js",
        "static/build/bundle.js",
        "static/__pycache__/stale.pyc",
    ):
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text("x")
    options = argparse.Namespace(project_dir=project, data_dirs=["frontend/dist", "static"])
    copied = build.copy_source(options, tmp_path / "work")
    found = sorted(path.relative_to(copied).as_posix() for path in copied.rglob("*") if path.is_file())
    assert found == ["frontend/dist/app.js", "static/build/bundle.js"]


def test_data_dirs_may_name_files(tmp_path):
    """A settings module that reads ``BASE_DIR / "CHANGELOG.md"`` at import
    finds it in the artifact: a file entry is copied like a directory."""
    source = tmp_path / "src"
    for name in ("CHANGELOG.md", "data/search.db", "templates/home.html"):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text(name)
    options = argparse.Namespace(
        project_dir=source, data_dirs=["CHANGELOG.md", "data/search.db", "templates"], shell_steps=[]
    )
    assert prerequisites.directory_problems(options) == []
    site = tmp_path / "site"
    site.mkdir()
    build.copy_data_dirs(options, source, site)
    found = sorted(path.relative_to(site).as_posix() for path in site.rglob("*") if path.is_file())
    assert found == ["CHANGELOG.md", "data/search.db", "templates/home.html"]
    assert (site / "data" / "search.db").read_text() == "data/search.db"
    copied = build.copy_source(options, tmp_path / "work")
    assert (copied / "CHANGELOG.md").is_file() and (copied / "data" / "search.db").is_file()


class TestWhatIsBundled:
    def test_the_requirements_file_and_why(self, tmp_path):
        project = write_flat_project(tmp_path / "p", with_tests=False)
        found = build.resolve_options(args("--project-dir", project))
        assert bundle.requirements_note(found) == "requirements.txt: found in the project"
        (project / "requirements.lock").write_text("Django==5.2\n")
        assert bundle.requirements_note(build.resolve_options(args("--project-dir", project))) == (
            "requirements.lock: found in the project"
        )
        given = build.resolve_options(args("--project-dir", project, "--requirements", tmp_path / "r.txt"))
        assert bundle.requirements_note(given) == f"{tmp_path / 'r.txt'}: given with --requirements"
        pyproject = project / "pyproject.toml"
        pyproject.write_text(pyproject.read_text() + 'requirements = "deploy/requirements.txt"\n')
        declared = build.resolve_options(args("--project-dir", project))
        assert bundle.requirements_note(declared) == (
            "deploy/requirements.txt: given in pyproject.toml (requirements in [tool.django-zipserve])"
        )
        for name in ("requirements.txt", "requirements.lock"):
            (project / name).unlink()
        pyproject.write_text(pyproject.read_text().replace('requirements = "deploy/requirements.txt"\n', ""))
        assert bundle.requirements_note(build.resolve_options(args("--project-dir", project))) == (
            "no requirements file: the project's own dependencies only ([project] dependencies)"
        )

    @staticmethod
    def install(site, name, version, size):
        """What pip leaves for a distribution: its files and its .dist-info."""
        module = f"{name.replace('-', '_')}_files"
        (site / module).mkdir(parents=True)
        (site / module / "data.bin").write_bytes(b"x" * size)
        info = site / f"{name.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        (info / "RECORD").write_text(f"{module}/data.bin,sha256=x,{size}\n{info.name}/METADATA,,\n")

    def test_largest_distributions_and_the_total(self, tmp_path):
        site = tmp_path / "site"
        for number in range(7):
            self.install(site, f"pkg-{number}", "1.0", (number + 1) * 1024 * 1024)
        lines = bundle.size_lines(site)
        assert lines[0].startswith("7 distributions, 28.0 MiB installed; the largest:")
        assert [line.split()[0] for line in lines[1:]] == ["pkg-6", "pkg-5", "pkg-4", "pkg-3", "pkg-2"]
        assert lines[1].split()[-2:] == ["7.0", "MiB"]

    def test_a_large_distribution_names_its_largest_folders(self, tmp_path):
        """Where the weight is: plotly's shape, one big folder of data nothing imports."""
        site = tmp_path / "site"
        folders = {"plotly/validators": 3, "plotly/package_data": 4, "plotly/io": 0.5}
        records = []
        for folder, mebibytes in folders.items():
            (site / folder).mkdir(parents=True)
            (site / folder / "data.bin").write_bytes(b"x" * int(mebibytes * 1024 * 1024))
            records.append(f"{folder}/data.bin,sha256=x,1")
        (site / "plotly" / "__init__.py").write_bytes(b"x" * 1024 * 1024)
        records.append("plotly/__init__.py,,")
        info = site / "plotly-6.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: plotly\nVersion: 6.0\n")
        (info / "RECORD").write_text("\n".join(records) + "\n")
        self.install(site, "small", "1.0", 1024)
        lines = bundle.size_lines(site)
        assert lines[1] == (
            "  plotly 6.0     8.5 MiB  (plotly/package_data 4.0 MiB, plotly/validators 3.0 MiB)"
        )
        assert lines[2] == "  small 1.0      0.0 MiB", "a small one is not broken down"

    def test_uwsgi_is_found_in_the_requirements_before_installing(self, tmp_path):
        project = tmp_path / "p"
        (project / "requirements").mkdir(parents=True)
        (project / "requirements.txt").write_text("-r requirements/base.txt\nDjango>=4.2  # the site\n")
        (project / "requirements" / "base.txt").write_text(
            "# serving\n--requirement=serve.txt\npsycopg[binary]\n"
        )
        (project / "requirements" / "serve.txt").write_text(
            "pyuwsgi\nuWSGI==2.0.28 ; sys_platform != 'win32'\n"
        )
        options = argparse.Namespace(
            project_dir=project, requirements=project / "requirements.txt", extra_requirements=[]
        )
        assert [name for name, _ in bundle.requested_names(options)] == [
            "pyuwsgi",
            "uwsgi",
            "psycopg",
            "django",
        ]
        [warning] = bundle.requirement_warnings(options)
        assert warning.startswith("uwsgi is required (serve.txt line 2): pip compiles uWSGI from source")
        assert "remove uwsgi, or give the artifact a requirements file of its own" in warning
        clean = argparse.Namespace(project_dir=project, requirements=None, extra_requirements=["gunicorn"])
        assert bundle.requirement_warnings(clean) == []
        extra = argparse.Namespace(project_dir=project, requirements=None, extra_requirements=["uwsgi>=2"])
        assert bundle.requirement_warnings(extra)[0].startswith("uwsgi is required (extra-requirements)")

    def test_the_uwsgi_warning_comes_before_the_install_step(self, tmp_path, monkeypatch):
        """Without a C compiler pip fails compiling uWSGI: the hint must be out before."""
        project = write_flat_project(tmp_path / "p", requirements=("Django", "uwsgi"), with_tests=False)
        options = build.resolve_options(args("--project-dir", project))

        def no_compiler(*arguments):
            raise build.StepFailed("error: command 'gcc' failed: No such file or directory")

        monkeypatch.setattr(build, "install", no_compiler)
        stream = io.StringIO()
        site = tmp_path / "work" / "site-packages"
        with pytest.raises(build.BuildError):
            build.install_site(options, build.Steps(False, stream), tmp_path / "work", site, dict(os.environ))
        output = stream.getvalue()
        assert "warning: uwsgi is required (requirements.txt line 2)" in output
        assert output.index("warning: uwsgi") < output.index("==> install the project")

    def test_warnings_about_a_requirements_file_written_for_another_platform(self, tmp_path):
        site = tmp_path / "site"
        for name in ("Django", "pyuwsgi", "uWSGI", "boto3", "botocore", "google-cloud-storage", "azure_core"):
            self.install(site, name, "1.0", 2 * 1024 * 1024)
        warnings = bundle.warnings(site)
        assert len(warnings) == 2, warnings
        assert warnings[0].startswith("uwsgi is installed beside pyuwsgi: it compiles uWSGI from source")
        assert warnings[1].startswith(
            "platform SDKs bundled: azure_core (2.0 MiB), boto3 (2.0 MiB), botocore (2.0 MiB), "
            "google-cloud-storage (2.0 MiB); "
        )
        assert "a requirements file of its own (the requirements setting, or --requirements)" in warnings[1]
        clean = tmp_path / "clean"
        for name in ("Django", "pyuwsgi", "gunicorn"):
            self.install(clean, name, "1.0", 1024)
        assert bundle.warnings(clean) == []


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
            # Weight the example never imports, and a glob that matches nothing.
            *("--exclude", "django/contrib/gis", "--exclude", "nothing/here/**"),
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
    assert re.search(r"^    django/contrib/gis: \d+ files, [\d.]+ MiB left out$", result.stderr, re.M)
    assert "warning: exclude 'nothing/here/**' matches no installed file" in result.stderr
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
    assert not any(name.startswith("site-packages/django/contrib/gis/") for name in names)
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


GZ_SETTINGS = """
from pathlib import Path

INSTALLED_APPS = ["django.contrib.staticfiles", "gzsite"]
STATIC_URL = "static/"
STATIC_ROOT = Path(__file__).resolve().parent / "static_collected"
LANGUAGES = [("en", "English")]
"""

# What django-compressor's compress does: gzip files stamped with the time
# they are written, and a manifest whose key order varies.
GZ_COMMAND = """
import gzip, json, random, time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    def handle(self, *args, **options):
        cache = Path(settings.STATIC_ROOT) / "CACHE"
        cache.mkdir(parents=True, exist_ok=True)
        with open(cache / "output.css.gz", "wb") as raw:
            with gzip.GzipFile("output.css", "wb", fileobj=raw, mtime=int(time.time())) as stream:
                stream.write(b"body { color: red; }")
        keys = [f"key{number}" for number in range(20)]
        random.shuffle(keys)
        (cache / "manifest.json").write_text(json.dumps({key: f"<link {key}>" for key in keys}))
        (cache / "list.json").write_text('["b", "a"]')
"""


def gz_site(site):
    """An installed copy of a small project with that manage step, and the
    Django the build's management commands import (``-S``: nothing else)."""
    import importlib

    for name in ("django", "asgiref", "sqlparse"):
        module = importlib.import_module(name)
        ignored = shutil.ignore_patterns("__pycache__")
        shutil.copytree(Path(module.__file__).parent, site / name, ignore=ignored)
    for relative, text in {
        "gzsite/__init__.py": "",
        "gzsite/settings.py": GZ_SETTINGS,
        "gzsite/management/__init__.py": "",
        "gzsite/management/commands/__init__.py": "",
        "gzsite/management/commands/gzstamp.py": GZ_COMMAND,
    }.items():
        (site / relative).parent.mkdir(parents=True, exist_ok=True)
        (site / relative).write_text(text)
    return site


def test_what_manage_steps_write_is_made_reproducible(tmp_path):
    site = gz_site(tmp_path / "site-packages")
    options = argparse.Namespace(
        settings="gzsite.settings",
        package="gzsite",
        data_dirs=[],
        quiet=True,
        manage_steps=["collectstatic --noinput", "gzstamp"],
        exclude=[],
    )
    stream = io.StringIO()
    epoch = 1700000000
    build.prepare_site(options, build.Steps(False, stream), site, dict(os.environ), epoch)
    cache = site / "gzsite" / "static_collected" / "CACHE"
    header = (cache / "output.css.gz").read_bytes()[:10]
    assert int.from_bytes(header[4:8], "little") == epoch, "the build's time, not the time it was written"
    with gzip.open(cache / "output.css.gz") as compressed:
        assert compressed.read() == b"body { color: red; }", "not recompressed, still valid"
    manifest = (cache / "manifest.json").read_text()
    assert list(json.loads(manifest)) == sorted(json.loads(manifest))
    assert (cache / "list.json").read_text() == '["b", "a"]', "only objects are rewritten"
    assert "==> collect static files (the final collection, after the manage steps) ..." in stream.getvalue()


def test_gzip_headers_of_installed_files_and_json_that_would_change_are_left(tmp_path):
    site = tmp_path / "site"
    (site / "pkg").mkdir(parents=True)
    info = site / "pkg-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Name: pkg\nVersion: 1.0\n")
    (info / "RECORD").write_text("pkg/shipped.gz,,\n")
    for name in ("shipped.gz", "written.gz"):
        (site / "pkg" / name).write_bytes(gzip.compress(b"data", mtime=12345))
    assert build.normalise_gzip_headers(site, 0) == 1
    assert (site / "pkg" / "shipped.gz").read_bytes()[4:8] == (12345).to_bytes(4, "little")
    assert (site / "pkg" / "written.gz").read_bytes()[4:8] == bytes(4)
    (site / "pkg" / "not-gzip.gz").write_bytes(b"plain")
    assert build.normalise_gzip_headers(site, 0) == 0
    (site / "dup.json").write_text('{"b": 1, "a": 2, "b": 3}')
    (site / "flat.json").write_text('{"b": 1, "a": {"d": 1, "c": 2}}\n')
    assert build.sort_json_manifests(site) == 1
    assert (site / "dup.json").read_text() == '{"b": 1, "a": 2, "b": 3}', (
        "duplicate keys: not equal once sorted"
    )
    assert (site / "flat.json").read_text() == '{"a": {"c": 2, "d": 1}, "b": 1}\n'


def test_build_steps_never_import_the_project_folder_they_run_in(tmp_path):
    """compilemessages runs in the project's package folder; NetBox's own
    ``netbox/graphql`` there shadowed the real ``graphql`` library. The
    build's processes import from the installed copy only, as the artifact does."""
    site, package_dir = tmp_path / "site", tmp_path / "site" / "mysite"
    (package_dir / "graphql").mkdir(parents=True)
    (package_dir / "graphql" / "__init__.py").write_text("WHERE = 'the project folder'\n")
    (site / "graphql.py").write_text("WHERE = 'the installed library'\n")
    options = SimpleNamespace(settings="mysite.settings", quiet=True)
    result = build.installed_python(
        options, site, dict(os.environ), "import graphql; print(graphql.WHERE)", cwd=package_dir
    )
    assert result.stdout.strip() == "the installed library"


def test_build_steps_make_the_state_directory_in_the_build_folder(tmp_path):
    """Baby Buddy's build left an empty ``~/.local/state/babybuddy`` behind:
    the settings make the folder of their SQLite file in the default state
    directory. The build's steps get one inside the build's folder."""
    site = tmp_path / "work" / "site-packages"
    site.mkdir(parents=True)
    options = SimpleNamespace(settings="mysite.settings", quiet=True)
    code = "import os; print(os.environ['XDG_STATE_HOME'], os.environ.get('STATE_DIRECTORY'))"
    environ = dict(os.environ, STATE_DIRECTORY="/var/lib/mysite", XDG_STATE_HOME=str(tmp_path / "home-state"))
    result = build.installed_python(options, site, environ, code)
    assert result.stdout.split() == [str(tmp_path / "work" / "state"), "None"]
