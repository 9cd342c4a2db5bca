"""A real build of a project laid out as real projects are (see
``flat_project``): root-level data directories, a shell step, a manage
step, a requirements file for another platform, and tests that need a
sidecar of test-only packages. One build serves every test here; a second
one, elsewhere, must be identical."""

import hashlib
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

from django_zipserve.zipapp import boot
from django_zipserve.zipapp.options import IGNORED_SOURCE
from tests.helpers import REPO, clean_environ, run_pyz
from tests.zipapp.flat_project import BUILT_ASSET, write_flat_project

pytestmark = pytest.mark.e2e

SHELL_STEP = f"mkdir -p static/dist && printf 'console.log(1);' > static/{BUILT_ASSET}"
FEATURES = {
    "data-dirs": ["templates", "static"],
    "shell-steps": [SHELL_STEP],
    "manage-steps": ["stamp --text 'compressed at build time'"],
    "test-requirements": ["time-machine", "./testhelper"],
}
EPOCH = "1700000000"
#: This machine's own settings, kept out of git as NetBox keeps its
#: configuration.py: never in the artifact.
LOCAL_SECRET = "Wq8-local-only-Zx3vB7nM2kL9"
IGNORED_FILES = {
    ".gitignore": "flatsite/local_settings.py\n.env\n",
    "flatsite/local_settings.py": f'SECRET_KEY = "{LOCAL_SECRET}"\n',
    ".env": f"DB_PASSWORD={LOCAL_SECRET}\n",
    # Package data the project's packaging does not declare: named by the build.
    "flatsite/data/regions.json": "{}\n",
}


def build(project, dist, *extra, require=REPO):
    command = [sys.executable, "-m", "django_zipserve", "build", "--require", require, "--output-dir", dist]
    command += extra
    result = subprocess.run(
        [str(part) for part in command],
        cwd=project,
        env=dict(os.environ, SOURCE_DATE_EPOCH=EPOCH),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-5000:]
    return result


@pytest.fixture(scope="module")
def zipserve_wheel(tmp_path_factory):
    """django-zipserve as one wheel, so that builds compared with each other
    bundle the same one even while the checkout is being edited."""
    folder = tmp_path_factory.mktemp("wheel")
    snapshot = folder / "django-zipserve"
    shutil.copytree(REPO, snapshot, ignore=shutil.ignore_patterns(*IGNORED_SOURCE, "tests", "bench", "docs"))
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", folder, snapshot]
    subprocess.run([str(part) for part in command], check=True, capture_output=True, timeout=600)
    return next(folder.glob("django_zipserve-*.whl"))


@pytest.fixture(scope="module")
def flat(tmp_path_factory, zipserve_wheel):
    base = tmp_path_factory.mktemp("flat")
    project = write_flat_project(base / "flatsite", tool=FEATURES, requirements=["Django>=4.2", "azure-core"])
    for name, text in IGNORED_FILES.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    subprocess.run(["git", "init", "-q", str(project)], check=True, timeout=60)
    before = sorted(path.relative_to(project).as_posix() for path in project.rglob("*"))
    result = build(project, base / "dist", require=zipserve_wheel)
    after = sorted(path.relative_to(project).as_posix() for path in project.rglob("*"))
    assert after == before, "the build wrote into the source tree"
    return SimpleNamespace(
        wheel=zipserve_wheel,
        project=project,
        dist=base / "dist",
        pyz=base / "dist" / "flatsite-0.3.pyz",
        tests_zip=base / "dist" / "flatsite-0.3.tests.zip",
        record=json.loads((base / "dist" / "flatsite-0.3.json").read_text()),
        stderr=result.stderr,
    )


def site_env(tmp_path, **extra):
    (tmp_path / "home").mkdir(exist_ok=True)
    return clean_environ(
        DEBUG="true",
        STATE_DIR=tmp_path / "state",
        SHIV_ROOT=tmp_path / "root",
        HOME=tmp_path / "home",
        **extra,
    )


def shell(pyz, env, code):
    result = run_pyz(pyz, env, "shell", "-c", code)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1]


def test_each_step_is_shown_with_its_time_in_order(flat):
    titles = [line[4:].removesuffix(" ...") for line in flat.stderr.splitlines() if line.startswith("==> ")]
    assert titles[:4] == [
        "copy the project source",
        f"shell step 1 of 1: {SHELL_STEP}",
        "install the project and its dependencies",
        "copy the data directories",
    ]
    assert titles[4:7] == [
        "look for secrets in the project's files",
        "manage step 1 of 1: stamp --text 'compressed at build time'",
        "collect static files",
    ]
    assert "build the test sidecar" in titles
    assert flat.stderr.count("    done in ") == len(titles)


def test_the_build_says_what_it_bundles_and_warns(flat):
    lines = flat.stderr.splitlines()
    assert "    requirements: requirements.txt: found in the project" in lines
    assert any(line.startswith(("    installer: uv (", "    installer: pip (")) for line in lines), lines
    summary = next(index for index, line in enumerate(lines) if "MiB installed; the largest:" in line)
    largest = lines[summary + 1 : summary + 6]
    assert all(line.startswith("      ") and line.endswith(("MiB", "MiB)")) for line in largest), largest
    assert largest[0].split()[0] == "Django"
    # Where a large one's weight is: its largest folders.
    assert re.search(r"\(django/contrib [\d.]+ MiB, django/\w+ [\d.]+ MiB", largest[0]), largest[0]
    warnings = [line for line in lines if line.startswith("warning: ")]
    assert len(warnings) == 3, warnings
    assert warnings[0] == (
        "warning: left out 2 git-ignored path(s): .env, flatsite/local_settings.py "
        "(name one in include-ignored in [tool.django-zipserve] to package it)"
    )
    assert warnings[1].startswith("warning: platform SDKs bundled: azure-core (")
    assert warnings[2] == (
        "warning: the install left out 1 non-Python file(s) of the project's packages, in flatsite/data: "
        "declare them as package data in pyproject.toml if the site reads them"
    )


def test_git_ignored_secrets_are_nowhere_in_the_artifact(flat):
    with zipfile.ZipFile(flat.pyz) as archive:
        names = archive.namelist()
        assert not [name for name in names if name.endswith(("local_settings.py", ".env"))]
        holding = [name for name in names if LOCAL_SECRET.encode() in archive.read(name)]
    assert holding == []
    assert LOCAL_SECRET.encode() not in flat.pyz.read_bytes()


def test_root_level_directories_are_found_from_base_dir(flat, tmp_path):
    """``BASE_DIR / "templates"`` and ``BASE_DIR / "static"``, as the
    project wrote them, work inside the artifact; what the shell step wrote
    into ``static`` was collected."""
    env = site_env(tmp_path)
    code = (
        "from django.template.loader import render_to_string; "
        "from django.contrib.staticfiles.storage import staticfiles_storage as s; "
        "print(render_to_string('home.html', {'greeting': 'Hi'}).strip(), "
        f"s.stored_name('site.css'), s.stored_name('{BUILT_ASSET}'), sep='|')"
    )
    rendered, css, built = shell(flat.pyz, env, code).split("|")
    assert rendered == "<h1>Hi from the root templates</h1>"
    assert css.startswith("site.") and css.endswith(".css") and css != "site.css"
    assert built.startswith("dist/app.") and built != BUILT_ASSET
    with zipfile.ZipFile(flat.pyz) as archive:
        names = archive.namelist()
    assert "site-packages/templates/home.html" in names
    assert "site-packages/static/site.css" in names
    assert not (flat.project / "static" / "dist").exists(), "the shell step ran in the source tree"


def test_what_a_manage_step_writes_is_in_the_artifact(flat, tmp_path):
    code = (
        "from pathlib import Path; from django.conf import settings; "
        "print((Path(settings.STATIC_ROOT) / 'CACHE' / 'stamp.txt').read_text())"
    )
    assert shell(flat.pyz, site_env(tmp_path), code) == "compressed at build time"


def test_checks_that_need_the_database_are_left_to_the_host(flat, tmp_path):
    """The build ran every tagged check; one registered without a tag (it
    queries the database) did not stop it, and runs on the host."""
    assert "==> run the system checks" in flat.stderr and "flatsite.E001" not in flat.stderr
    env = site_env(tmp_path)
    before = run_pyz(flat.pyz, env, "check", "--deploy")
    assert before.returncode != 0
    assert "flatsite.E001" in before.stderr
    assert run_pyz(flat.pyz, env, "migrate", "--noinput").returncode == 0
    after = run_pyz(flat.pyz, env, "check", "--deploy")
    assert "flatsite.E001" not in after.stderr, after.stderr[-2000:]


def test_the_test_command_uses_the_sidecar_and_leaves_nothing(flat, tmp_path):
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    # First start (shiv extracts, then our preamble), then from the extraction.
    for start in ("first", "later"):
        result = run_pyz(flat.pyz, site_env(tmp_path, TMPDIR=temporary), "test")
        assert result.returncode == 0, (start, result.stderr[-3000:])
        assert "Ran 2 tests" in result.stderr and "OK" in result.stderr
        assert list(temporary.iterdir()) == [], "the extracted sidecar outlived the run"


def test_without_a_sidecar_test_runs_as_before(flat, tmp_path):
    alone = tmp_path / "alone"
    alone.mkdir()
    pyz = Path(shutil.copy(flat.pyz, alone))
    result = run_pyz(pyz, site_env(tmp_path), "test")
    assert result.returncode != 0
    assert "No module named 'time_machine'" in result.stderr


def test_other_commands_never_see_the_test_packages(flat, tmp_path):
    code = (
        "import importlib.util as u; print(u.find_spec('time_machine'), u.find_spec('zipserve_testhelper'))"
    )
    assert shell(flat.pyz, site_env(tmp_path), code) == "None None"


def test_a_sidecar_of_another_build_is_refused_before_extracting(flat, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    pyz = Path(shutil.copy(flat.pyz, folder))
    with (
        zipfile.ZipFile(flat.tests_zip) as source,
        zipfile.ZipFile(folder / flat.tests_zip.name, "w") as target,
    ):
        for info in source.infolist():
            data = source.read(info)
            if info.filename == boot.TESTS_RECORD_NAME:
                data = json.dumps(dict(json.loads(data), build_id="feedfacefeedface")).encode()
            target.writestr(info, data)
    env = site_env(tmp_path)
    result = run_pyz(pyz, env, "test")
    assert result.returncode == 2
    assert result.stderr == (
        f"flatsite-0.3.pyz: flatsite-0.3.tests.zip holds the test packages of build feedfacefeedface, not of "
        f"this artifact's build {flat.record['build_id']}; use the .tests.zip built with this artifact\n"
    )
    assert not (tmp_path / "root").exists() or list((tmp_path / "root").iterdir()) == []


def test_the_records_tie_the_sidecar_to_its_build(flat):
    tests = flat.record["tests"]
    assert tests["file"] == "flatsite-0.3.tests.zip"
    assert tests["sha256"] == hashlib.sha256(flat.tests_zip.read_bytes()).hexdigest()
    assert set(tests["packages"]) == {"time-machine", "zipserve-testhelper"}, "Django is the artifact's"
    with zipfile.ZipFile(flat.tests_zip) as sidecar:
        inside = json.loads(sidecar.read(boot.TESTS_RECORD_NAME))
        names = sidecar.namelist()
    assert inside["build_id"] == flat.record["build_id"]
    assert not any(name.startswith("django/") for name in names)
    with zipfile.ZipFile(flat.pyz) as archive:
        packaged = json.loads(archive.read(boot.RECORD_MEMBER))
        names = archive.namelist()
    assert packaged["tests"] == {key: value for key, value in tests.items() if key != "sha256"}
    assert not any(name.startswith("site-packages/time_machine") for name in names), "shipped test tools"


def test_a_second_build_elsewhere_is_identical(flat, tmp_path):
    project = tmp_path / "elsewhere" / "flatsite"
    shutil.copytree(flat.project, project)
    os.utime(project / "templates" / "home.html")  # a different mtime must not matter
    build(project, tmp_path / "dist", "--quiet", require=flat.wheel)
    for name in ("flatsite-0.3.pyz", "flatsite-0.3.tests.zip"):
        assert (tmp_path / "dist" / name).read_bytes() == (flat.dist / name).read_bytes(), name


def test_a_failing_manage_step_names_the_step_and_the_command(flat, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "django_zipserve", "build", "--quiet", "--require", str(flat.wheel)]
        + ["--manage-step", "stamp", "--output-dir", str(tmp_path / "dist")],
        cwd=flat.project,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 1
    *warnings, first = [line for line in result.stderr.splitlines() if line.startswith(("warning", "build"))]
    assert any(line.startswith("warning: platform SDKs bundled: azure-core") for line in warnings), (
        "warnings even when quiet"
    )
    assert first.startswith("build failed at step manage step 2 of 2: stamp: command failed with status ")
    assert first.endswith(" stamp")
    assert "the following arguments are required: --text" in result.stderr
    assert not (tmp_path / "dist").exists()
