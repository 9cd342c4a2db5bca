"""The health view and the checks behind it."""

import json
import sys

import pytest
from django.test import Client

from django_zipserve import health
from django_zipserve.conf import paths
from django_zipserve.zipapp import artifact


@pytest.fixture
def fresh_release():
    """The release is read once per process: read it again around a test."""
    health.release.cache_clear()
    yield
    health.release.cache_clear()


def get_health():
    response = Client().get("/-/health/", HTTP_HOST="localhost")
    return response, json.loads(response.content)


def test_health_answers_200_with_json(django_project, fresh_release):
    response, body = get_health()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert body["checks"]["database"] == {"default": "ok"}
    assert body["version"] == "0.0.1"
    assert "no-cache" in response["Cache-Control"]


def test_outside_an_artifact_the_release_is_the_projects_version(django_project, fresh_release):
    _, body = get_health()
    assert body["release"] == {"version": "0.0.1", "build_id": None, "commit": None}


def test_inside_an_artifact_the_release_comes_from_its_build_record(
    django_project, fresh_release, tmp_path, monkeypatch
):
    site = tmp_path / "mysite.pyz_6d1f0c2a9b3e4f5d" / "site-packages"
    site.mkdir(parents=True)
    record = {"version": "1.4.0", "build_id": "6d1f0c2a9b3e4f5d", "commit": "3f2a1c9", "python": "3.11"}
    (site / paths.RECORD_NAME).write_text(json.dumps(record))
    monkeypatch.setattr(sys, "path", [str(site), *sys.path])
    monkeypatch.setenv("ZIPSERVE_INSTANCE", "green")
    _, body = get_health()
    assert body["release"] == {"version": "1.4.0", "build_id": "6d1f0c2a9b3e4f5d", "commit": "3f2a1c9"}
    assert body["version"] == "1.4.0"
    assert body["instance"] == "green"


def test_the_version_of_a_settings_package_is_its_projects():
    # mysite/settings/production.py: mysite.settings has no __version__, mysite has.
    assert artifact.project_version("tests.testproject.settings") == "0.0.1"
    assert artifact.project_version("tests.testproject.no_such.settings.production") == "0.0.1"
    # No __version__ anywhere: the version of the distribution that installed it.
    from importlib.metadata import version

    assert artifact.project_version("whitenoise.settings") == version("whitenoise")
    assert artifact.project_version("no_such_package.settings") is None


# The 503 answer is exercised end to end: a release whose database cannot be
# opened refuses to start (tests/test_artifact.py).


def test_health_refuses_unsafe_methods(django_project):
    assert Client().post("/-/health/", HTTP_HOST="localhost").status_code == 405
