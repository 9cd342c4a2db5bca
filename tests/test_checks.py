"""System checks: stable ids for what would otherwise surprise at run time."""

import re
import sys

import pytest
from django.core import checks as django_checks
from django.test import override_settings

from django_zipserve import checks
from django_zipserve.conf import paths
from tests.helpers import REPO


def ids(messages):
    return [message.id for message in messages]


def test_whitenoise_right_after_security_middleware_passes(django_project):
    assert checks.check_whitenoise_middleware(None) == []


def test_whitenoise_own_middleware_right_after_security_middleware_passes(django_project):
    own = [
        "django.middleware.security.SecurityMiddleware",
        "whitenoise.middleware.WhiteNoiseMiddleware",
        "django.middleware.common.CommonMiddleware",
    ]
    with override_settings(MIDDLEWARE=own):
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
    with override_settings(
        MIDDLEWARE=[checks.WHITENOISE_MIDDLEWARE, "django.middleware.security.SecurityMiddleware"]
    ):
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
        prefix = {"Error": "E", "Warning": "W", "Info": "I"}[check.level.__name__]
        assert re.fullmatch(rf"zipserve\.{prefix}\d{{3}}", check.id), check.id
        assert check.summary and check.hint


def test_every_registered_check_reports_only_declared_ids(django_project, tmp_path):
    # Provoke every check at once; whatever they report must be declared.
    from django.core.checks import run_checks

    broken = {
        "MIDDLEWARE": [],
        "ROOT_URLCONF": "tests.urls_without_health",
        "DATABASES": {"default": dict(django_project.DATABASES["default"], NAME=str(tmp_path / "no" / "db"))},
        "MEDIA_ROOT": str(REPO / "tests" / "media"),
        "LOCALE_PATHS": ["locale"],
        "WHITENOISE_MAX_AGE": 60,
        "SESSION_COOKIE_NAME": "__Secure-sessionid",
        "SESSION_COOKIE_SECURE": False,
    }
    with override_settings(**broken):
        reported = {message.id for message in run_checks(include_deployment_checks=True)}
    with override_settings(ROOT_URLCONF="tests.testproject.urls_catch_all", ZIPSERVE_MEDIA_PRIVATE=True):
        reported |= {message.id for message in run_checks()}
    ours = {id_ for id_ in reported if id_.startswith("zipserve.")}
    expected = {"zipserve.E001", "zipserve.E002", "zipserve.E005", "zipserve.E006", "zipserve.W001"}
    assert ours >= expected | {"zipserve.W002", "zipserve.W003", "zipserve.W005", "zipserve.W006"}
    assert ours <= set(checks.BY_ID)


@pytest.fixture
def extraction(tmp_path, monkeypatch):
    """An artifact's extraction, its site-packages on sys.path, as inside a zipapp."""
    site = tmp_path / "shiv" / "mysite.pyz_0123456789abcdef" / "site-packages"
    site.mkdir(parents=True)
    (site / paths.RECORD_NAME).write_text("{}")
    monkeypatch.setattr(sys, "path", [str(site), *sys.path])
    return site.parent


def test_a_writable_path_inside_the_extraction_is_e004(django_project, extraction, tmp_path):
    assert checks.check_writable_paths(None) == []
    with override_settings(MEDIA_ROOT=str(extraction / "site-packages" / "media")):
        messages = checks.check_writable_paths(None)
    assert ids(messages) == ["zipserve.E004"]
    assert "MEDIA_ROOT is " in messages[0].msg and str(extraction) in messages[0].msg
    logging = {
        "version": 1,
        "handlers": {"file": {"class": "logging.FileHandler", "filename": str(extraction / "x.log")}},
    }
    cache = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(extraction / "c"),
        }
    }
    with override_settings(LOGGING=logging, CACHES=cache, FILE_UPLOAD_TEMP_DIR=str(extraction / "tmp")):
        messages = checks.check_writable_paths(None)
    assert ids(messages) == ["zipserve.E004"] * 3
    assert "LOGGING['handlers']['file']['filename']" in messages[-1].msg


def test_a_writable_path_inside_the_source_tree_is_e005(django_project):
    # The test project's settings are in the package "tests".
    sessions = {"SESSION_ENGINE": "django.contrib.sessions.backends.file"}
    with override_settings(SESSION_FILE_PATH=str(REPO / "tests" / "sessions"), **sessions):
        messages = checks.check_writable_paths(None)
    assert ids(messages) == ["zipserve.E005"]
    assert f"inside the project's source tree {REPO / 'tests'}" in messages[0].msg
    database = dict(django_project.DATABASES["default"], NAME=str(REPO / "tests" / "db.sqlite3"))
    with override_settings(DATABASES={"default": database}):
        assert ids(checks.check_writable_paths(None)) == ["zipserve.E005"]


def test_relative_data_directories_are_w002(django_project, tmp_path):
    assert checks.check_relative_data_directories(None) == []
    templates = [
        {"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": ["templates", tmp_path]}
    ]
    relative = {
        "TEMPLATES": templates,
        "STATICFILES_DIRS": [("vendor", "assets/vendor"), str(tmp_path)],
        "LOCALE_PATHS": ["locale"],
        "FIXTURE_DIRS": [tmp_path / "fixtures"],
    }
    with override_settings(**relative):
        messages = checks.check_relative_data_directories(None)
    assert ids(messages) == ["zipserve.W002"] * 3
    assert "TEMPLATES[0]['DIRS'] has the relative directory 'templates'" in messages[0].msg
    assert "'assets/vendor'" in messages[1].msg


@pytest.mark.parametrize(
    "overrides",
    [
        {"WHITENOISE_IMMUTABLE_FILE_TEST": r"^/static/vendor/"},
        {"WHITENOISE_IMMUTABLE_FILE_TEST": lambda path, url: url.endswith(".woff2")},
        {"WHITENOISE_IMMUTABLE_FILE_TEST": lambda path, url: 1 / 0},
        {"WHITENOISE_MAX_AGE": 60},
        {"STORAGES": {"staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}},
    ],
    ids=["regex", "callable", "raises", "max-age", "storage"],
)
def test_settings_that_defeat_caching_are_w003(django_project, overrides):
    assert checks.check_static_caching(None) == []
    with override_settings(**overrides):
        assert ids(checks.check_static_caching(None)) == ["zipserve.W003"]


@pytest.mark.parametrize(
    "overrides",
    [
        # A project's own test that adds immutable files and keeps ours.
        {"WHITENOISE_IMMUTABLE_FILE_TEST": r"(^/static/vendor/|\.[0-9a-f]{12}\.)"},
        {"WHITENOISE_MAX_AGE": 86400},
        {
            "STORAGES": {
                "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}
            }
        },
    ],
)
def test_settings_that_keep_caching_are_fine(django_project, overrides):
    with override_settings(**overrides):
        assert checks.check_static_caching(None) == []


def test_a_health_url_behind_a_catch_all_is_e006(django_project):
    with override_settings(ROOT_URLCONF="tests.testproject.urls_catch_all"):
        messages = checks.check_health_url(None)
    assert ids(messages) == ["zipserve.E006"]
    assert messages[0].msg == "GET /-/health/ reaches tests.testproject.views.page, not the health view."
    assert 'include("django_zipserve.urls")) first in urlpatterns' in messages[0].hint


def test_private_files_inside_the_served_media_root_are_e007(django_project, tmp_path):
    assert checks.check_private_files_in_media(None) == []
    state = django_project.ZIPSERVE_STATE_DIR
    # MEDIA_ROOT set to the state directory: the database is one download away.
    with override_settings(MEDIA_ROOT=str(state)):
        messages = checks.check_private_files_in_media(None)
    assert ids(messages) == ["zipserve.E007"] * 2
    assert messages[0].msg == f"ZIPSERVE_STATE_DIR is {state}, inside {state}, which is served at /media/."
    assert messages[1].msg.startswith(f"DATABASES['default']['NAME'] is {state / 'db.sqlite3'}, inside")
    with override_settings(
        FILE_UPLOAD_TEMP_DIR=str(tmp_path / "media" / "tmp"), MEDIA_ROOT=str(tmp_path / "media")
    ):
        assert ids(checks.check_private_files_in_media(None)) == ["zipserve.E007"]
    # Not served from here: nothing to fear.
    remote = {"default": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}
    with override_settings(MEDIA_ROOT=str(state), STORAGES={**django_project.STORAGES, **remote}):
        assert checks.check_private_files_in_media(None) == []


@pytest.mark.parametrize(
    "overrides, problem",
    [
        ({"MEDIA_URL": "/static/"}, "MEDIA_URL (/static/) is STATIC_URL (/static/) or inside it."),
        (
            {"MEDIA_URL": "/static/uploads/"},
            "MEDIA_URL (/static/uploads/) is STATIC_URL (/static/) or inside it.",
        ),
        (
            {"STATIC_ROOT": "{state}"},
            "MEDIA_ROOT ({state}/media) and STATIC_ROOT ({state}) are one directory",
        ),
        ({"STATIC_ROOT": "{state}/media"}, "MEDIA_ROOT ({state}/media) and STATIC_ROOT ({state}/media) are"),
        ({"STATIC_ROOT": "{state}/media/static"}, "MEDIA_ROOT ({state}/media) and STATIC_ROOT"),
    ],
    ids=["same-url", "url-inside", "root-inside-static", "same-root", "static-inside-media"],
)
def test_uploads_overlapping_static_files_are_w004(django_project, overrides, problem):
    assert checks.check_media_static_overlap(None) == []
    state = str(django_project.ZIPSERVE_STATE_DIR)
    with override_settings(**{name: value.format(state=state) for name, value in overrides.items()}):
        messages = checks.check_media_static_overlap(None)
    assert ids(messages) == ["zipserve.W004"]
    assert messages[0].msg.startswith(problem.format(state=state))


def test_separate_uploads_and_static_files_are_fine(django_project, tmp_path):
    separate = {"MEDIA_URL": "/staticky/", "STATIC_ROOT": str(tmp_path / "static"), "STATIC_URL": "/static/"}
    with override_settings(**separate):
        assert checks.check_media_static_overlap(None) == []


# -- who serves uploads -------------------------------------------------------

PRIVATE_URLS = "tests.testproject.urls_private_media"  # media/<path:path>, behind a login
PART_URLS = "tests.testproject.urls_private_part"  # media/private/<path:path>, behind a login
CATCH_ALL_URLS = "tests.testproject.urls_catch_all"


def who_serves_uploads():
    """Both checks' messages: the deployment one (who) and the other (a private nobody serves)."""
    return checks.check_who_serves_uploads(None) + checks.check_private_uploads_reachable(None)


@pytest.mark.parametrize("urlconf", ["tests.testproject.urls", CATCH_ALL_URLS])
def test_uploads_the_middleware_serves_are_i001(django_project, urlconf):
    with override_settings(ROOT_URLCONF=urlconf):
        messages = who_serves_uploads()
    assert ids(messages) == ["zipserve.I001"]
    assert messages[0].msg == "Uploads at /media/ are served by MediaMiddleware to anyone: no access control."
    assert "ZIPSERVE_MEDIA_PRIVATE = True" in messages[0].hint
    # Not a warning: public uploads are the usual case, and a deployment that
    # fails on warnings (check --deploy --fail-level WARNING) must pass.
    assert messages[0].level == django_checks.INFO


def test_a_private_folder_is_named_in_i001(django_project):
    with override_settings(ZIPSERVE_MEDIA_PRIVATE_FOLDERS=["documents"]):
        messages = who_serves_uploads()
    assert messages[0].msg == (
        "Uploads at /media/ are served by MediaMiddleware to anyone: no access control; never under "
        "/media/documents/ (an application's own view serves them)."
    )


def test_uploads_the_project_routes_itself_are_i002(django_project):
    with override_settings(ROOT_URLCONF=PRIVATE_URLS):
        messages = who_serves_uploads()
    assert ids(messages) == ["zipserve.I002"]
    assert messages[0].msg == (
        "Uploads under /media/ are served by the project's URL pattern 'media/<path:path>' "
        "(tests.testproject.urls_private_media.protected_upload): MediaMiddleware stands aside."
    )
    assert messages[0].level == django_checks.INFO


def test_a_part_of_the_uploads_the_project_routes_is_i002_and_the_rest_i001(django_project):
    with override_settings(ROOT_URLCONF=PART_URLS):
        messages = who_serves_uploads()
    assert ids(messages) == ["zipserve.I002", "zipserve.I001"]
    assert messages[0].msg == (
        "Uploads under /media/private/ are served by the project's URL pattern 'media/private/<path:path>' "
        "(tests.testproject.urls_private_media.protected_upload): MediaMiddleware stands aside for them."
    )
    assert messages[1].msg == (
        "Uploads at /media/ are served by MediaMiddleware to anyone: no access control (except under "
        "/media/private/: the project's own URL patterns)."
    )


def test_declared_private_uploads_that_no_pattern_routes_are_w005(django_project):
    for urlconf in ("tests.testproject.urls", CATCH_ALL_URLS):
        with override_settings(ZIPSERVE_MEDIA_PRIVATE=True, ROOT_URLCONF=urlconf):
            messages = who_serves_uploads()
        assert ids(messages) == ["zipserve.W005"], urlconf
    assert messages[0].msg == (
        "ZIPSERVE_MEDIA_PRIVATE is True, but no URL pattern routes /media/ or a part under it to a view: "
        "nothing serves uploads."
    )
    assert not messages[0].is_serious()  # a warning: the site runs, its uploads are unreachable


def test_declared_private_uploads_the_project_routes_are_i002(django_project):
    with override_settings(ZIPSERVE_MEDIA_PRIVATE=True, ROOT_URLCONF=PRIVATE_URLS):
        messages = who_serves_uploads()
    assert ids(messages) == ["zipserve.I002"]
    assert messages[0].msg.endswith("MediaMiddleware stands aside (ZIPSERVE_MEDIA_PRIVATE = True).")


@pytest.mark.parametrize(
    "overrides",
    [
        {"STORAGES": {"default": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}},
        {"MIDDLEWARE": ["django.middleware.security.SecurityMiddleware"]},
    ],
    ids=["object-storage", "no-media-middleware"],
)
def test_uploads_the_middleware_does_not_serve_are_not_reported(django_project, overrides):
    with override_settings(ZIPSERVE_MEDIA_PRIVATE=True, **overrides):
        assert who_serves_uploads() == []


def test_who_serves_uploads_is_a_deployment_check(django_project):
    from django.core.checks import run_checks

    assert "zipserve.I001" not in ids(run_checks())
    assert "zipserve.I001" in ids(run_checks(include_deployment_checks=True))


@pytest.mark.parametrize(
    ("cookies", "expected"),
    [
        # cookiecutter-django's names, served over plain HTTP: nobody can log in.
        (
            {"SESSION_COOKIE_NAME": "__Secure-sessionid", "CSRF_COOKIE_NAME": "__Secure-csrftoken"},
            [
                "SESSION_COOKIE_NAME is '__Secure-sessionid' but SESSION_COOKIE_SECURE is False.",
                "CSRF_COOKIE_NAME is '__Secure-csrftoken' but CSRF_COOKIE_SECURE is False.",
            ],
        ),
        (
            {"CSRF_COOKIE_NAME": "__Host-csrftoken"},
            ["CSRF_COOKIE_NAME is '__Host-csrftoken' but CSRF_COOKIE_SECURE is False."],
        ),
        ({"SESSION_COOKIE_NAME": "__Secure-sessionid", "SESSION_COOKIE_SECURE": True}, []),
        ({"SESSION_COOKIE_NAME": "sessionid"}, []),
    ],
)
def test_secure_only_cookie_names_without_https_are_w006(django_project, cookies, expected):
    settings_under_test = {"SESSION_COOKIE_SECURE": False, "CSRF_COOKIE_SECURE": False, **cookies}
    with override_settings(**settings_under_test):
        found = checks.check_secure_only_cookie_names(None)
    assert [message.msg for message in found] == expected
    assert {message.id for message in found} <= {"zipserve.W006"}
