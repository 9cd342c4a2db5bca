"""A small Django project in the usual flat layout, as real projects have it
and the example does not: ``templates/`` and ``static/`` at the repository
root beside the package, ``BASE_DIR`` the repository root, a requirements
file, a management command run at build time, and tests that need packages
the site does not (one with compiled code, one local)."""

import json
import textwrap
from pathlib import Path

SETTINGS = '''
from pathlib import Path

from django_zipserve.conf import ZipserveConfig

# The repository root: templates/ and static/ sit beside the package.
BASE_DIR = Path(__file__).resolve().parent.parent


class Config(ZipserveConfig):
    """Configuration of flatsite."""

    model_config = {"file_env_var": "FLATSITE_CONFIG", "default_files": []}
    name = "flatsite"


config = Config.load()

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.staticfiles",
    "django_zipserve",
    "flatsite",
]
MIDDLEWARE = ["django.middleware.security.SecurityMiddleware", "django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "flatsite.urls"
WSGI_APPLICATION = "flatsite.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
    }
]
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
LANGUAGE_CODE = "en-us"
LANGUAGES = [("en", "English")]
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

config.apply(globals())
'''

# What a front-end build or django-compressor's `compress` would do: write
# into STATIC_ROOT, which the artifact then serves.
STAMP_COMMAND = """
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    def add_arguments(self, parser):
        parser.add_argument("--text", required=True)

    def handle(self, *args, text, **options):
        target = Path(settings.STATIC_ROOT) / "CACHE" / "stamp.txt"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
"""

TESTS = """
import time_machine
import zipserve_testhelper
from django.test import SimpleTestCase


class NeedsTestOnlyPackages(SimpleTestCase):
    def test_local_helper(self):
        self.assertEqual(zipserve_testhelper.VALUE, 42)

    def test_time_machine_with_its_compiled_module(self):
        import datetime

        with time_machine.travel(datetime.datetime(2001, 2, 3, tzinfo=datetime.timezone.utc)):
            self.assertEqual(datetime.date.today().year, 2001)
"""

MAIN = """
from django_zipserve.entrypoint import make_main

main = make_main("flatsite.settings")

if __name__ == "__main__":
    main()
"""

URLS = """
from django.urls import include, path

urlpatterns = [path("", include("django_zipserve.urls"))]
"""

WSGI = """
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flatsite.settings")
application = get_wsgi_application()
"""

# Like an app's check that builds the whole API schema and runs the views'
# querysets (drf-spectacular's, on NetBox): it needs the site's database,
# which the build machine does not have; it is registered without a tag.
CHECKS = """
from django.core import checks
from django.db import DatabaseError, connection


@checks.register(deploy=True)
def migrated_database(app_configs, **kwargs):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM django_migrations")
    except DatabaseError as exc:
        return [checks.Error(f"the database is not migrated: {exc}", id="flatsite.E001")]
    return []
"""

APPS = """
from django.apps import AppConfig


class FlatsiteConfig(AppConfig):
    name = "flatsite"

    def ready(self):
        from . import checks  # noqa: F401
"""

#: What the project's shell step writes into the source copy: a built bundle,
#: in a folder named like those the build leaves out of other copies.
BUILT_ASSET = "dist/app.js"


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))


def toml_list(items):
    return json.dumps(list(items))


#: The package's files, by path relative to the project root.
PACKAGE_FILES = {
    "templates/home.html": "<h1>{{ greeting }} from the root templates</h1>\n",
    "static/site.css": "body { color: #123456; }\n",
    "flatsite/__init__.py": "",
    "flatsite/__main__.py": MAIN,
    "flatsite/settings.py": SETTINGS,
    "flatsite/urls.py": URLS,
    "flatsite/wsgi.py": WSGI,
    "flatsite/apps.py": APPS,
    "flatsite/checks.py": CHECKS,
    "flatsite/management/__init__.py": "",
    "flatsite/management/commands/__init__.py": "",
    "flatsite/management/commands/stamp.py": STAMP_COMMAND,
}


def write_flat_project(root, tool=None, requirements=("Django>=4.2",), with_tests=True):
    """The project in ``root``; ``tool`` holds [tool.django-zipserve] keys
    (lists as Python lists). Returns ``root``."""
    root = Path(root)
    lines = [
        f"{key} = {toml_list(value) if isinstance(value, (list, tuple)) else json.dumps(value)}"
        for key, value in (tool or {}).items()
    ]
    write(
        root / "pyproject.toml",
        '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n\n'
        '[project]\nname = "flatsite"\nversion = "0.3"\ndependencies = ["django-zipserve"]\n\n'
        '[tool.setuptools.packages.find]\ninclude = ["flatsite*"]\n\n'
        "[tool.django-zipserve]\n" + "".join(f"{line}\n" for line in lines),
    )
    if requirements:
        write(root / "requirements.txt", "".join(f"{line}\n" for line in requirements))
    for relative, text in PACKAGE_FILES.items():
        write(root / relative, text)
    if with_tests:
        write(root / "flatsite" / "tests.py", TESTS)
        write_test_helper(root / "testhelper")
    return root


def write_test_helper(root):
    """A local distribution only the tests use; it depends on Django, which
    the artifact already has (the sidecar must not carry it again)."""
    write(
        root / "pyproject.toml",
        '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n\n'
        '[project]\nname = "zipserve-testhelper"\nversion = "1.0"\ndependencies = ["Django"]\n\n'
        '[tool.setuptools]\npy-modules = ["zipserve_testhelper"]\n',
    )
    write(root / "zipserve_testhelper.py", "VALUE = 42\n")
