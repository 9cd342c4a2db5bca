"""Turn a loaded :class:`~django_zipserve.conf.ZipserveConfig` into Django
settings: the contract of ``config.apply()``.

:data:`SETTINGS` declares every Django setting ``apply()`` touches, once,
with its policy and the reason for it; :func:`apply_config` only walks that
declaration, and ``docs/reference/settings.md`` is generated from it. The
policies:

- *sets*: always ours; a value in the project's settings is replaced;
- *merges*: ours combined with the project's (its other databases, its
  middleware, its logging handlers stay);
- *default*: ours only when the project's settings have none;
- *relocates*: the project's own value, with the paths that a release would
  lose moved (writable files into the state directory, packaged data
  directories to where the build put them).

Everything a deployment varies (debug, secret key, hosts, database, HTTPS)
comes from the configuration; everything that must be right in every
deployment (WhiteNoise's place, hashed static files, logs on standard
error, uploads that survive a release and are served safely) is settled
here, so that no project has to get it right by hand.
"""

import copy
import importlib.util
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import dj_database_url

from . import paths
from .errors import ConfigError, Problem

#: WhiteNoise's middleware with its file index built once per process (see
#: django_zipserve/servers/static_index.py); WhiteNoise's own class, which a
#: project's settings may name, counts as WhiteNoise too.
WHITENOISE_MIDDLEWARE = "django_zipserve.servers.static_index.SharedIndexWhiteNoiseMiddleware"
WHITENOISE_OWN_MIDDLEWARE = "whitenoise.middleware.WhiteNoiseMiddleware"
WHITENOISE_MIDDLEWARES = (WHITENOISE_MIDDLEWARE, WHITENOISE_OWN_MIDDLEWARE)
MEDIA_MIDDLEWARE = "django_zipserve.media.MediaMiddleware"
SECURITY_MIDDLEWARE = "django.middleware.security.SecurityMiddleware"
STATIC_STORAGE = "django_zipserve.storage.ZipserveStaticFilesStorage"
FILE_SYSTEM_STORAGE = "django.core.files.storage.FileSystemStorage"
FILE_BASED_CACHE = "django.core.cache.backends.filebased.FileBasedCache"
SQLITE_ENGINE = "django.db.backends.sqlite3"
#: What a settings module without a database gets from Django: no database at all.
DUMMY_ENGINE = "django.db.backends.dummy"
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
    "ZIPSERVE_WARMUP_PATHS": "WARMUP_PATHS",
    "ZIPSERVE_STATIC_FRONT": "STATIC_FRONT",
}

SETS = "sets"
MERGES = "merges"
DEFAULT = "default"
RELOCATES = "relocates"
#: What each policy means, for the reference.
POLICIES = {
    SETS: "always ours: a value in the project's settings is replaced",
    MERGES: "ours combined with the project's own value",
    DEFAULT: "ours only when the project's settings have none",
    RELOCATES: "the project's own value, with the paths a release would lose moved",
}

#: "No value": the setting is absent, or a value function leaves it alone.
MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING"})()


@dataclass
class Context:
    """What the value functions share while one configuration is applied."""

    config: Any
    namespace: Any  # the settings module's globals()

    @cached_property
    def state_dir(self):
        return self.config.state_dir()

    @cached_property
    def base_dir(self):
        value = self.namespace.get("BASE_DIR")
        return Path(value) if value else None

    @cached_property
    def package_dirs(self):
        """The directory of the project's package (the top-level package
        of the settings module being applied)."""
        return paths.package_directories([self.namespace.get("__name__", "")])

    @cached_property
    def read_only(self):
        """Where nothing may be written: the running artifact's extraction
        and the project's own package."""
        return [*paths.extraction_directories(), *self.package_dirs]

    def relocated(self, path, kind):
        """``path`` itself, or where it goes under the state directory when
        a release would lose it (see :func:`paths.needs_relocating`)."""
        if not path or not isinstance(path, (str, os.PathLike)):
            return path
        if not paths.needs_relocating(path, self.read_only):
            return path
        return paths.in_state_directory(path, self.state_dir, kind)


@dataclass(frozen=True)
class Setting:
    """One Django setting ``config.apply()`` touches: declared once, applied
    and documented from here."""

    name: str
    policy: str  # SETS, MERGES, DEFAULT or RELOCATES
    #: ``value(context, current)``: the new value, or MISSING to leave the
    #: setting as it is; ``current`` is the project's value or MISSING.
    value: Callable[[Context, Any], Any]
    why: str
    #: Where our value comes from (configuration fields), for the reference.
    source: str = ""
    #: The part of the setting concerned, when it has two entries.
    part: str = ""
    #: Settings removed along with this one (folded into it).
    removes: tuple[str, ...] = ()

    def apply(self, context):
        current = context.namespace.get(self.name, MISSING)
        if self.policy == DEFAULT and current is not MISSING:
            return
        if self.policy == RELOCATES and current is MISSING:
            return
        value = self.value(context, current)
        if value is not MISSING:
            context.namespace[self.name] = value
        for name in self.removes:
            context.namespace.pop(name, None)


def apply_config(config, namespace):
    """Set Django settings in ``namespace`` (a settings module's globals),
    as :data:`SETTINGS` declares, then the project's own fields."""
    context = Context(config, namespace)
    for setting in SETTINGS:
        setting.apply(context)
    for field in config.settings_fields():
        value = getattr(config, field)
        namespace[field] = value.get_secret_value() if hasattr(value, "get_secret_value") else value


def from_config(field, convert=lambda value: value):
    """A value function: the configuration's ``field``."""

    def value(context, current):
        return convert(getattr(context.config, field))

    return value


def constant(value):
    return lambda context, current: value


# -- databases ----------------------------------------------------------------

#: What the database URL decides; everything else of the project's own
#: ``default`` database (OPTIONS, TEST, ATOMIC_REQUESTS...) stays.
CONNECTION_KEYS = ("ENGINE", "NAME", "USER", "PASSWORD", "HOST", "PORT")


def merge_databases(context, current):
    databases = dict(current) if isinstance(current, Mapping) else {}
    if context.config.DATABASE_URL is None and is_server_database(databases.get("default")):
        # The project's settings name a database server (from its own
        # variables, say DB_HOST): replacing it with an empty SQLite file
        # would start the site on no data at all, with nothing said.
        problem = engine_problem(databases["default"]["ENGINE"])
        if problem:
            where = "the project's settings (DATABASE_URL is not set)"
            raise ConfigError([Problem("DATABASES", where, problem)], name=context.config.name)
        return databases
    if context.config.DATABASE_URL is None and is_placed_sqlite_file(context, databases.get("default")):
        # The same for an SQLite file someone put outside the code (Baby
        # Buddy's DB_NAME=/srv/babybuddy/db.sqlite3): it holds their data.
        return databases
    databases["default"] = merge_database(database_settings(context.config), databases.get("default"))
    return databases


def is_server_database(database):
    """Whether a project's database settings name a database server (any
    engine but SQLite and Django's placeholder), which DATABASE_URL alone replaces."""
    if not isinstance(database, Mapping):
        return False
    engine = str(database.get("ENGINE") or "")
    return bool(engine) and engine not in (SQLITE_ENGINE, DUMMY_ENGINE)


def is_placed_sqlite_file(context, database):
    """Whether a project's default database is an SQLite file at an absolute
    path outside the project's code (its ``BASE_DIR``, the extraction, its
    package): a file someone chose, not a development default that a
    release would lose."""
    if not is_sqlite_file(database):
        return False
    name = database["NAME"]
    outside = [*context.read_only, *([context.base_dir] if context.base_dir else [])]
    return not paths.is_relative(name) and paths.containing(name, outside) is None


def database_origin(config, database):
    """Where the default database comes from, in words, without a password."""
    if config.DATABASE_URL is not None:
        return "DATABASE_URL"
    if is_server_database(database):
        where = database.get("HOST") or "local socket"
        return (
            f"the project's own settings ({database['ENGINE'].rpartition('.')[2]}, {database.get('NAME')!s} "
            f"on {where}): DATABASE_URL is not set"
        )
    if is_sqlite_file(database) and os.fspath(database["NAME"]) != str(config.default_sqlite_file()):
        return f"the project's own settings (sqlite3, {database['NAME']!s}): DATABASE_URL is not set"
    return f"DATABASE_URL not set: SQLite in STATE_DIR ({database.get('NAME')})"


def merge_database(ours, theirs):
    """Ours, with the project's own settings of the same engine kept: its
    OPTIONS (the URL's own options win), TEST, CONN_MAX_AGE..."""
    if not isinstance(theirs, Mapping) or theirs.get("ENGINE") != ours["ENGINE"]:
        return ours
    merged = {**ours, **{key: value for key, value in theirs.items() if key not in CONNECTION_KEYS}}
    options = {**(theirs.get("OPTIONS") or {}), **(ours.get("OPTIONS") or {})}
    if options:
        merged["OPTIONS"] = options
    return merged


def is_sqlite_file(database):
    if not isinstance(database, Mapping) or database.get("ENGINE") != SQLITE_ENGINE:
        return False
    name = str(database.get("NAME") or "")
    return bool(name) and name != ":memory:" and not name.startswith("file:")


def relocate_sqlite_files(context, current):
    if not isinstance(current, Mapping):
        return MISSING
    databases = {}
    for alias, database in current.items():
        if alias != "default" and is_sqlite_file(database):
            name = context.relocated(database["NAME"], "database")
            if name != database["NAME"]:
                database = {**database, "NAME": name}
                paths.make_parent(name)
        databases[alias] = database
    return databases


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
    return engine_problem(engine)


def engine_problem(engine):
    """Why a database backend cannot load here (its driver is missing), or None."""
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
    if settings["ENGINE"] == SQLITE_ENGINE:
        settings["CONN_MAX_AGE"] = 0
        # SQLite cannot create the directory of its database file; an
        # unwritable location is reported by the zipserve.E002 check instead.
        paths.make_parent(settings["NAME"])
    return settings


# -- other writable paths -----------------------------------------------------


def relocate_file_caches(context, current):
    if not isinstance(current, Mapping):
        return MISSING
    caches = {}
    for alias, cache in current.items():
        if isinstance(cache, Mapping) and cache.get("BACKEND") == FILE_BASED_CACHE and cache.get("LOCATION"):
            cache = {**cache, "LOCATION": context.relocated(cache["LOCATION"], "cache")}
        caches[alias] = cache
    return caches


def relocate_session_files(context, current):
    relocated = context.relocated(current, "sessions")
    if relocated is not current:
        # Django's file session backend refuses a directory that does not exist.
        paths.make_parent(Path(relocated) / "x")
    return relocated


#: Directories popular apps write to at run time, known by name: ``(setting,
#: app, what it holds)``. What a project writes elsewhere inside its package
#: fails at once instead (the extraction is read-only).
APP_DIRECTORIES = (
    ("SCRIPTS_ROOT", "NetBox", "uploaded custom scripts"),
    ("REPORTS_ROOT", "NetBox", "uploaded reports"),
)


def relocate_directory(kind):
    """A value function: the setting's directory, under the state directory
    when a release would lose it."""

    def value(context, current):
        relocated = context.relocated(current, kind)
        if relocated is not current:
            paths.make_parent(Path(relocated) / "x")
        return relocated

    return value


def media_root(context, current):
    return str(context.state_dir / "media")


# -- logging ------------------------------------------------------------------

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: The names our handler and formatter take in a project's own LOGGING.
STDERR_HANDLER = "zipserve_stderr"
STDERR_FORMATTER = "zipserve_plain"
#: The root logger's, when some loggers already write to a console of the project's.
ROOT_STDERR_HANDLER = "zipserve_stderr_root"
NOT_TWICE_FILTER = "zipserve_not_twice"
DICT_CONFIG = "logging.config.dictConfig"


def logging_settings(level):
    """Everything to standard error, where systemd's journal or the
    container runtime collects it. Django's default sends request errors
    only to e-mail when DEBUG is false, so a 500 would leave no trace."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": LOG_FORMAT}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {"django": {"handlers": ["stderr"], "level": level, "propagate": False}},
    }


def merge_logging(context, current):
    """The project's LOGGING with standard error added wherever its records
    would otherwise reach no console: the root logger, and every logger
    that does not propagate (unless it is silenced with NullHandlers on
    purpose or already writes to a console)."""
    level = context.config.LOG_LEVEL
    if current is MISSING or not current:
        return logging_settings(level)
    if (
        not isinstance(current, Mapping)
        or current.get("incremental")
        or context.namespace.get("LOGGING_CONFIG", DICT_CONFIG) != DICT_CONFIG
    ):
        return MISSING  # the project configures logging in a way of its own
    merged = copy.deepcopy(dict(current))
    merged.setdefault("formatters", {})[STDERR_FORMATTER] = {"format": LOG_FORMAT}
    handlers = merged.setdefault("handlers", {})
    handlers[STDERR_HANDLER] = {
        "class": "logging.StreamHandler",
        "formatter": STDERR_FORMATTER,
        "level": level,
    }
    loggers = merged.setdefault("loggers", {})
    root = loggers[""] if "" in loggers else merged.setdefault("root", {})
    root.setdefault("level", level)
    also_to_stderr(root, handlers)
    for name, logger in loggers.items():
        if name and isinstance(logger, dict) and logger.get("propagate", True) is False:
            also_to_stderr(logger, handlers)
    skip_at_root(merged, root, on_console_on_the_way(loggers, handlers))
    return merged


def on_console_on_the_way(loggers, handlers):
    """The loggers that write to a console of the project's and pass their
    records on to the root logger."""
    return sorted(
        name
        for name, logger in loggers.items()
        if name
        and isinstance(logger, dict)
        and logger.get("propagate", True) is not False
        and any(is_console(handlers.get(handler) or {}) for handler in logger.get("handlers") or [])
    )


def skip_at_root(merged, root, names):
    """Where the root logger got our handler, it leaves out the records of
    ``names``: the project's console printed them already (a ``django``
    logger with its own console handler that propagates, say)."""
    if not names or STDERR_HANDLER not in (root.get("handlers") or []):
        return
    merged.setdefault("filters", {})[NOT_TWICE_FILTER] = {
        "()": "django_zipserve.conf.log_filters.NotYetOnConsole",
        "names": names,
    }
    merged["handlers"][ROOT_STDERR_HANDLER] = dict(
        merged["handlers"][STDERR_HANDLER], filters=[NOT_TWICE_FILTER]
    )
    root["handlers"] = [ROOT_STDERR_HANDLER if name == STDERR_HANDLER else name for name in root["handlers"]]


def also_to_stderr(logger, handlers):
    names = list(logger.get("handlers") or [])
    configured = [handlers.get(name) or {} for name in names]
    if STDERR_HANDLER in names or any(is_console(handler) for handler in configured):
        return
    if names and all(handler.get("class") == "logging.NullHandler" for handler in configured):
        return  # silenced on purpose
    logger["handlers"] = [*names, STDERR_HANDLER]


def is_console(handler):
    return handler.get("class") == "logging.StreamHandler" and handler.get("stream", "ext://sys.stderr") in (
        "ext://sys.stderr",
        "ext://sys.stdout",
    )


def relocate_log_files(context, current):
    if not isinstance(current, Mapping) or not isinstance(current.get("handlers"), Mapping):
        return MISSING
    handlers = dict(current["handlers"])
    for name, handler in current["handlers"].items():
        filename = handler.get("filename") if isinstance(handler, Mapping) else None
        target = context.relocated(filename, "log")
        if filename and target != filename:
            paths.make_parent(target)
            handlers[name] = {**handler, "filename": target}
    if handlers == current["handlers"]:
        return MISSING
    return {**current, "handlers": handlers}


# -- static files, middleware, apps -------------------------------------------


def default_static_root(context, current):
    base = context.package_dirs[0] if context.package_dirs else context.base_dir or Path(".")
    return base / "static_collected"


def merge_storages(context, current):
    result = dict(current) if isinstance(current, Mapping) else {}
    legacy_default = context.namespace.get("DEFAULT_FILE_STORAGE")
    if legacy_default and "default" not in result:
        result["default"] = {"BACKEND": legacy_default}
    result.setdefault("default", {"BACKEND": FILE_SYSTEM_STORAGE})
    result["staticfiles"] = {"BACKEND": STATIC_STORAGE}
    return result


def with_whitenoise(middleware):
    """WhiteNoise goes right after SecurityMiddleware: after it so HTTPS
    redirects and security headers apply to static files too, before
    everything else so static requests skip sessions and CSRF."""
    middleware = [entry for entry in middleware if entry not in WHITENOISE_MIDDLEWARES]
    if SECURITY_MIDDLEWARE not in middleware:
        middleware.insert(0, SECURITY_MIDDLEWARE)
    position = middleware.index(SECURITY_MIDDLEWARE) + 1
    middleware.insert(position, WHITENOISE_MIDDLEWARE)
    return middleware


def whitenoise_position(middleware):
    """Where WhiteNoise's middleware (ours or WhiteNoise's own class) is in
    ``middleware``, or None."""
    for position, entry in enumerate(middleware):
        if entry in WHITENOISE_MIDDLEWARES:
            return position
    return None


def with_media_middleware(middleware):
    """MediaMiddleware goes right after WhiteNoise (at the top without it):
    uploads are answered before sessions, authentication, CSRF and URL
    resolution, so no catch-all URL pattern shadows them, and after
    SecurityMiddleware, whose redirect and headers cover them."""
    middleware = [entry for entry in middleware if entry != MEDIA_MIDDLEWARE]
    whitenoise = whitenoise_position(middleware)
    middleware.insert(0 if whitenoise is None else whitenoise + 1, MEDIA_MIDDLEWARE)
    return middleware


def with_runserver_nostatic(installed_apps):
    """Let ``runserver`` serve static files through WhiteNoise as well, so
    development behaves like production."""
    apps = list(installed_apps)
    if "whitenoise.runserver_nostatic" not in apps and "django.contrib.staticfiles" in apps:
        apps.insert(apps.index("django.contrib.staticfiles"), "whitenoise.runserver_nostatic")
    return apps


def merge_installed_apps(context, current):
    apps = with_runserver_nostatic([] if current is MISSING else current)
    if not any(app == "django_zipserve" or app.startswith("django_zipserve.") for app in apps):
        apps.append("django_zipserve")
    return apps


# -- packaged data directories ------------------------------------------------


def packaged(context, entries):
    """``entries`` (a list or tuple of directories, or of ``(prefix,
    directory)`` pairs) with each missing one under BASE_DIR replaced by
    where the build packaged it (see :func:`paths.packaged_copy`)."""
    if context.base_dir is None or not isinstance(entries, (list, tuple)):
        return entries
    return type(entries)(packaged_entry(entry, context.base_dir) for entry in entries)


def packaged_entry(entry, base_dir):
    if isinstance(entry, (list, tuple)) and len(entry) == 2:
        prefix, path = entry
        # The pair keeps its type, list or tuple. (Typed as a plain type: mypy
        # narrows entry to tuple[Any, Any] by len(), whose type it cannot call.)
        pair_type: type = type(entry)
        return pair_type((prefix, packaged_entry(path, base_dir)))
    if not isinstance(entry, (str, os.PathLike)):
        return entry
    return paths.packaged_copy(entry, base_dir) or entry


def packaged_directories(context, current):
    return packaged(context, current)


def packaged_template_directories(context, current):
    if not isinstance(current, (list, tuple)):
        return MISSING
    return type(current)(
        {**backend, "DIRS": packaged(context, backend["DIRS"])}
        if isinstance(backend, Mapping) and "DIRS" in backend
        else backend
        for backend in current
    )


# -- security -----------------------------------------------------------------


def secure(config):
    return config.HTTPS and not config.DEBUG


def secure_site(context, current):
    """True when the site is reached over HTTPS and DEBUG is off."""
    return secure(context.config)


def merge_redirect_exempt(context, current):
    patterns = [] if current is MISSING else list(current)
    return patterns if HEALTH_PATH_PATTERN in patterns else [*patterns, HEALTH_PATH_PATTERN]


def proxy_ssl_header(context, current):
    if context.config.TRUST_X_FORWARDED_PROTO:
        return ("HTTP_X_FORWARDED_PROTO", "https")
    return MISSING


def security_settings(config):
    """What ``manage.py check --deploy`` asks for, driven by HTTPS: the
    settings :data:`SETTINGS` derives from the configuration, as applied to
    a project that sets none of them."""
    namespace: dict[str, Any] = {}
    context = Context(config, namespace)
    for setting in SETTINGS:
        if setting.name.startswith(("SECURE_", "SESSION_COOKIE_", "CSRF_COOKIE_", "X_FRAME_")):
            setting.apply(context)
    return namespace


SERVER_FIELD_REASONS = {
    "BIND": "read by the server commands",
    "WORKERS": "read by the server commands",
    "THREADS": "read by the server commands",
    "TIMEOUT": "read by the server commands",
    "WARMUP": "read by the server commands",
    "WARMUP_PATHS": "read by the server commands' warm-up",
    "STATIC_FRONT": "read by the server commands",
}

#: Every Django setting ``config.apply()`` touches, in the order it applies
#: them. Each field a project adds to its configuration class also becomes a
#: setting of the same name (sets), except those listed in its
#: ``environment``, which reach the project's settings through
#: ``export_environment()``.
SETTINGS = (
    Setting(
        "DEBUG",
        SETS,
        from_config("DEBUG"),
        "The deployment decides, not a settings file that could ship with DEBUG on.",
        source="DEBUG",
    ),
    Setting(
        "SECRET_KEY",
        SETS,
        lambda context, current: context.config.secret_key(),
        "Kept out of the source: from the configuration, a `SECRET_KEY_FILE` or a systemd credential.",
        source="SECRET_KEY",
    ),
    Setting(
        "ALLOWED_HOSTS",
        SETS,
        from_config("ALLOWED_HOSTS", list),
        "Each deployment has its own host names.",
        source="ALLOWED_HOSTS",
    ),
    Setting(
        "CSRF_TRUSTED_ORIGINS",
        SETS,
        from_config("CSRF_TRUSTED_ORIGINS", list),
        "Each deployment has its own origins.",
        source="CSRF_TRUSTED_ORIGINS",
    ),
    Setting(
        "DATABASES",
        MERGES,
        merge_databases,
        "The connection (engine, name, user, password, host, port) comes from `DATABASE_URL`, its query "
        "options win in OPTIONS. Without `DATABASE_URL`, a `default` the project's settings point at a "
        "database server (any engine but SQLite), or an SQLite file at an absolute path outside the "
        "project's code (`BASE_DIR`, the extraction), is kept as it is, and `config show` says so; "
        "otherwise it is SQLite in STATE_DIR. With `DATABASE_URL`, "
        "when the project's `default` uses the same engine, the rest of it stays "
        "(its OPTIONS such as SQLite's `init_command` or `transaction_mode`, TEST, ATOMIC_REQUESTS, "
        "CONN_MAX_AGE). Other aliases stay as they are.",
        source="DATABASE_URL, STATE_DIR",
        part="the `default` alias",
    ),
    Setting(
        "DATABASES",
        RELOCATES,
        relocate_sqlite_files,
        "An SQLite file of another alias that is relative or inside the extraction or the project's "
        "package goes to `STATE_DIR/databases/<file name>`: a release would replace it.",
        source="STATE_DIR",
        part="SQLite `NAME` of the other aliases",
    ),
    Setting(
        "MEDIA_ROOT",
        SETS,
        media_root,
        'Uploads must survive releases: a project\'s `BASE_DIR / "media"` is inside the extraction that '
        "the next release replaces and `zipapp prune` deletes.",
        source="STATE_DIR (`STATE_DIR/media`)",
    ),
    Setting(
        "MEDIA_URL",
        DEFAULT,
        constant("media/"),
        "Django's default is empty: uploads would get URLs relative to the page they are on, which "
        "nothing serves. `MediaMiddleware` serves them under `/media/`.",
    ),
    Setting(
        "CACHES",
        RELOCATES,
        relocate_file_caches,
        "A file-based cache's directory that is relative or inside the extraction or the project's "
        "package goes to `STATE_DIR/cache/<directory name>`.",
        source="STATE_DIR",
        part="`LOCATION` of each `FileBasedCache`",
    ),
    Setting(
        "SESSION_FILE_PATH",
        RELOCATES,
        relocate_session_files,
        "File sessions that are relative or inside the extraction or the project's package go to "
        "`STATE_DIR/sessions/<directory name>` (created): a release would log every user out.",
        source="STATE_DIR",
    ),
    *(
        Setting(
            name,
            RELOCATES,
            relocate_directory(name.removesuffix("_ROOT").lower()),
            f"{app}'s {what}, written at run time: a directory that is relative or inside the extraction "
            f"or the project's package goes to `STATE_DIR/{name.removesuffix('_ROOT').lower()}/<directory "
            "name>` (created), where the next release still finds them.",
            source="STATE_DIR",
        )
        for name, app, what in APP_DIRECTORIES
    ),
    Setting(
        "LOGGING",
        MERGES,
        merge_logging,
        "Without a LOGGING of the project's: everything to standard error at `LOG_LEVEL` (Django's own "
        "default mails request errors and prints nothing when DEBUG is off). With one: the project's "
        "handlers and loggers stay, and a standard-error handler is added to the root logger and to every "
        "logger that does not propagate, unless it already writes to the console or is silenced with "
        "`NullHandler`s; errors reach the journal whatever else the project logs to. A record that a "
        "propagating logger already wrote to the project's console is not written again at the root. "
        "Left alone when "
        "`LOGGING_CONFIG` is not dictConfig or the configuration is incremental.",
        source="LOG_LEVEL",
    ),
    Setting(
        "LOGGING",
        RELOCATES,
        relocate_log_files,
        "A log file that is relative or inside the extraction or the project's package goes to "
        "`STATE_DIR/log/<file name>` (its directory created).",
        source="STATE_DIR",
        part="`filename` of each handler",
    ),
    Setting("STATIC_URL", DEFAULT, constant("static/"), "Django has no default for it."),
    Setting(
        "STATIC_ROOT",
        DEFAULT,
        default_static_root,
        "`static_collected` in the project's package (else in BASE_DIR): `collectstatic` writes there "
        "when the artifact is built, so the files are part of it whatever BASE_DIR is. A project's own "
        "must lie inside what the build packages (`zipserve.E003` tells when it does not).",
    ),
    Setting(
        "STORAGES",
        MERGES,
        merge_storages,
        "`staticfiles` is `django_zipserve.storage.ZipserveStaticFilesStorage` (WhiteNoise's compressed "
        "manifest storage: the hashed, immutable files we promise); the project's other backends stay. "
        "The legacy `DEFAULT_FILE_STORAGE` becomes `default` and `STATICFILES_STORAGE` goes: Django 4.2 "
        "refuses them next to STORAGES.",
        removes=("DEFAULT_FILE_STORAGE", "STATICFILES_STORAGE"),
    ),
    Setting(
        "MIDDLEWARE",
        MERGES,
        lambda context, current: with_whitenoise([] if current is MISSING else current),
        "WhiteNoise right after SecurityMiddleware (added when missing): after it so that HTTPS "
        "redirects and security headers cover static files, before the rest so that static requests "
        "skip sessions and CSRF. The project's middleware stays in its order. WhiteNoise's middleware is "
        "`django_zipserve.servers.static_index.SharedIndexWhiteNoiseMiddleware` (it replaces "
        "`whitenoise.middleware.WhiteNoiseMiddleware`): WhiteNoise's, with the index of the static files "
        "built once per process rather than for every request handler (each test `Client`).",
        part="WhiteNoise",
    ),
    Setting(
        "MIDDLEWARE",
        MERGES,
        lambda context, current: with_media_middleware([] if current is MISSING else current),
        "`django_zipserve.media.MediaMiddleware` right after WhiteNoise: it serves uploads (the default "
        "storage's files, under `MEDIA_URL`) whatever server runs the site, answering before sessions, "
        "CSRF and URL resolution, so that a CMS's catch-all URL pattern cannot shadow them; with headers "
        "that keep an uploaded HTML or SVG file from running script on the site's origin. It steps aside "
        "when the default storage is not a `FileSystemStorage` (object storage serves its own files) or "
        "`MEDIA_URL` is on another host. See docs/media.rst.",
        part="uploaded files",
    ),
    Setting(
        "INSTALLED_APPS",
        MERGES,
        merge_installed_apps,
        "`whitenoise.runserver_nostatic` before `django.contrib.staticfiles` (runserver serves static "
        "files as production does) and `django_zipserve` when missing (its commands and checks).",
    ),
    Setting(
        "TEMPLATES",
        RELOCATES,
        packaged_template_directories,
        "An entry that does not exist and lies under BASE_DIR is replaced by the first existing "
        "`<sys.path entry>/<its path relative to BASE_DIR>`: where the build packaged the project's "
        "root-level data directories (needed when BASE_DIR is not site-packages, as in a `src/` layout).",
        part="`DIRS` of each backend",
    ),
    Setting(
        "STATICFILES_DIRS",
        RELOCATES,
        packaged_directories,
        "As for TEMPLATES `DIRS` (a `(prefix, directory)` entry keeps its prefix).",
    ),
    Setting("LOCALE_PATHS", RELOCATES, packaged_directories, "As for TEMPLATES `DIRS`."),
    Setting("FIXTURE_DIRS", RELOCATES, packaged_directories, "As for TEMPLATES `DIRS`."),
    Setting(
        "SECURE_SSL_REDIRECT",
        SETS,
        secure_site,
        "Plain HTTP is redirected when the site is reached over HTTPS (and DEBUG is off).",
        source="HTTPS, DEBUG",
    ),
    Setting(
        "SECURE_REDIRECT_EXEMPT",
        MERGES,
        merge_redirect_exempt,
        "The project's patterns, and the health view's: a load balancer probes it over plain HTTP.",
    ),
    Setting(
        "SESSION_COOKIE_SECURE",
        SETS,
        secure_site,
        "Cookies only over HTTPS when the site is reached over HTTPS.",
        source="HTTPS, DEBUG",
    ),
    Setting(
        "CSRF_COOKIE_SECURE",
        SETS,
        secure_site,
        "As SESSION_COOKIE_SECURE.",
        source="HTTPS, DEBUG",
    ),
    Setting(
        "SECURE_HSTS_SECONDS",
        SETS,
        lambda context, current: context.config.HSTS_SECONDS if secure(context.config) else 0,
        "HSTS only when the site is reached over HTTPS: browsers remember it.",
        source="HSTS_SECONDS, HTTPS, DEBUG",
    ),
    Setting(
        "SECURE_CONTENT_TYPE_NOSNIFF",
        DEFAULT,
        constant(True),
        "What `check --deploy` asks for (Django's own default too).",
    ),
    Setting(
        "SECURE_REFERRER_POLICY",
        DEFAULT,
        constant("same-origin"),
        "What `check --deploy` asks for (Django's own default too).",
    ),
    Setting(
        "X_FRAME_OPTIONS",
        DEFAULT,
        constant("DENY"),
        "Django's own default; a project that frames its own pages (a CMS toolbar wants `SAMEORIGIN`) "
        "keeps its value.",
    ),
    Setting(
        "SECURE_PROXY_SSL_HEADER",
        DEFAULT,
        proxy_ssl_header,
        '`("HTTP_X_FORWARDED_PROTO", "https")` when `TRUST_X_FORWARDED_PROTO` is true and the project '
        "sets none; a project behind a proxy of its own keeps its value.",
        source="TRUST_X_FORWARDED_PROTO",
    ),
    Setting(
        "TEST_RUNNER",
        DEFAULT,
        constant("django_zipserve.management.testing.ProjectTestRunner"),
        "`test` without labels runs the project's own tests, also from inside the artifact.",
    ),
    Setting(
        "ZIPSERVE_NAME",
        SETS,
        lambda context, current: context.config.name,
        "The project's name, for process titles and messages.",
        source="the class's `name`",
    ),
    Setting(
        "ZIPSERVE_STATE_DIR",
        SETS,
        lambda context, current: context.state_dir,
        "The resolved state directory, for the checks.",
        source="STATE_DIR",
    ),
    *(
        Setting(name, SETS, from_config(field), SERVER_FIELD_REASONS[field].capitalize() + ".", source=field)
        for name, field in SERVER_SETTINGS.items()
    ),
)
