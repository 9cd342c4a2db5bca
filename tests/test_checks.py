"""System checks: stable ids for what would otherwise surprise at run time."""

import re

from django.test import override_settings

from django_zipserve import checks


def ids(messages):
    return [message.id for message in messages]


def test_whitenoise_right_after_security_middleware_passes(django_project):
    assert checks.check_whitenoise_middleware(None) == []


def test_whitenoise_missing_or_misplaced_is_e001(django_project):
    with override_settings(MIDDLEWARE=["django.middleware.security.SecurityMiddleware"]):
        assert ids(checks.check_whitenoise_middleware(None)) == ["zipserve.E001"]
    misplaced = [
        "django.middleware.security.SecurityMiddleware",
        "django.middleware.common.CommonMiddleware",
        "whitenoise.middleware.WhiteNoiseMiddleware",
    ]
    with override_settings(MIDDLEWARE=misplaced):
        assert ids(checks.check_whitenoise_middleware(None)) == ["zipserve.E001"]


def test_unwritable_sqlite_directory_is_e002(django_project, tmp_path):
    assert checks.check_sqlite_directory(None) == []
    missing = tmp_path / "missing" / "db.sqlite3"
    database = dict(django_project.DATABASES["default"], NAME=str(missing))
    with override_settings(DATABASES={"default": database}):
        assert ids(checks.check_sqlite_directory(None)) == ["zipserve.E002"]


def test_static_files_not_collected_is_e003(django_project, tmp_path):
    from django.contrib.staticfiles.storage import staticfiles_storage

    from django_zipserve.storage import ZipserveStaticFilesStorage

    with override_settings(STATIC_ROOT=str(tmp_path)):
        staticfiles_storage._wrapped = ZipserveStaticFilesStorage()
        assert ids(checks.check_static_collected(None)) == ["zipserve.E003"]
        (tmp_path / "staticfiles.json").write_text('{"paths": {}, "version": "1.1"}')
        staticfiles_storage._wrapped = ZipserveStaticFilesStorage()
        assert checks.check_static_collected(None) == []


def test_health_url_not_included_is_w001(django_project):
    assert checks.check_health_url(None) == []
    with override_settings(ROOT_URLCONF="tests.urls_without_health"):
        assert ids(checks.check_health_url(None)) == ["zipserve.W001"]


def test_every_check_is_declared_once_with_a_stable_id():
    ids_declared = [check.id for check in checks.CHECKS]
    assert len(ids_declared) == len(set(ids_declared))
    for check in checks.CHECKS:
        prefix = {"Error": "E", "Warning": "W"}[check.level.__name__]
        assert re.fullmatch(rf"zipserve\.{prefix}\d{{3}}", check.id), check.id
        assert check.summary and check.hint


def test_every_registered_check_reports_only_declared_ids(django_project, tmp_path):
    # Provoke every check at once; whatever they report must be declared.
    from django.core.checks import run_checks

    broken = {
        "MIDDLEWARE": [],
        "ROOT_URLCONF": "tests.urls_without_health",
        "DATABASES": {"default": dict(django_project.DATABASES["default"], NAME=str(tmp_path / "no" / "db"))},
    }
    with override_settings(**broken):
        reported = {message.id for message in run_checks(include_deployment_checks=True)}
    ours = {id_ for id_ in reported if id_.startswith("zipserve.")}
    assert ours >= {"zipserve.E001", "zipserve.E002", "zipserve.W001"}
    assert ours <= set(checks.BY_ID)
