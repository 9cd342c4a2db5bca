"""Turn a loaded :class:`~django_zipserve.conf.ZipserveConfig` into Django settings.

Everything a deployment varies (debug, secret key, hosts, database, HTTPS)
comes from the configuration; everything that must be right in every
deployment (WhiteNoise's place in the middleware, hashed and compressed
static files, logging to standard error) is set here so no project has to
get it right by hand.
"""

import importlib.util
import re
from pathlib import Path

import dj_database_url

WHITENOISE_MIDDLEWARE = "whitenoise.middleware.WhiteNoiseMiddleware"
SECURITY_MIDDLEWARE = "django.middleware.security.SecurityMiddleware"
STATIC_STORAGE = "django_zipserve.storage.ZipserveStaticFilesStorage"
#: Where ``django_zipserve.urls`` puts the health view, relative to the
#: URLconf it is included in; load balancers and the switch probe it.
HEALTH_PATH = "-/health/"
HEALTH_PATH_PATTERN = rf"^{re.escape(HEALTH_PATH)}$"
#: The variable that names a service instance (its blue/green colour); the
#: health view reports it, so the switch knows which colour answered.
INSTANCE_VARIABLE = "ZIPSERVE_INSTANCE"

#: Settings that the server commands read, with the config field behind each.
SERVER_SETTINGS = {
    "ZIPSERVE_BIND": "BIND",
    "ZIPSERVE_WORKERS": "WORKERS",
    "ZIPSERVE_THREADS": "THREADS",
    "ZIPSERVE_TIMEOUT": "TIMEOUT",
    "ZIPSERVE_WARMUP": "WARMUP",
}


def apply_config(config, namespace):
    """Set Django settings in ``namespace`` (a settings module's globals)."""
    base_dir = Path(namespace.get("BASE_DIR") or ".")
    namespace["DEBUG"] = config.DEBUG
    namespace["SECRET_KEY"] = config.secret_key()
    namespace["ALLOWED_HOSTS"] = list(config.ALLOWED_HOSTS)
    namespace["CSRF_TRUSTED_ORIGINS"] = list(config.CSRF_TRUSTED_ORIGINS)
    namespace["DATABASES"] = {"default": database_settings(config)}
    namespace["ZIPSERVE_STATE_DIR"] = config.state_dir()
    namespace["ZIPSERVE_NAME"] = config.name
    namespace.setdefault("MEDIA_ROOT", str(config.state_dir() / "media"))
    namespace.setdefault("STATIC_URL", "static/")
    namespace.setdefault("STATIC_ROOT", base_dir / "static_collected")
    namespace["STORAGES"] = storages(namespace.get("STORAGES"))
    namespace["MIDDLEWARE"] = with_whitenoise(namespace.get("MIDDLEWARE", []))
    namespace["INSTALLED_APPS"] = with_runserver_nostatic(namespace.get("INSTALLED_APPS", []))
    namespace.update(security_settings(config))
    namespace.setdefault("LOGGING", logging_settings(config.LOG_LEVEL))
    namespace.setdefault("TEST_RUNNER", "django_zipserve.testing.ProjectTestRunner")
    for setting, field in SERVER_SETTINGS.items():
        namespace[setting] = getattr(config, field)
    for field in config.project_fields():
        value = getattr(config, field)
        namespace[field] = value.get_secret_value() if hasattr(value, "get_secret_value") else value


#: Database drivers Django's backends import, any one of which will do.
DRIVERS = {
    "django.db.backends.postgresql": ("psycopg", "psycopg2"),
    "django.contrib.gis.db.backends.postgis": ("psycopg", "psycopg2"),
    "django.db.backends.mysql": ("MySQLdb",),
    "django.contrib.gis.db.backends.mysql": ("MySQLdb",),
    "django.db.backends.oracle": ("oracledb", "cx_Oracle"),
}


def database_problem(url):
    """Why a database URL cannot work in this environment, or None.

    Found here, a missing driver is a configuration error naming
    DATABASE_URL; found by Django, it is a traceback at start-up. The
    message never contains the URL, which may hold a password.
    """
    try:
        engine = dj_database_url.parse(url)["ENGINE"]
    except dj_database_url.UnknownSchemeError:
        scheme = url.partition("://")[0] if "://" in url else "(none)"
        known = ", ".join(sorted(dj_database_url.ENGINE_SCHEMES))
        return f"unsupported URL scheme {scheme!r}; expected one of {known}"
    except Exception:  # dj-database-url raises several kinds on malformed input
        return "malformed database URL; expected e.g. postgres://user:password@host:5432/name"
    drivers = DRIVERS.get(engine)
    if drivers and not any(importlib.util.find_spec(driver) for driver in drivers):
        return (
            f"the {engine.rpartition('.')[2]} backend needs {' or '.join(drivers)}, which is not "
            "installed: add it to the project's dependencies"
        )
    if engine.startswith("django.") and importlib.util.find_spec(engine) is None:
        return f"database backend {engine} is not available"
    return None


def database_settings(config):
    settings = dj_database_url.parse(
        config.database_url(),
        # Persistent connections save a connection per request; the health
        # check drops broken ones before they are reused.
        conn_max_age=60,
        conn_health_checks=True,
    )
    if settings["ENGINE"] == "django.db.backends.sqlite3":
        settings["CONN_MAX_AGE"] = 0
        _make_parent_dir(settings["NAME"])
    return settings


def _make_parent_dir(path):
    # SQLite cannot create the directory of its database file; an unwritable
    # location is reported by the zipserve.E002 system check instead.
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        pass


def storages(existing):
    result = dict(existing or {})
    result.setdefault("default", {"BACKEND": "django.core.files.storage.FileSystemStorage"})
    result["staticfiles"] = {"BACKEND": STATIC_STORAGE}
    return result


def with_whitenoise(middleware):
    """WhiteNoise goes right after SecurityMiddleware: after it so HTTPS
    redirects and security headers apply to static files too, before
    everything else so static requests skip sessions and CSRF."""
    middleware = [entry for entry in middleware if entry != WHITENOISE_MIDDLEWARE]
    if SECURITY_MIDDLEWARE not in middleware:
        middleware.insert(0, SECURITY_MIDDLEWARE)
    position = middleware.index(SECURITY_MIDDLEWARE) + 1
    middleware.insert(position, WHITENOISE_MIDDLEWARE)
    return middleware


def with_runserver_nostatic(installed_apps):
    """Let ``runserver`` serve static files through WhiteNoise as well, so
    development behaves like production."""
    apps = list(installed_apps)
    if "whitenoise.runserver_nostatic" not in apps and "django.contrib.staticfiles" in apps:
        apps.insert(apps.index("django.contrib.staticfiles"), "whitenoise.runserver_nostatic")
    return apps


def security_settings(config):
    """What ``manage.py check --deploy`` asks for, driven by HTTPS."""
    secure = config.HTTPS and not config.DEBUG
    settings = {
        "SECURE_SSL_REDIRECT": secure,
        # A load balancer probes the health view over plain HTTP.
        "SECURE_REDIRECT_EXEMPT": [HEALTH_PATH_PATTERN],
        "SESSION_COOKIE_SECURE": secure,
        "CSRF_COOKIE_SECURE": secure,
        "SECURE_HSTS_SECONDS": config.HSTS_SECONDS if secure else 0,
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "SECURE_REFERRER_POLICY": "same-origin",
        "X_FRAME_OPTIONS": "DENY",
    }
    if config.TRUST_X_FORWARDED_PROTO:
        settings["SECURE_PROXY_SSL_HEADER"] = ("HTTP_X_FORWARDED_PROTO", "https")
    return settings


def logging_settings(level):
    """Everything to standard error, where systemd's journal or the
    container runtime collects it. Django's default sends request errors
    only to e-mail when DEBUG is false, so a 500 would leave no trace."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {"django": {"handlers": ["stderr"], "level": level, "propagate": False}},
    }
