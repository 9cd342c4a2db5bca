"""The ``exclude`` build setting: which files a glob leaves out, and the
refusal of a glob that matches a module the site imports when it starts
(found by a real process of the installed copy, with the real Django)."""

import argparse
import os
import shutil
from pathlib import Path

import asgiref
import django
import pytest
import sqlparse

from django_zipserve.zipapp import exclude
from django_zipserve.zipapp.build import exclude_files
from django_zipserve.zipapp.steps import StepFailed


@pytest.mark.parametrize(
    ("glob", "path", "matches"),
    [
        ("plotly/**/jupyterlab*", "plotly/package_data/jupyterlab_plotly", True),
        ("plotly/**/jupyterlab*", "plotly/jupyterlab", True),
        ("plotly/**/jupyterlab*", "plotly/io/_jupyter.py", False),
        ("*/tests", "numpy/tests", True),
        ("*/tests", "numpy/core/tests", False),
        ("**/tests", "numpy/core/tests", True),
        ("pandas/io/*.py", "pandas/io/sql.py", True),
        ("pandas/io/*.py", "pandas/io/formats/html.py", False),
        ("data?.bin", "data1.bin", True),
        ("a.b", "axb", False),  # a dot is a dot
    ],
)
def test_glob(glob, path, matches):
    assert bool(exclude.pattern(glob).match(path)) is matches


def a_site(root):
    """site-packages with big data in two packages, tests of a third."""
    site = root / "site-packages"
    files = [
        "plotly/__init__.py",
        "plotly/package_data/jupyterlab_plotly/index.js",
        "plotly/package_data/jupyterlab_plotly/lib/x.js",
        "plotly/io/__init__.py",
        "numpy/__init__.py",
        "numpy/tests/test_a.py",
        "numpy/core/tests/test_b.py",
    ]
    for name in files:
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_bytes(b"x" * 1000)
    return site


def test_a_folder_that_matches_goes_whole_and_empty_folders_with_it(tmp_path):
    site = a_site(tmp_path)
    found = exclude.matched_files(site, ["plotly/**/jupyterlab*", "*/tests", "nothing/*"])
    assert found == {
        "plotly/**/jupyterlab*": [
            "plotly/package_data/jupyterlab_plotly/index.js",
            "plotly/package_data/jupyterlab_plotly/lib/x.js",
        ],
        "*/tests": ["numpy/tests/test_a.py"],
        "nothing/*": [],
    }
    removed = exclude.remove(site, found)
    assert removed == {"plotly/**/jupyterlab*": (2, 2000), "*/tests": (1, 1000), "nothing/*": (0, 0)}
    left = sorted(path.relative_to(site).as_posix() for path in site.rglob("*"))
    assert left == [
        "numpy",
        "numpy/__init__.py",
        "numpy/core",
        "numpy/core/tests",
        "numpy/core/tests/test_b.py",
        "plotly",
        "plotly/__init__.py",
        "plotly/io",
        "plotly/io/__init__.py",
    ]


SETTINGS = """
SECRET_KEY = "exclude-test-key-not-a-secret-0123456789"  # zipserve: not-a-secret
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth"]
ROOT_URLCONF = "tinysite.urls"
"""


def installed_copy(root):
    """An installed copy with the real Django and a tiny project: what the
    build has in site-packages when it leaves files out."""
    site = root / "site-packages"
    for package in (django, asgiref, sqlparse):  # Django and what it needs
        folder = Path(package.__file__).parent
        shutil.copytree(folder, site / folder.name, ignore=shutil.ignore_patterns("__pycache__"))
    (site / "tinysite").mkdir()
    (site / "tinysite" / "__init__.py").write_text("")
    (site / "tinysite" / "settings.py").write_text(SETTINGS)
    (site / "tinysite" / "urls.py").write_text("urlpatterns = []\n")
    return site


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """One installed copy for the tests below: the refusal removes nothing,
    and what the other leaves out, the refusal does not need."""
    return installed_copy(tmp_path_factory.mktemp("installed"))


def options(site, globs):
    return argparse.Namespace(settings="tinysite.settings", exclude=globs, quiet=True)


def test_a_glob_that_matches_a_module_the_start_imports_is_refused(site):
    with pytest.raises(StepFailed) as refused:
        exclude_files(options(site, ["django/contrib/auth/**"]), site, dict(os.environ))
    message = str(refused.value)
    assert message.startswith("exclude would leave out modules the site imports when it starts: ")
    assert "'django/contrib/auth/**' matches django/contrib/auth/" in message
    assert (site / "django" / "contrib" / "auth" / "models.py").is_file(), "nothing was removed"


def test_what_the_start_does_not_import_is_left_out(site):
    removed = exclude_files(
        options(site, ["django/contrib/gis", "django/contrib/auth/tests*"]), site, dict(os.environ)
    )
    assert removed["django/contrib/gis"][0] > 100
    assert not (site / "django" / "contrib" / "gis").exists()
    assert (site / "django" / "contrib" / "auth" / "models.py").is_file()
