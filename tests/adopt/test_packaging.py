"""What init writes works: setuptools accepts the merged pyproject.toml and
packages every app's templates and static files; the production settings
import and serve the health view."""

import json
import subprocess
import sys

import pytest

from django_zipserve.conf import ZipserveConfig
from tests.adopt.util import FIXTURES, python_path, write
from tests.helpers import REPO, TEST_SECRET_KEY, clean_environ

#: Files of each project that its wheel must hold: every package's templates
#: and static files, and what init wrote. (Root-level data directories are
#: the build's job, not the wheel's.)
IN_THE_WHEEL = {
    "settings_package": [
        "mysite/pages/templates/pages/home.html",
        "mysite/pages/templates/pages/upload.html",
        "mysite/templates/base.html",
        "mysite/static/mysite/site.css",
        "mysite/pages/migrations/0001_initial.py",
        "mysite/settings/production.py",
        "mysite/__main__.py",
        "mysite/zipserve_settings.py",
        "mysite/zipserve_urls.py",
    ],
    "catchall": [
        "config/__main__.py",
        "config/zipserve_settings.py",
        "config/zipserve_urls.py",
        "pages/views.py",
        "pages/migrations/0001_initial.py",
        "shop/urls.py",
        "shop/migrations/0001_initial.py",
    ],
    "many_apps": [
        "hc/accounts/templates/accounts/profile.html",
        "hc/front/templates/front/welcome.html",
        "hc/front/static/front/src/base.css",
        "hc/front/static/front/src/checks.css",
        "hc/front/management/commands/bundle.py",
        "hc/api/migrations/0001_initial.py",
        "hc/__main__.py",
        "hc/zipserve_settings.py",
    ],
    "cookiecutter_shaped": [
        "bookshelf/templates/pages/home.html",
        "bookshelf/static/css/project.css",
        "bookshelf/books/migrations/0001_initial.py",
        "bookshelf/conftest.py",
        "bookshelf/users/tests/test_models.py",
        "config/settings/production.py",
        "config/__main__.py",
        "config/zipserve_settings.py",
        "config/zipserve_urls.py",
    ],
    "src_layout": [
        "blog/posts/migrations/0001_initial.py",
        "blog/__main__.py",
        "blog/zipserve_settings.py",
        "blog/zipserve_urls.py",
    ],
}
SCRIPTS = {
    "settings_package": "mysite",
    "catchall": "catchall",
    "many_apps": "hc",
    "src_layout": "blog",
    "cookiecutter_shaped": "bookshelf",
}


@pytest.mark.parametrize("name", FIXTURES)
def test_setuptools_packages_every_app(adopted, tmp_path, name):
    project = adopted(name)
    target = tmp_path / "installed"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--disable-pip-version-check"]
        + ["--no-input", "--target", str(target), str(project)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    installed = {path.relative_to(target).as_posix() for path in target.rglob("*") if path.is_file()}
    missing = [path for path in IN_THE_WHEEL[name] if path not in installed]
    assert not missing, sorted(installed)
    # Every file of the project's packages is installed: templates, static files, code.
    source = project / "src" if (project / "src").is_dir() else project
    packages = [path for path in source.iterdir() if (path / "__init__.py").is_file()]
    shipped = {
        path.relative_to(source).as_posix()
        for package in packages
        for path in package.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert shipped <= installed, sorted(shipped - installed)
    entry_points = next(target.glob("*.dist-info")) / "entry_points.txt"
    script = SCRIPTS[name]
    package = (
        IN_THE_WHEEL[name][-1].split("/")[0] if name not in ("catchall", "cookiecutter_shaped") else "config"
    )
    assert f"{script} = {package}.__main__:main" in entry_points.read_text()


needs_export = pytest.mark.skipif(
    not hasattr(ZipserveConfig, "export_environment"),
    reason="ZipserveConfig.export_environment() is not there yet (django_zipserve/conf)",
)

PROBE = """
import json, django
from django.conf import settings
from django.test import Client
django.setup()
response = Client().get("/-/health/")
print(json.dumps({
    "ROOT_URLCONF": settings.ROOT_URLCONF,
    "INSTALLED_APPS": list(settings.INSTALLED_APPS),
    "health": response.status_code,
    "MEDIA_ROOT": str(settings.MEDIA_ROOT),
    "SECRET_KEY": settings.SECRET_KEY,
    "SITE_NAME": getattr(settings, "SITE_NAME", None),
    "EMAIL_HOST_PASSWORD": getattr(settings, "EMAIL_HOST_PASSWORD", None),
}, default=str))
"""


def probe(project, package, tmp_path, config=None, **environ):
    env = clean_environ(
        PYTHONPATH=f"{python_path(project)}:{REPO}",
        DJANGO_SETTINGS_MODULE=f"{package}.zipserve_settings",
        HTTPS="false",
        STATE_DIR=tmp_path / "state",
        HOME=tmp_path,
        **environ,
    )
    if config:
        env[f"{package.upper()}_CONFIG"] = str(write(tmp_path / "config.json", json.dumps(config)))
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@needs_export
@pytest.mark.parametrize(("name", "package"), [("settings_package", "mysite"), ("catchall", "config")])
def test_the_production_settings_serve_the_health_view_first(adopted, tmp_path, name, package):
    project = adopted(name)
    settings = probe(project, package, tmp_path, SECRET_KEY=TEST_SECRET_KEY, ALLOWED_HOSTS="testserver")
    # The catch-all page tree would answer /-/health/ if it came first.
    assert settings["health"] == 200
    assert settings["ROOT_URLCONF"] == f"{package}.zipserve_urls"
    assert settings["INSTALLED_APPS"].count("django_zipserve") == 1
    assert settings["MEDIA_ROOT"] == str(tmp_path / "state" / "media")
    assert settings["SECRET_KEY"] == TEST_SECRET_KEY


@needs_export
def test_the_configuration_reaches_the_variables_the_settings_read(adopted, tmp_path):
    project = adopted("many_apps")
    config = {
        "SECRET_KEY": TEST_SECRET_KEY,
        "ALLOWED_HOSTS": ["testserver"],
        "EMAIL_HOST_PASSWORD": "hunter2",
    }
    settings = probe(project, "hc", tmp_path / "a", config=config)
    # Not in the file: the project's own default stands.
    assert settings["SITE_NAME"] == "Mychecks"
    assert settings["EMAIL_HOST_PASSWORD"] == "hunter2"
    assert settings["health"] == 200
    settings = probe(project, "hc", tmp_path / "b", config={**config, "SITE_NAME": "From the file"})
    assert settings["SITE_NAME"] == "From the file"
