"""System checks: stable ids for what would otherwise surprise at run time."""

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
