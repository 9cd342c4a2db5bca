"""Turning a loaded configuration into Django settings."""

import logging
import logging.config
import sys

import pytest

from django_zipserve.conf import django_settings as ds
from tests.helpers import ProjectConfig as Demo

SECRET = "s3cret-settings-key-1234567890-abcdefghij"
TOKEN = "s3cret-settings-token-x9"
WN = ds.WHITENOISE_MIDDLEWARE
SEC = ds.SECURITY_MIDDLEWARE
COMMON = "django.middleware.common.CommonMiddleware"
SESSION = "django.contrib.sessions.middleware.SessionMiddleware"


def config_from(tmp_path, **environ):
    environ.setdefault("SECRET_KEY", SECRET)
    environ.setdefault("STATE_DIR", str(tmp_path / "state"))
    return Demo.from_sources(environ=environ)


class TestWhiteNoise:
    @pytest.mark.parametrize(
        "given, expected",
        [
            ([SEC, SESSION, COMMON], [SEC, WN, SESSION, COMMON]),
            ([SESSION, SEC, COMMON], [SESSION, SEC, WN, COMMON]),
            ([SESSION, COMMON], [SEC, WN, SESSION, COMMON]),
            ([], [SEC, WN]),
            ([WN, SEC, COMMON], [SEC, WN, COMMON]),
            ([SEC, COMMON, WN, WN], [SEC, WN, COMMON]),
            ([SEC, WN, COMMON], [SEC, WN, COMMON]),
        ],
    )
    def test_right_after_security_middleware(self, given, expected):
        original = list(given)
        assert ds.with_whitenoise(given) == expected
        assert given == original

    def test_accepts_a_tuple(self):
        assert ds.with_whitenoise((COMMON, SEC)) == [COMMON, SEC, WN]

    @pytest.mark.parametrize(
        "given, expected",
        [
            (
                ["a", "django.contrib.staticfiles", "b"],
                ["a", "whitenoise.runserver_nostatic", "django.contrib.staticfiles", "b"],
            ),
            (
                ["whitenoise.runserver_nostatic", "django.contrib.staticfiles"],
                ["whitenoise.runserver_nostatic", "django.contrib.staticfiles"],
            ),
            (["a"], ["a"]),
        ],
    )
    def test_runserver_nostatic(self, given, expected):
        assert ds.with_runserver_nostatic(given) == expected


class TestSecuritySettings:
    def test_https_in_production(self, tmp_path):
        settings = ds.security_settings(config_from(tmp_path, HTTPS="true", HSTS_SECONDS="86400"))
        assert settings["SECURE_SSL_REDIRECT"] is True
        assert settings["SESSION_COOKIE_SECURE"] is True
        assert settings["CSRF_COOKIE_SECURE"] is True
        assert settings["SECURE_HSTS_SECONDS"] == 86400
        assert settings["SECURE_REDIRECT_EXEMPT"] == [ds.HEALTH_PATH_PATTERN]
        assert settings["SECURE_CONTENT_TYPE_NOSNIFF"] is True
        assert settings["X_FRAME_OPTIONS"] == "DENY"
        assert settings["SECURE_REFERRER_POLICY"] == "same-origin"
        assert "SECURE_PROXY_SSL_HEADER" not in settings

    def test_plain_http(self, tmp_path):
        settings = ds.security_settings(config_from(tmp_path, HTTPS="false", HSTS_SECONDS="86400"))
        assert settings["SECURE_SSL_REDIRECT"] is False
        assert settings["SESSION_COOKIE_SECURE"] is False
        assert settings["CSRF_COOKIE_SECURE"] is False
        assert settings["SECURE_HSTS_SECONDS"] == 0
        assert settings["X_FRAME_OPTIONS"] == "DENY"

    def test_debug_never_redirects_or_sends_hsts(self, tmp_path):
        settings = ds.security_settings(config_from(tmp_path, HTTPS="true", DEBUG="true"))
        assert settings["SECURE_SSL_REDIRECT"] is False
        assert settings["SESSION_COOKIE_SECURE"] is False
        assert settings["SECURE_HSTS_SECONDS"] == 0

    def test_trusted_proxy_header(self, tmp_path):
        settings = ds.security_settings(config_from(tmp_path, TRUST_X_FORWARDED_PROTO="true"))
        assert settings["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")

    def test_health_pattern_matches_health_path(self):
        import re

        assert re.search(ds.HEALTH_PATH_PATTERN, "-/health/")
        assert not re.search(ds.HEALTH_PATH_PATTERN, "x-/health/")


class TestDatabaseSettings:
    def test_sqlite_in_state_dir(self, tmp_path):
        database = ds.database_settings(config_from(tmp_path))
        assert database["ENGINE"] == "django.db.backends.sqlite3"
        assert database["NAME"] == str(tmp_path / "state" / "db.sqlite3")
        assert database["CONN_MAX_AGE"] == 0
        # SQLite cannot create the directory: it exists now.
        assert (tmp_path / "state").is_dir()

    def test_postgres_url(self, tmp_path):
        # Built without from_sources: its driver check needs psycopg installed.
        config = Demo.model_validate(
            {
                "SECRET_KEY": SECRET,
                "STATE_DIR": str(tmp_path / "state"),
                "DATABASE_URL": "postgres://shop:pw-77@db.internal:6543/shopdb",
            }
        )
        database = ds.database_settings(config)
        assert database["ENGINE"] == "django.db.backends.postgresql"
        assert database["HOST"] == "db.internal"
        assert database["PORT"] == 6543
        assert database["NAME"] == "shopdb"
        assert database["USER"] == "shop"
        assert database["PASSWORD"] == "pw-77"
        assert database["CONN_MAX_AGE"] == 60
        assert database["CONN_HEALTH_CHECKS"] is True
        assert not (tmp_path / "state").exists()

    @pytest.mark.parametrize(
        "url, expected",
        [
            ("sqlite:///db.sqlite3", None),
            ("nosuchdb://u:pw-88@h/d", "unsupported URL scheme 'nosuchdb'"),
            ("pw-88", "unsupported URL scheme '(none)'"),
            ("postgres://u:pw-88@h:port/d", "malformed database URL"),
        ],
    )
    def test_database_problem(self, url, expected):
        problem = ds.database_problem(url)
        if expected is None:
            assert problem is None
        else:
            assert expected in problem
            assert "pw-88" not in problem


class TestApplyConfig:
    @pytest.fixture
    def applied(self, tmp_path):
        config = config_from(
            tmp_path,
            ALLOWED_HOSTS="shop.example, www.shop.example",
            CSRF_TRUSTED_ORIGINS='["https://shop.example"]',
            WORKERS="5",
            THREADS="2",
            TIMEOUT="40",
            WARMUP="false",
            BIND="0.0.0.0:9000",
            LOG_LEVEL="WARNING",
            MARKER="m1",
            API_TOKEN=TOKEN,
            HTTPS="false",
        )
        namespace = {
            "BASE_DIR": tmp_path / "project",
            "INSTALLED_APPS": ["django.contrib.staticfiles", "shop"],
            "MIDDLEWARE": [SEC, COMMON],
            "STORAGES": {"default": {"BACKEND": "shop.storage.Custom"}},
        }
        config.apply(namespace)
        return config, namespace

    def test_core_settings(self, applied, tmp_path):
        config, ns = applied
        assert ns["DEBUG"] is False
        assert ns["SECRET_KEY"] == SECRET
        assert ns["ALLOWED_HOSTS"] == ["shop.example", "www.shop.example"]
        assert ns["CSRF_TRUSTED_ORIGINS"] == ["https://shop.example"]
        assert ns["ZIPSERVE_STATE_DIR"] == tmp_path / "state"
        assert ns["ZIPSERVE_NAME"] == "testproject"
        assert ns["MEDIA_ROOT"] == str(tmp_path / "state" / "media")
        assert ns["STATIC_URL"] == "static/"
        assert ns["STATIC_ROOT"] == tmp_path / "project" / "static_collected"
        assert ns["SECURE_SSL_REDIRECT"] is False

    def test_database(self, applied, tmp_path):
        _, ns = applied
        assert set(ns["DATABASES"]) == {"default"}
        assert ns["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
        assert ns["DATABASES"]["default"]["NAME"] == str(tmp_path / "state" / "db.sqlite3")

    def test_static_files_and_middleware(self, applied):
        _, ns = applied
        assert ns["STORAGES"]["staticfiles"] == {"BACKEND": ds.STATIC_STORAGE}
        assert ns["STORAGES"]["default"] == {"BACKEND": "shop.storage.Custom"}
        assert ns["MIDDLEWARE"] == [SEC, WN, COMMON]
        assert ns["INSTALLED_APPS"] == ["whitenoise.runserver_nostatic", "django.contrib.staticfiles", "shop"]

    def test_logging_to_stderr(self, applied):
        _, ns = applied
        logging_config = ns["LOGGING"]
        handler = logging_config["handlers"]["stderr"]
        assert handler["class"] == "logging.StreamHandler"
        assert handler.get("stream", "ext://sys.stderr") == "ext://sys.stderr"
        assert logging_config["root"] == {"handlers": ["stderr"], "level": "WARNING"}
        assert logging_config["loggers"]["django"]["level"] == "WARNING"
        assert logging_config["loggers"]["django"]["propagate"] is False
        assert logging_config["disable_existing_loggers"] is False
        # Built as logging.config would build it, the handler writes to stderr.
        handler_class = logging.config.DictConfigurator(logging_config).resolve(handler["class"])
        arguments = {key: value for key, value in handler.items() if key not in ("class", "formatter")}
        built = handler_class(**arguments)
        try:
            assert built.stream is sys.stderr
        finally:
            built.close()
        assert handler["formatter"] in logging_config["formatters"]

    def test_server_settings(self, applied):
        _, ns = applied
        assert ns["ZIPSERVE_BIND"] == "0.0.0.0:9000"
        assert ns["ZIPSERVE_WORKERS"] == 5
        assert ns["ZIPSERVE_THREADS"] == 2
        assert ns["ZIPSERVE_TIMEOUT"] == 40
        assert ns["ZIPSERVE_WARMUP"] is False

    def test_project_fields_exported(self, applied):
        _, ns = applied
        assert ns["MARKER"] == "m1"
        assert ns["API_TOKEN"] == TOKEN
        assert type(ns["API_TOKEN"]) is str
        # Base fields become Django settings under their own names only.
        for base_field in ("WORKERS", "HTTPS", "LOG_LEVEL", "DATABASE_URL", "STATE_DIR"):
            assert base_field not in ns

    def test_unset_project_secret_exported_as_none(self, tmp_path):
        ns = {}
        ds.apply_config(config_from(tmp_path), ns)
        assert ns["API_TOKEN"] is None
        assert ns["MARKER"] == "unset"

    def test_existing_choices_are_kept(self, tmp_path):
        own_logging = {"version": 1}
        ns = {"LOGGING": own_logging, "MEDIA_ROOT": "/srv/media", "STATIC_URL": "/assets/"}
        ds.apply_config(config_from(tmp_path), ns)
        assert ns["LOGGING"] is own_logging
        assert ns["MEDIA_ROOT"] == "/srv/media"
        assert ns["STATIC_URL"] == "/assets/"
        assert ns["STORAGES"]["default"] == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
        assert ns["MIDDLEWARE"] == [SEC, WN]

    def test_debug_settings(self, tmp_path):
        ns = {}
        ds.apply_config(Demo.from_sources(environ={"DEBUG": "true", "STATE_DIR": str(tmp_path)}), ns)
        assert ns["DEBUG"] is True
        assert ns["SECRET_KEY"] == "django-insecure-testproject-debug-only"
        assert ns["SECURE_SSL_REDIRECT"] is False
