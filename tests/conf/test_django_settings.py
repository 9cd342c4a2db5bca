"""Turning a loaded configuration into Django settings."""

import logging
import logging.config
import sys

import pytest

from django_zipserve.conf import django_settings as ds
from tests.helpers import REPO
from tests.helpers import ProjectConfig as Demo

SECRET = "s3cret-settings-key-1234567890-abcdefghij"
TOKEN = "s3cret-settings-token-x9"
WN = ds.WHITENOISE_MIDDLEWARE
WN_OWN = ds.WHITENOISE_OWN_MIDDLEWARE
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
            # WhiteNoise's own class gives way to ours, which shares its file index.
            ([SEC, WN_OWN, COMMON], [SEC, WN, COMMON]),
            ([WN_OWN, SEC, WN, COMMON], [SEC, WN, COMMON]),
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
        assert ns["MEDIA_URL"] == "media/"
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
        assert ns["MIDDLEWARE"] == [SEC, WN, ds.MEDIA_MIDDLEWARE, COMMON]
        # django_zipserve is added when missing: its commands and checks.
        assert ns["INSTALLED_APPS"] == [
            "whitenoise.runserver_nostatic",
            "django.contrib.staticfiles",
            "shop",
            "django_zipserve",
        ]

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

    def test_defaults_keep_the_projects_own_values(self, tmp_path):
        ns = {
            "STATIC_URL": "/assets/",
            "STATIC_ROOT": "/srv/static",
            "TEST_RUNNER": "shop.runner.Runner",
            "X_FRAME_OPTIONS": "SAMEORIGIN",
            "SECURE_REFERRER_POLICY": "strict-origin",
        }
        ds.apply_config(config_from(tmp_path), ns)
        assert ns["STATIC_URL"] == "/assets/"
        assert ns["STATIC_ROOT"] == "/srv/static"
        assert ns["TEST_RUNNER"] == "shop.runner.Runner"
        # A CMS toolbar frames the site's own pages.
        assert ns["X_FRAME_OPTIONS"] == "SAMEORIGIN"
        assert ns["SECURE_REFERRER_POLICY"] == "strict-origin"
        assert ns["STORAGES"]["default"] == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
        assert ns["MIDDLEWARE"] == [SEC, WN, ds.MEDIA_MIDDLEWARE]

    def test_media_root_is_always_in_the_state_directory(self, tmp_path):
        # A project's BASE_DIR / "media" is inside the extraction of a zipapp.
        ns = {"MEDIA_ROOT": str(tmp_path / "project" / "media")}
        ds.apply_config(config_from(tmp_path), ns)
        assert ns["MEDIA_ROOT"] == str(tmp_path / "state" / "media")

    def test_debug_settings(self, tmp_path):
        ns = {}
        ds.apply_config(Demo.from_sources(environ={"DEBUG": "true", "STATE_DIR": str(tmp_path)}), ns)
        assert ns["DEBUG"] is True
        assert ns["SECRET_KEY"] == "django-insecure-testproject-debug-only"
        assert ns["SECURE_SSL_REDIRECT"] is False


# -- the contract: every setting apply() touches is declared with its policy --


def changed_settings(before, after):
    """Names whose value apply() added, replaced or removed."""
    names = {name for name in after if name not in before or after[name] != before[name]}
    return names | {name for name in before if name not in after}


def everything_a_project_may_set(tmp_path):
    """A settings namespace that sets a value for every setting apply()
    declares, and a few it does not touch."""
    return {
        "BASE_DIR": tmp_path / "project",
        "DEBUG": True,
        "SECRET_KEY": "the project's own",
        "ALLOWED_HOSTS": ["*"],
        "DATABASES": {
            "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"},
            "other": {"ENGINE": "django.db.backends.sqlite3", "NAME": "other.sqlite3"},
        },
        "MEDIA_ROOT": "media",
        "CACHES": {"default": {"BACKEND": ds.FILE_BASED_CACHE, "LOCATION": "cache"}},
        "SESSION_FILE_PATH": "sessions",
        "LOGGING": {
            "version": 1,
            "handlers": {"file": {"class": "logging.FileHandler", "filename": "x.log"}},
        },
        "DEFAULT_FILE_STORAGE": "shop.storage.Custom",
        "STATICFILES_STORAGE": "shop.storage.Static",
        "MIDDLEWARE": [COMMON],
        "INSTALLED_APPS": ["django.contrib.staticfiles"],
        "TEMPLATES": [{"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": []}],
        "STATICFILES_DIRS": [],
        "LOCALE_PATHS": [],
        "FIXTURE_DIRS": [],
        "SECURE_REDIRECT_EXEMPT": [r"^status/$"],
        "ROOT_URLCONF": "shop.urls",
        "LANGUAGE_CODE": "fr",
        "GREETING_NOT_A_FIELD": "kept",
    }


class TestContract:
    def test_every_setting_apply_touches_is_declared(self, tmp_path):
        declared = {setting.name for setting in ds.SETTINGS}
        removed = {name for setting in ds.SETTINGS for name in setting.removes}
        config = config_from(tmp_path, TRUST_X_FORWARDED_PROTO="true")
        for before in ({}, everything_a_project_may_set(tmp_path)):
            after = dict(before)
            ds.apply_config(config, after)
            undeclared = changed_settings(before, after) - declared - removed - set(config.settings_fields())
            assert undeclared == set()

    def test_apply_only_walks_the_declaration(self, tmp_path, monkeypatch):
        monkeypatch.setattr(ds, "SETTINGS", ())
        namespace = {"DEBUG": True}
        ds.apply_config(config_from(tmp_path, MARKER="m"), namespace)
        assert namespace == {"DEBUG": True, "MARKER": "m", "API_TOKEN": None}

    def test_each_declaration_has_a_known_policy_and_a_reason(self):
        for setting in ds.SETTINGS:
            assert setting.policy in ds.POLICIES, setting
            assert setting.why.strip(), setting
        names = [(setting.name, setting.part) for setting in ds.SETTINGS]
        assert len(names) == len(set(names)), "one entry per setting and part"

    def test_sets_replaces_and_default_keeps_the_projects_value(self, tmp_path):
        sentinel = object()
        by_policy = {}
        for setting in ds.SETTINGS:
            by_policy.setdefault(setting.policy, set()).add(setting.name)
        assert by_policy[ds.SETS] and by_policy[ds.DEFAULT]
        namespace = dict.fromkeys(by_policy[ds.SETS] | by_policy[ds.DEFAULT], sentinel)
        ds.apply_config(config_from(tmp_path, TRUST_X_FORWARDED_PROTO="true"), namespace)
        assert [name for name in by_policy[ds.SETS] if namespace[name] is sentinel] == []
        assert [name for name in by_policy[ds.DEFAULT] if namespace[name] is not sentinel] == []

    def test_relocating_leaves_absent_settings_absent(self, tmp_path):
        namespace = {}
        ds.apply_config(config_from(tmp_path), namespace)
        for name in ("CACHES", "SESSION_FILE_PATH", "TEMPLATES", "STATICFILES_DIRS", "LOCALE_PATHS"):
            assert name not in namespace

    def test_the_artifacts_record_name_is_the_zipapps(self):
        from django_zipserve.conf import paths
        from django_zipserve.zipapp import boot

        assert paths.RECORD_NAME == boot.RECORD_NAME


class TestDatabasesMerge:
    def test_project_options_stay_when_the_engine_is_the_same(self, tmp_path):
        own = {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": "db.sqlite3",
            "OPTIONS": {"init_command": "PRAGMA journal_mode=wal;", "transaction_mode": "IMMEDIATE"},
            "TEST": {"NAME": "test.sqlite3"},
            "ATOMIC_REQUESTS": True,
        }
        ns = {"DATABASES": {"default": own}}
        ds.apply_config(config_from(tmp_path), ns)
        default = ns["DATABASES"]["default"]
        assert default["NAME"] == str(tmp_path / "state" / "db.sqlite3")
        assert default["OPTIONS"] == own["OPTIONS"]
        assert default["TEST"] == {"NAME": "test.sqlite3"}
        assert default["ATOMIC_REQUESTS"] is True
        assert default["CONN_MAX_AGE"] == 0

    def test_the_urls_connection_and_options_win(self, tmp_path):
        config = Demo.model_validate(
            {
                "SECRET_KEY": SECRET,
                "STATE_DIR": str(tmp_path / "state"),
                "DATABASE_URL": "postgres://shop:pw@db.internal/shopdb?sslmode=require",
            }
        )
        own = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": "dev",
            "HOST": "localhost",
            "PASSWORD": "dev",
            "OPTIONS": {"sslmode": "disable", "connect_timeout": 5},
            "CONN_MAX_AGE": 600,
        }
        ns = {"DATABASES": {"default": own}}
        ds.apply_config(config, ns)
        default = ns["DATABASES"]["default"]
        assert (default["NAME"], default["HOST"], default["PASSWORD"]) == ("shopdb", "db.internal", "pw")
        assert default["OPTIONS"] == {"sslmode": "require", "connect_timeout": 5}
        assert default["CONN_MAX_AGE"] == 600

    def test_another_engine_takes_nothing_of_the_projects(self, tmp_path):
        url = f"sqlite:///{tmp_path / 'state' / 'site.sqlite3'}"
        own = {"ENGINE": "django.db.backends.postgresql", "NAME": "dev", "OPTIONS": {"sslmode": "disable"}}
        ns = {"DATABASES": {"default": own}}
        ds.apply_config(config_from(tmp_path, DATABASE_URL=url), ns)
        assert ns["DATABASES"]["default"] == ds.database_settings(config_from(tmp_path, DATABASE_URL=url))

    def test_a_database_server_the_project_configured_is_kept_without_database_url(self, tmp_path):
        """Baby Buddy's shape: DATABASES built from its own DB_* variables.
        Without DATABASE_URL the site runs on that server, never on an empty
        SQLite file, and where it comes from is said."""
        own = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": "babybuddy",
            "USER": "app",
            "PASSWORD": "from-DB_PASSWORD",
            "HOST": "db.example",
            "PORT": "5432",
        }
        config = config_from(tmp_path)
        ns = {"DATABASES": {"default": dict(own)}}
        ds.apply_config(config, ns)
        assert ns["DATABASES"]["default"] == own
        assert ds.database_origin(config, ns["DATABASES"]["default"]) == (
            "the project's own settings (postgresql, babybuddy on db.example): DATABASE_URL is not set"
        )

    def test_an_sqlite_file_the_project_placed_outside_its_code_is_kept(self, tmp_path):
        """Baby Buddy's DB_NAME=/srv/babybuddy/db.sqlite3: the file of the
        site's data, never swapped for an empty one in the state directory."""
        placed = str(tmp_path / "srv" / "babybuddy" / "db.sqlite3")
        own = {"ENGINE": "django.db.backends.sqlite3", "NAME": placed}
        config = config_from(tmp_path)
        ns = {"BASE_DIR": tmp_path / "code", "DATABASES": {"default": dict(own)}}
        ds.apply_config(config, ns)
        assert ns["DATABASES"]["default"] == own
        assert ds.database_origin(config, ns["DATABASES"]["default"]) == (
            f"the project's own settings (sqlite3, {placed}): DATABASE_URL is not set"
        )

    def test_an_sqlite_file_inside_base_dir_is_a_development_default(self, tmp_path):
        own = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "code" / "data" / "db.sqlite3")}
        ns = {"BASE_DIR": tmp_path / "code", "DATABASES": {"default": own}}
        ds.apply_config(config_from(tmp_path), ns)
        assert ns["DATABASES"]["default"]["NAME"] == str(tmp_path / "state" / "db.sqlite3")

    @pytest.mark.parametrize(
        "own",
        [
            None,
            {"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"},
            {"ENGINE": "django.db.backends.dummy"},
            {},
        ],
    )
    def test_no_database_server_means_sqlite_in_the_state_directory(self, tmp_path, own):
        config = config_from(tmp_path)
        ns = {} if own is None else {"DATABASES": {"default": own}}
        ds.apply_config(config, ns)
        database = ns["DATABASES"]["default"]
        assert (database["ENGINE"], database["NAME"]) == (
            ds.SQLITE_ENGINE,
            str(tmp_path / "state" / "db.sqlite3"),
        )
        assert ds.database_origin(config, database) == (
            f"DATABASE_URL not set: SQLite in STATE_DIR ({tmp_path / 'state' / 'db.sqlite3'})"
        )

    def test_other_aliases_stay_and_their_sqlite_files_are_relocated(self, tmp_path):
        elsewhere = str(tmp_path / "data" / "archive.sqlite3")
        ns = {
            "DATABASES": {
                "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"},
                "relative": {"ENGINE": "django.db.backends.sqlite3", "NAME": "legacy.sqlite3"},
                "absolute": {"ENGINE": "django.db.backends.sqlite3", "NAME": elsewhere},
                "memory": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
                "warehouse": {"ENGINE": "django.db.backends.postgresql", "NAME": "dw"},
            }
        }
        ds.apply_config(config_from(tmp_path), ns)
        databases = ns["DATABASES"]
        assert databases["relative"]["NAME"] == str(tmp_path / "state" / "databases" / "legacy.sqlite3")
        assert (tmp_path / "state" / "databases").is_dir()
        assert databases["absolute"]["NAME"] == elsewhere
        assert databases["memory"]["NAME"] == ":memory:"
        assert databases["warehouse"] == {"ENGINE": "django.db.backends.postgresql", "NAME": "dw"}


def fake_artifact(tmp_path, monkeypatch):
    """A directory laid out as shiv extracts an artifact, its site-packages
    on sys.path: what the running process sees inside a zipapp."""
    from django_zipserve.conf import paths

    site = tmp_path / "shiv" / "mysite.pyz_0123456789abcdef" / "site-packages"
    site.mkdir(parents=True)
    (site / paths.RECORD_NAME).write_text('{"version": "1.4.0", "build_id": "0123456789abcdef"}')
    monkeypatch.setattr("sys.path", [str(site), *__import__("sys").path])
    return site


class TestWritablePaths:
    def test_relative_paths_go_under_the_state_directory(self, tmp_path):
        ns = {
            "CACHES": {
                "default": {"BACKEND": ds.FILE_BASED_CACHE, "LOCATION": "var/cache"},
                "memory": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "x"},
            },
            "SESSION_FILE_PATH": "sessions",
            "LOGGING": {
                "version": 1,
                "handlers": {"file": {"class": "logging.FileHandler", "filename": "logs/site.log"}},
            },
        }
        ds.apply_config(config_from(tmp_path), ns)
        state = tmp_path / "state"
        assert ns["CACHES"]["default"]["LOCATION"] == str(state / "cache" / "cache")
        assert ns["CACHES"]["memory"]["LOCATION"] == "x"
        assert ns["SESSION_FILE_PATH"] == str(state / "sessions" / "sessions")
        assert (state / "sessions" / "sessions").is_dir()
        assert ns["LOGGING"]["handlers"]["file"]["filename"] == str(state / "log" / "site.log")
        assert (state / "log").is_dir()

    def test_paths_inside_the_extraction_are_relocated(self, tmp_path, monkeypatch):
        site = fake_artifact(tmp_path, monkeypatch)
        base_dir = site.parent  # a src/ layout: BASE_DIR is the extraction itself
        ns = {
            "BASE_DIR": base_dir,
            "CACHES": {"default": {"BACKEND": ds.FILE_BASED_CACHE, "LOCATION": base_dir / "cache"}},
            "DATABASES": {"other": {"ENGINE": "django.db.backends.sqlite3", "NAME": site / "other.db"}},
        }
        ds.apply_config(config_from(tmp_path), ns)
        assert ns["CACHES"]["default"]["LOCATION"] == tmp_path / "state" / "cache" / "cache"
        assert ns["DATABASES"]["other"]["NAME"] == tmp_path / "state" / "databases" / "other.db"

    def test_netbox_scripts_and_reports_inside_the_extraction_are_relocated(self, tmp_path, monkeypatch):
        """NetBox keeps uploaded custom scripts in BASE_DIR/scripts: inside
        the extraction, they would stay behind in the old release."""
        site = fake_artifact(tmp_path, monkeypatch)
        outside = tmp_path / "srv" / "reports"
        ns = {"SCRIPTS_ROOT": str(site.parent / "scripts"), "REPORTS_ROOT": str(outside)}
        ds.apply_config(config_from(tmp_path), ns)
        assert ns["SCRIPTS_ROOT"] == str(tmp_path / "state" / "scripts" / "scripts")
        assert (tmp_path / "state" / "scripts" / "scripts").is_dir()
        assert ns["REPORTS_ROOT"] == str(outside)

    def test_paths_inside_the_projects_package_are_relocated(self, tmp_path):
        package = REPO / "tests"  # the package of this settings "module"
        ns = {
            "__name__": "tests.settings_under_test",
            "LOGGING": {"version": 1, "handlers": {"f": {"class": "x", "filename": str(package / "a.log")}}},
            "CACHES": {"default": {"BACKEND": ds.FILE_BASED_CACHE, "LOCATION": str(tmp_path / "cache")}},
        }
        ds.apply_config(config_from(tmp_path), ns)
        assert ns["LOGGING"]["handlers"]["f"]["filename"] == str(tmp_path / "state" / "log" / "a.log")
        assert ns["CACHES"]["default"]["LOCATION"] == str(tmp_path / "cache")  # outside: kept


class RecordingHandler(logging.Handler):
    """Stands for a project's handler that logs to its database."""

    records: list = []

    def emit(self, record):
        RecordingHandler.records.append(record.getMessage())


class TestLoggingMerge:
    def merged(self, tmp_path, own):
        ns = {"LOGGING": own}
        ds.apply_config(config_from(tmp_path, LOG_LEVEL="WARNING"), ns)
        return ns["LOGGING"]

    def test_stderr_joins_the_projects_handlers(self, tmp_path):
        own = {
            "version": 1,
            "handlers": {"db": {"class": "tests.conf.test_django_settings.RecordingHandler"}},
            "loggers": {"shop": {"handlers": ["db"], "level": "ERROR", "propagate": False}},
        }
        merged = self.merged(tmp_path, own)
        assert merged["handlers"]["db"] == own["handlers"]["db"]
        assert merged["loggers"]["shop"]["handlers"] == ["db", ds.STDERR_HANDLER]
        assert merged["root"] == {"level": "WARNING", "handlers": [ds.STDERR_HANDLER]}
        assert own["loggers"]["shop"]["handlers"] == ["db"], "the project's dict is not changed"

    def test_silenced_and_console_loggers_are_left_alone(self, tmp_path):
        own = {
            "version": 1,
            "handlers": {
                "null": {"class": "logging.NullHandler"},
                "console": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout"},
            },
            "root": {"handlers": ["console"], "level": "INFO"},
            "loggers": {
                "django.security.DisallowedHost": {"handlers": ["null"], "propagate": False},
                "shop": {"handlers": ["console"], "propagate": False},
            },
        }
        merged = self.merged(tmp_path, own)
        assert merged["loggers"]["django.security.DisallowedHost"]["handlers"] == ["null"]
        assert merged["loggers"]["shop"]["handlers"] == ["console"]
        assert merged["root"] == {"handlers": ["console"], "level": "INFO"}

    def test_an_error_reaches_stderr_and_the_projects_handler(self, tmp_path, capsys):
        own = {
            "version": 1,
            "disable_existing_loggers": False,
            "handlers": {"db": {"class": "tests.conf.test_django_settings.RecordingHandler"}},
            "loggers": {"shop.request": {"handlers": ["db"], "level": "ERROR", "propagate": False}},
        }
        merged = self.merged(tmp_path, own)
        root = logging.getLogger()
        saved = root.handlers[:], root.level
        try:
            logging.config.dictConfig(merged)
            logging.getLogger("shop.request").error("Internal Server Error: /")
        finally:
            for handler in logging.getLogger("shop.request").handlers + root.handlers:
                handler.close()
            logging.getLogger("shop.request").handlers = []
            root.handlers[:], root.level = saved
        assert "Internal Server Error: /" in RecordingHandler.records
        assert "ERROR shop.request: Internal Server Error: /" in capsys.readouterr().err

    def test_a_record_a_propagating_logger_printed_is_not_printed_again(self, tmp_path, capsys):
        """A project's ``django`` logger writes to its console and propagates:
        the root logger's stderr (ours) leaves its records out, and prints
        every other logger's once."""
        own = {
            "version": 1,
            "disable_existing_loggers": False,
            "handlers": {"console": {"class": "logging.StreamHandler"}},
            "loggers": {
                "django": {"handlers": ["console"], "level": "INFO"},
                "django.security": {"handlers": [], "propagate": False},
            },
        }
        merged = self.merged(tmp_path, own)
        names = ("django", "django.request", "django.security", "shop")
        root = logging.getLogger()
        saved = root.handlers[:], root.level
        try:
            logging.config.dictConfig(merged)
            for name in names:
                logging.getLogger(name).error("from %s", name)
        finally:
            for logger in [root, *map(logging.getLogger, names)]:
                for handler in logger.handlers:
                    handler.close()
                logger.handlers = []
            root.handlers[:], root.level = saved
        err = capsys.readouterr().err
        assert [err.count(f"from {name}\n") for name in names] == [1, 1, 1, 1], err

    def test_a_project_that_configures_logging_itself_is_left_alone(self, tmp_path):
        own = {"version": 1, "handlers": {}}
        ns = {"LOGGING": own, "LOGGING_CONFIG": None}
        ds.apply_config(config_from(tmp_path), ns)
        assert ns["LOGGING"] is own


class TestPackagedDirectories:
    def test_missing_directories_under_base_dir_are_found_in_site_packages(self, tmp_path, monkeypatch):
        site = fake_artifact(tmp_path, monkeypatch)
        base_dir = site.parent  # src/ layout: BASE_DIR = the repository root = the extraction
        for name in ("templates", "static", "vendor", "locale", "fixtures"):
            (site / name).mkdir()
        existing = base_dir / "site-packages"
        ns = {
            "BASE_DIR": base_dir,
            "TEMPLATES": [{"BACKEND": "x", "DIRS": [base_dir / "templates", existing]}, {"BACKEND": "y"}],
            "STATICFILES_DIRS": [str(base_dir / "static"), ("vendor", str(base_dir / "vendor"))],
            "LOCALE_PATHS": (base_dir / "locale", tmp_path / "outside"),
            "FIXTURE_DIRS": [str(base_dir / "fixtures"), str(base_dir / "not-packaged")],
        }
        ds.apply_config(config_from(tmp_path), ns)
        assert ns["TEMPLATES"] == [{"BACKEND": "x", "DIRS": [site / "templates", existing]}, {"BACKEND": "y"}]
        assert ns["STATICFILES_DIRS"] == [str(site / "static"), ("vendor", str(site / "vendor"))]
        assert ns["LOCALE_PATHS"] == (site / "locale", tmp_path / "outside")
        assert ns["FIXTURE_DIRS"] == [str(site / "fixtures"), str(base_dir / "not-packaged")]

    def test_the_flat_layout_needs_nothing(self, tmp_path):
        base_dir = tmp_path / "site-packages"  # Django's usual layout: BASE_DIR is site-packages
        (base_dir / "templates").mkdir(parents=True)
        ns = {"BASE_DIR": base_dir, "TEMPLATES": [{"BACKEND": "x", "DIRS": [base_dir / "templates"]}]}
        ds.apply_config(config_from(tmp_path), ns)
        assert ns["TEMPLATES"][0]["DIRS"] == [base_dir / "templates"]


class TestOtherMerges:
    def test_legacy_storage_settings_are_folded_into_storages(self, tmp_path):
        ns = {"DEFAULT_FILE_STORAGE": "shop.storage.Custom", "STATICFILES_STORAGE": "shop.storage.Static"}
        ds.apply_config(config_from(tmp_path), ns)
        assert ns["STORAGES"] == {
            "default": {"BACKEND": "shop.storage.Custom"},
            "staticfiles": {"BACKEND": ds.STATIC_STORAGE},
        }
        # Django 4.2 refuses STORAGES next to either of them.
        assert "DEFAULT_FILE_STORAGE" not in ns and "STATICFILES_STORAGE" not in ns

    def test_redirect_exemptions_are_merged_once(self, tmp_path):
        ns = {"SECURE_REDIRECT_EXEMPT": [r"^status/$"]}
        ds.apply_config(config_from(tmp_path), ns)
        ds.apply_config(config_from(tmp_path), ns)
        assert ns["SECURE_REDIRECT_EXEMPT"] == [r"^status/$", ds.HEALTH_PATH_PATTERN]

    def test_a_projects_own_proxy_header_stays(self, tmp_path):
        ns = {"SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_SSL", "on")}
        ds.apply_config(config_from(tmp_path, TRUST_X_FORWARDED_PROTO="true"), ns)
        assert ns["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_SSL", "on")

    def test_django_zipserve_app_is_not_added_twice(self, tmp_path):
        ns = {"INSTALLED_APPS": ["django_zipserve.apps.ZipserveAppConfig"]}
        ds.apply_config(config_from(tmp_path), ns)
        assert ns["INSTALLED_APPS"] == ["django_zipserve.apps.ZipserveAppConfig"]


def test_the_reference_page_lists_every_declared_setting():
    page = (REPO / "docs" / "reference" / "settings.md").read_text()
    for setting in ds.SETTINGS:
        part = f" ({setting.part})" if setting.part else ""
        row = f"| `{setting.name}`{part} | {setting.policy} |"
        assert row in page, f"{row} missing: run `make docs`"
