"""``python -m django_zipserve init`` run for real on copies of the test projects."""

import py_compile
import re
import subprocess
import sys

import pytest

from django_zipserve.adopt.detect import load_toml
from tests.adopt.util import FIXTURES, run_init, tree
from tests.helpers import REPO, clean_environ

#: The files init writes in each test project.
WRITTEN = {
    "settings_package": ["mysite/__main__.py", "mysite/zipserve_settings.py", "mysite/zipserve_urls.py"],
    "catchall": ["config/__main__.py", "config/zipserve_settings.py", "config/zipserve_urls.py"],
    "many_apps": ["hc/__main__.py", "hc/zipserve_settings.py", "hc/zipserve_urls.py"],
    "src_layout": ["src/blog/__main__.py", "src/blog/zipserve_settings.py", "src/blog/zipserve_urls.py"],
    "cookiecutter_shaped": ["config/__main__.py", "config/zipserve_settings.py", "config/zipserve_urls.py"],
}


@pytest.mark.parametrize("name", FIXTURES)
def test_init_writes_the_files_and_a_second_run_changes_nothing(copy_project, name):
    project = copy_project(name)
    before = tree(project)
    result = run_init(project)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    after = tree(project)
    created = sorted(set(after) - set(before))
    pyproject_existed = "pyproject.toml" in before
    assert created == sorted(WRITTEN[name] + ([] if pyproject_existed else ["pyproject.toml"]))
    # Nothing of the project's own was changed, pyproject.toml aside.
    assert {path: after[path] for path in before if path != "pyproject.toml"} == {
        path: content for path, content in before.items() if path != "pyproject.toml"
    }
    for path in WRITTEN[name]:
        assert re.search(rf"^  create {re.escape(path)}$", result.stdout, re.MULTILINE), result.stdout
        py_compile.compile(str(project / path), doraise=True, cfile=str(project / "compiled.pyc"))
    (project / "compiled.pyc").unlink()
    action = "merge" if pyproject_existed else "create"
    assert re.search(rf"^  {action} pyproject.toml: ", result.stdout, re.MULTILINE)
    assert "\nreview:\n" in result.stdout

    again = run_init(project)
    assert again.returncode == 0, again.stderr
    assert tree(project) == after
    assert again.stdout.rstrip().endswith("nothing to do")
    for path in WRITTEN[name]:
        assert f"  keep {path} (unchanged)" in again.stdout
    assert "  keep pyproject.toml (nothing to add)" in again.stdout


def test_the_summary_says_what_was_found(copy_project):
    result = run_init(copy_project("many_apps"), "--dry-run")
    found = result.stdout.split("would change:")[0]
    assert "  settings      hc.settings (from manage.py), package hc\n" in found
    assert "  package data  hc/accounts/templates, hc/front/static, hc/front/templates\n" in found
    assert "  requirements  requirements.txt\n" in found
    assert "SECRET_KEY (secret), DEBUG, ALLOWED_HOSTS, SITE_NAME" in found
    assert "EMAIL_HOST_PASSWORD (secret), DB_NAME\n" in found


@pytest.mark.parametrize("name", ["catchall", "src_layout"])
def test_dry_run_writes_nothing_and_shows_the_diffs(copy_project, name):
    project = copy_project(name)
    before = tree(project)
    result = run_init(project, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert tree(project) == before
    assert "would change:" in result.stdout
    assert result.stdout.rstrip().endswith("dry run: nothing was written")
    for path in WRITTEN[name]:
        assert f"--- /dev/null\n+++ b/{path}\n" in result.stdout
    if name == "src_layout":
        assert "--- a/pyproject.toml\n+++ b/pyproject.toml\n" in result.stdout
        assert '+blog = "blog.__main__:main"\n' in result.stdout
    # The same changes as a real run.
    real = run_init(project)
    changes = re.findall(r"^  (?:create|merge) .*$", real.stdout, re.MULTILINE)
    assert changes and changes == re.findall(r"^  (?:create|merge) .*$", result.stdout, re.MULTILINE)


def test_an_existing_file_is_kept_and_said_so(copy_project):
    project = copy_project("catchall")
    mine = "from django.urls import include, path\n\nurlpatterns = []  # mine\n"
    (project / "config" / "zipserve_urls.py").write_text(mine)
    result = run_init(project)
    assert result.returncode == 0, result.stderr
    assert (project / "config" / "zipserve_urls.py").read_text() == mine
    assert "  keep config/zipserve_urls.py (exists; --force replaces it)\n" in result.stdout
    assert "  create config/zipserve_settings.py\n" in result.stdout

    forced = run_init(project, "--force")
    assert "  overwrite config/zipserve_urls.py\n" in forced.stdout
    assert 'include("django_zipserve.urls")' in (project / "config" / "zipserve_urls.py").read_text()


def test_from_another_directory(copy_project, tmp_path):
    project = copy_project("src_layout")
    result = run_init(project, "--project-dir", project, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (project / "src" / "blog" / "zipserve_settings.py").is_file()
    assert (
        load_toml(project / "pyproject.toml")["tool"]["django-zipserve"]["settings"]
        == "blog.zipserve_settings"
    )


@pytest.mark.parametrize(
    ("files", "args", "message"),
    [
        ({}, (), r"init: no manage.py in .*: run init in the project's directory, or pass --settings MODULE"),
        (
            {"manage.py": "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'gone.settings')\n"},
            (),
            r"init: settings module gone.settings \(named by manage.py\) not found under .*",
        ),
        ({}, ("--settings", "gone.settings"), r"init: settings module gone.settings not found under .*"),
        (
            {"manage.py": "", "site/__init__.py": "", "site/settings.py": "X = (\n"},
            ("--settings", "site.settings"),
            r"init: cannot read .*settings.py: .*",
        ),
    ],
)
def test_what_it_cannot_understand_is_one_line_and_status_2(tmp_path, files, args, message):
    for relative, text in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text)
    before = tree(tmp_path)
    result = run_init(tmp_path, *args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert re.fullmatch(message, result.stderr.strip())
    assert tree(tmp_path) == before


def test_init_is_listed_among_the_commands():
    result = subprocess.run(
        [sys.executable, "-m", "django_zipserve", "--help"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    )
    assert re.search(r"^  init +adopt an existing Django project", result.stdout, re.MULTILINE)
    assert re.search(r"^  build +build a Django project into one zipapp", result.stdout, re.MULTILINE)


def test_help():
    result = subprocess.run(
        [sys.executable, "-m", "django_zipserve", "init", "--help"], capture_output=True, text=True, cwd=REPO
    )
    assert result.returncode == 0
    for option in ("--dry-run", "--project-dir", "--settings", "--force"):
        assert option in result.stdout


def test_without_tomlkit_it_says_what_to_install(copy_project, tmp_path):
    hidden = tmp_path / "hidden"
    (hidden / "tomlkit").mkdir(parents=True)
    (hidden / "tomlkit" / "__init__.py").write_text("raise ImportError('not installed')\n")
    project = copy_project("catchall")
    before = tree(project)
    result = subprocess.run(
        [sys.executable, "-m", "django_zipserve", "init"],
        cwd=project,
        env=clean_environ(PYTHONPATH=f"{hidden}:{REPO}"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert (
        result.stderr
        == "init: tomlkit is needed to merge pyproject.toml: pip install 'django-zipserve[build]'\n"
    )
    assert tree(project) == before
