"""The goodconf-backed configuration every production Django site needs.

A project subclasses :class:`ZipserveConfig`, adds its own values (each with a
description), loads it once in ``settings.py`` and turns it into Django
settings with one call::

    class Config(ZipserveConfig):
        \"\"\"Configuration of my site.\"\"\"
        model_config = {"file_env_var": "MYSITE_CONFIG",
                        "default_files": ["/etc/mysite/config.yml"]}
        name = "mysite"
        GREETING: str = Field(default="Hello", description="Home page headline.")

    config = Config.load()
    ...
    config.apply(globals())
"""

import importlib
import importlib.machinery
import importlib.util
import json
import os
import reprlib
import secrets
import sys
import types
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, cast

from goodconf import Field, GoodConf
from pydantic import PrivateAttr, SecretBytes, SecretStr, TypeAdapter, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource
from typing_extensions import Self

from . import sources
from .django_settings import SERVER_SETTINGS, apply_config, database_problem
from .errors import DEFAULT_NAME, ConfigError, Problem, describe_expectation

__all__ = ["ConfigError", "Field", "ZipserveConfig"]

_loaded: dict[type, "ZipserveConfig"] = {}

#: Names of the variables ``export_environment()`` put into the environment:
#: they are ours, not the operator's, so a process that inherits them (uWSGI
#: re-executing itself on SIGHUP) reads its configuration file again
#: instead of the values the previous one exported.
EXPORTED_VARIABLE = "ZIPSERVE_EXPORTED_ENVIRONMENT"


def exported_names(environ: Mapping[str, str]) -> set[str]:
    return {name for name in environ.get(EXPORTED_VARIABLE, "").split(",") if name}


def without_exported(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment as the operator gave it: without the variables an
    earlier ``export_environment()`` of this process tree set."""
    exported = exported_names(environ) | {EXPORTED_VARIABLE}
    return {key: value for key, value in environ.items() if key not in exported}


def environment_text(value: Any) -> str:
    """A configuration value as an environment variable's text: a secret's
    real value, lists comma-joined, booleans ``True``/``False``."""
    if isinstance(value, (SecretStr, SecretBytes)):
        value = value.get_secret_value()
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, (list, tuple, set, frozenset)):
        return ",".join(environment_text(item) for item in value)
    if isinstance(value, dict):
        return json.dumps({key: environment_text(item) for key, item in value.items()})
    return str(value)


def revealed(value: Any) -> Any:
    """A value as the project's own code expects it: secrets as their plain
    text, also inside mappings and lists, each container a copy (so that the
    project changing one changes nothing of the configuration)."""
    if isinstance(value, (SecretStr, SecretBytes)):
        return value.get_secret_value()
    if isinstance(value, dict):
        return {key: revealed(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return type(value)(revealed(item) for item in value)
    return value


class ProvidedModule(types.ModuleType):
    """A module made of configuration values (:meth:`ZipserveConfig.provide_module`):
    read-only, so that its values come from the configuration and nowhere else."""

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{self.__name__} is read-only: its values come from the configuration")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{self.__name__} is read-only: its values come from the configuration")


def _short_repr(value: Any) -> str:
    """A bounded repr: a value built from YAML aliases can be enormous."""
    shortened = reprlib.Repr()
    shortened.maxstring = shortened.maxother = 50
    shortened.maxlist = shortened.maxdict = shortened.maxtuple = shortened.maxset = 6
    shortened.maxlevel = 3
    return shortened.repr(value)


def whole_value(value: Any, inner_location: tuple) -> Any:
    """The value an error is about when it is the whole setting's, not an
    item's in it (whose type would be the item's)."""
    return value if not inner_location else None


def _unique(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))


def default_workers() -> int:
    """Two worker processes per core: a request that waits on the database
    leaves the core to another. Capped so a big host does not start dozens
    of copies of the application by surprise."""
    return max(2, min(2 * (os.cpu_count() or 1), 16))


def generate_secret_key() -> str:
    return secrets.token_urlsafe(50)


class ZipserveConfig(GoodConf):
    """Configuration of a Django site served by django-zipserve."""

    #: Short name of the project: used for the state directory, process
    #: names, unit names, /srv/NAME, /etc/NAME/config.yml and messages.
    #: Projects set it on their subclass (init writes it); left at the
    #: fallback, ``systemd render`` and ``deploy`` warn.
    name: ClassVar[str] = DEFAULT_NAME

    #: Environment variables the project's own settings read with
    #: ``os.getenv`` (found by ``init``): each must be a field, and
    #: :meth:`export_environment` puts the field's value into the variable
    #: before the project's settings are imported.
    environment: ClassVar[tuple[str, ...]] = ()

    #: Variables the project's settings read at import with no default, for
    #: a setting that :meth:`apply` then replaces (cookiecutter-django's
    #: ``SECRET_KEY = env("DJANGO_SECRET_KEY")``): :meth:`export_environment`
    #: gives each this stand-in when it is not set, so the import works.
    placeholders: ClassVar[dict[str, str]] = {}

    #: Variables the project's settings read at import with no default (found
    #: by ``init``), each a field of :attr:`environment`, with the value used
    #: where no configuration is read: the build, ``config template``,
    #: ``--help``. Everywhere else one without a value is an error naming it.
    build_values: ClassVar[dict[str, str]] = {}

    model_config = {
        # pydantic must never echo a value in its errors: one of them may be
        # a secret, and a missing field would otherwise print all the others.
        "hide_input_in_errors": True,
        "extra": "forbid",
        "validate_default": True,
    }

    DEBUG: bool = Field(
        default=False,
        description="Django's debug mode. Never true in production: it shows "
        "source code and settings to anyone who triggers an error.",
    )
    SECRET_KEY: SecretStr | None = Field(
        default=None,
        initial=generate_secret_key,
        description="Django's secret key: signs sessions, password reset links "
        "and CSRF tokens. Required unless DEBUG is true. Keep it out of "
        "version control: use SECRET_KEY_FILE or a systemd credential.",
    )
    ALLOWED_HOSTS: list[str] = Field(
        default=["localhost", "127.0.0.1", "[::1]"],
        description="Host names this site answers to (Django's ALLOWED_HOSTS). "
        "In the environment: a JSON list or comma-separated names.",
    )
    CSRF_TRUSTED_ORIGINS: list[str] = Field(
        default=[],
        description="Origins trusted for unsafe requests, such as "
        "https://example.com, when they differ from the Host header.",
    )
    DATABASE_URL: SecretStr | None = Field(
        default=None,
        initial=lambda: None,
        description="Database URL (e.g. postgres://user:pass@host/db); a secret "
        "because it may hold a password. Default: the database server the "
        "project's own settings name, if they name one (config show says which), "
        "else an SQLite file db.sqlite3 in STATE_DIR.",
    )
    STATE_DIR: Path | None = Field(
        default=None,
        description="Writable directory for the site's state (the default "
        "SQLite database, media files). Default: systemd's $STATE_DIRECTORY, "
        "else $XDG_STATE_HOME/<name>, else ~/.local/state/<name>. Never inside "
        "the zipapp, whose extraction is replaced on each release.",
    )
    HTTPS: bool = Field(
        default=True,
        description="The site is reached over HTTPS (directly or through a "
        "TLS-terminating proxy): redirect plain HTTP to HTTPS, mark cookies "
        "secure and send HSTS. Set false only to serve plain HTTP.",
    )
    HSTS_SECONDS: int = Field(
        default=3600,
        ge=0,
        description="Strict-Transport-Security max-age when HTTPS is true. "
        "Raise it (to 31536000) once HTTPS works everywhere: browsers "
        "remember it.",
    )
    TRUST_X_FORWARDED_PROTO: bool = Field(
        default=False,
        description="A reverse proxy in front terminates TLS and sets "
        "X-Forwarded-Proto: trust that header to tell HTTPS requests. Only "
        "when the proxy always sets or strips it.",
    )
    BIND: str = Field(
        default="127.0.0.1:8000",
        description="Address the web server listens on (host:port, or "
        "unix:/path for gunicorn). Ignored under socket activation or when a "
        "bind address is given on the command line.",
    )
    WORKERS: int = Field(
        default_factory=default_workers,
        ge=1,
        description="Worker processes. Default: two per CPU core, at least 2 and at most 16.",
    )
    THREADS: int = Field(
        default=1,
        ge=1,
        description="Threads per worker process. More than 1 helps when "
        "requests wait on slow I/O; the application must be thread-safe.",
    )
    TIMEOUT: int = Field(
        default=30,
        ge=1,
        description="Seconds a request may run before its worker is killed "
        "and replaced (gunicorn --timeout, uWSGI --harakiri).",
    )
    WARMUP: bool = Field(
        default=True,
        description="Before serving, send in-process requests to the health view and to "
        "WARMUP_PATHS, and refuse to start if one fails.",
    )
    WARMUP_PATHS: list[str] = Field(
        default=["/"],
        description="Pages the warm-up requests after the health view (which must answer 200): "
        "an answer of 500 or more, or an exception, refuses the start and names it; redirects "
        "and 4xx answers are fine. Paths on this site, such as / or /about/. In the "
        "environment: a JSON list or comma-separated paths.",
    )
    STATIC_FRONT: bool = Field(
        default=True,
        description="Answer requests for static files before Django's request handling, with "
        "WhiteNoise's own responses and the headers Django's middleware adds to them (learnt at "
        "start). It stands aside by itself when middleware other than SecurityMiddleware comes "
        "before WhiteNoise; off, Django's WhiteNoise middleware answers them.",
    )
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        default="INFO",
        description="Level of the application's log messages, written to standard error.",
    )

    _sources: dict = PrivateAttr(default_factory=dict)
    _file: str | None = PrivateAttr(default=None)
    _environ: dict | None = PrivateAttr(default=None)
    # Loaded without reading any source (the build, `config template`).
    _defaults: bool = PrivateAttr(default=False)
    # Fields that reach the project through a module provide_module() made.
    _provided: set = PrivateAttr(default_factory=set)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        unknown = [name for name in cls.environment if name not in cls.model_fields]
        if unknown:
            raise TypeError(
                f"{cls.__name__}.environment names {', '.join(unknown)}, which "
                f"{'is not a field' if len(unknown) == 1 else 'are not fields'}: declare each, e.g. "
                f'{unknown[0]}: str | None = Field(default=None, description="...")'
            )

    def __init__(self, **values: Any) -> None:
        # goodconf's constructor validates nothing unless asked to load;
        # values here were already gathered by from_sources.
        super().__init__(load=True, **values)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Values are gathered by django_zipserve.sources, which knows where
        # each one came from; pydantic only validates them.
        return (init_settings,)

    # goodconf's load() fills an existing instance; ours returns the loaded
    # instance, so that settings.py reads ``config = Config.load()``.
    @classmethod
    def load(cls, config_file: str | None = None) -> Self:  # type: ignore[override]
        """Load the configuration once per process; on bad input print a
        report and exit with status 2."""
        if cls not in _loaded:
            try:
                _loaded[cls] = cls.from_sources(config_file=config_file)
            except ConfigError as exc:
                exc.exit()
        return cast(Self, _loaded[cls])

    @classmethod
    def loaded(cls) -> Self | None:
        """The configuration this process loaded (of this class or a
        subclass), or None."""
        for klass, instance in reversed(list(_loaded.items())):
            if issubclass(klass, cls):
                return cast(Self, instance)
        return None

    @classmethod
    def from_sources(cls, environ: Mapping[str, str] | None = None, config_file: str | None = None) -> Self:
        """Build a validated configuration, or raise ConfigError."""
        environ = without_exported(os.environ if environ is None else environ)
        if sources.defaults_only(environ):
            return cls._defaults_only()
        raw, path, problems = sources.collect(cls, environ, config_file)
        values = {key: item.value for key, item in raw.items()}
        try:
            instance = cls._validated(values, raw, path, environ)
        except ValidationError as exc:
            problems += cls._problems_from(exc, raw, path)
            # Validate what is left, so that checks across fields (a missing
            # SECRET_KEY) are reported in the same run, not the next one.
            reported = {problem.key for problem in problems}
            values = {key: value for key, value in values.items() if key not in reported}
            try:
                instance = cls._validated(values, raw, path, environ)
            except ValidationError:
                instance = None
        else:
            reported = {problem.key for problem in problems}
        if instance is not None:
            problems += [problem for problem in instance.check_values() if problem.key not in reported]
        if problems or instance is None:
            raise ConfigError(_unique(problems), name=cls.name)
        return instance

    @classmethod
    def public_values(cls, config_file: str | None = None, environ: Mapping[str, str] | None = None) -> dict:
        """Every value that is not a secret, from the configuration file and
        the environment, each validated on its own; secrets are neither
        required nor read, so this works in an administrator's shell, where
        the service's credentials are not. For commands that describe the
        service (``systemd render``). Raises ConfigError for a bad value."""
        environ = without_exported(os.environ if environ is None else environ)
        public = {name: field for name, field in cls.model_fields.items() if not sources.is_secret(field)}
        raw, path, problems = sources.collect(cls, environ, config_file, fields=public)
        values = {}
        for name, field in public.items():
            if name not in raw:
                values[name] = field.get_default(call_default_factory=True)
                continue
            try:
                adapter: TypeAdapter[Any] = TypeAdapter(Annotated[field.annotation, field])  # type: ignore[arg-type]
                values[name] = adapter.validate_python(raw[name].value)
            except ValidationError as exc:
                given = raw[name].value
                problems += [
                    Problem(
                        name,
                        raw[name].where,
                        f"{describe_expectation(error, whole_value(given, error['loc']))}, "
                        f"got {_short_repr(given)}",
                    )
                    for error in exc.errors(include_input=False, include_url=False)
                ]
        if problems:
            raise ConfigError(_unique(problems), name=cls.name)
        return values

    @classmethod
    def _validated(cls, values: dict, raw: dict, path: str | None, environ: Mapping[str, str]) -> Self:
        instance = cls.model_validate(values)
        instance._sources = {key: item.where for key, item in raw.items() if key in values}
        instance._file = path
        instance._environ = dict(environ)
        return instance

    @classmethod
    def _defaults_only(cls) -> Self:
        """Defaults and a throwaway secret key: see sources.defaults_only."""
        instance = cls.model_validate({"SECRET_KEY": "unused-" + generate_secret_key()})
        instance._sources = {"SECRET_KEY": "generated, unused"}
        instance._defaults = True
        return instance

    @classmethod
    def _problems_from(cls, exc: ValidationError, raw: dict, path: str | None) -> list[Problem]:
        problems = []
        for error in exc.errors(include_input=False, include_url=False):
            key = str(error["loc"][0]) if error["loc"] else ""
            field = cls.model_fields.get(key)
            given = whole_value(raw[key].value, error["loc"][1:]) if key in raw else None
            message = describe_expectation(error, given)
            if key in raw:
                where = raw[key].where
                if field is not None and not sources.is_secret(field):
                    message = f"{message}, got {_short_repr(raw[key].value)}"
            else:
                where = cls._looked_in(key, path)
            problems.append(Problem(key, where, message))
        return problems

    @classmethod
    def _looked_in(cls, key: str, path: str | None) -> str:
        """Where a value that is missing could have been given."""
        return "not set; looked in " + ", ".join(sources.places_for(cls, key, path))

    def check_values(self) -> Iterator[Problem]:
        """Checks across fields; a subclass may extend it (yield Problems)."""
        if not self.DEBUG and self.SECRET_KEY is None:
            yield Problem(
                "SECRET_KEY",
                self._looked_in("SECRET_KEY", self._file),
                "required when DEBUG is false",
            )
        elif self.SECRET_KEY is not None and not self.SECRET_KEY.get_secret_value().strip():
            yield Problem("SECRET_KEY", self.source_of("SECRET_KEY"), "must not be empty")
        if self.DATABASE_URL is not None:
            problem = database_problem(self.database_url())
            if problem:
                yield Problem("DATABASE_URL", self.source_of("DATABASE_URL"), problem)
        relative = [path for path in self.WARMUP_PATHS if not path.startswith("/")]
        if relative:
            yield Problem(
                "WARMUP_PATHS",
                self.source_of("WARMUP_PATHS"),
                f"expected paths starting with /, got {_short_repr(relative)}",
            )

    def source_of(self, key: str) -> str:
        """Where a field's value came from: a file, a variable, or the default."""
        return self._sources.get(key, "default")

    @property
    def config_file(self) -> str | None:
        return self._file

    def state_dir(self) -> Path:
        """The writable state directory, resolved but not created."""
        if self.STATE_DIR is not None:
            return Path(self.STATE_DIR)
        environ = os.environ if self._environ is None else self._environ
        if environ.get("STATE_DIRECTORY"):
            # systemd may list several, separated by colons; the first is ours.
            return Path(environ["STATE_DIRECTORY"].split(":")[0])
        if environ.get("XDG_STATE_HOME"):
            return Path(environ["XDG_STATE_HOME"]) / self.name
        return Path.home() / ".local" / "state" / self.name

    def default_sqlite_file(self) -> Path:
        """The database without DATABASE_URL (and without one of the project's own)."""
        return self.state_dir() / "db.sqlite3"

    def database_url(self) -> str:
        if self.DATABASE_URL is not None:
            return self.DATABASE_URL.get_secret_value()
        return f"sqlite:///{self.default_sqlite_file()}"

    def secret_key(self) -> str:
        if self.SECRET_KEY is not None:
            return self.SECRET_KEY.get_secret_value()
        # Only reachable with DEBUG true (check_values requires a key
        # otherwise): a fixed, plainly insecure key keeps sessions valid
        # across workers and restarts during development.
        return f"django-insecure-{self.name}-debug-only"

    def project_fields(self) -> list[str]:
        """Names of the fields a project added to this base class."""
        return [key for key in type(self).model_fields if key not in ZipserveConfig.model_fields]

    def settings_fields(self) -> list[str]:
        """The project's fields ``apply()`` sets as Django settings of the
        same name: all but those in :attr:`environment`, which reach the
        project's settings through the environment instead."""
        return [
            key for key in self.project_fields() if key not in self.environment and key not in self._provided
        ]

    def export_environment(self, environ: MutableMapping[str, str] | None = None) -> list[str]:
        """Put each :attr:`environment` field that has a value into the
        environment variable of its name, as text (see
        :func:`environment_text`), unless the operator set that variable;
        call it before the project's own settings are imported. A variable
        an earlier export set whose field no longer has a value is removed.
        Then the stand-ins of :meth:`stand_ins`. Returns the names exported;
        prints nothing, but a required variable left unset ends the process
        with a report (status 2)."""
        environ = os.environ if environ is None else environ
        earlier = exported_names(environ)
        exported = []
        for name in self.environment:
            value = getattr(self, name)
            if name in environ and name not in earlier:
                continue  # the operator's own
            if value is None:
                environ.pop(name, None)
                continue
            environ[name] = environment_text(value)
            exported.append(name)
        try:
            stand_ins = self.stand_ins(environ)
        except ConfigError as exc:
            exc.exit()
        for name, value in stand_ins.items():
            environ[name] = value
            exported.append(name)
        if exported:
            environ[EXPORTED_VARIABLE] = ",".join(exported)
        else:
            environ.pop(EXPORTED_VARIABLE, None)
        return exported

    def stand_ins(self, environ: Mapping[str, str]) -> dict[str, str]:
        """The :attr:`placeholders` and, where no configuration is read,
        the :attr:`build_values` of the variables still unset in ``environ``.
        With a configuration read, a build value's variable left unset is
        a configuration error naming it (not the project's traceback)."""
        values = dict(self.placeholders)
        if self._defaults:
            values.update(self.build_values)
        else:
            missing = [name for name in self.build_values if name not in environ and name not in values]
            if missing:
                problems = [
                    Problem(
                        name,
                        "",
                        "required: the project's settings read it when they "
                        "are imported, with no default; set it in the configuration file or the environment",
                    )
                    for name in missing
                ]
                raise ConfigError(problems, name=self.name)
        return {name: value for name, value in values.items() if name not in environ}

    def provide_module(
        self, name: str, fields: Iterable[str], example: str | None = None
    ) -> types.ModuleType:
        """Make the module ``name`` (``"netbox.configuration"``) out of this
        configuration, for a project whose settings import a module meant to
        be local to each machine, which the build never packages (it is
        git-ignored: it holds that machine's secrets). Call it before the
        project's settings are imported; ``import netbox.configuration``,
        ``from netbox import configuration`` and ``importlib.import_module``
        then find it.

        Each of ``fields`` that has a value becomes an attribute of the
        module, a secret as its plain text (also inside mappings and lists);
        one left unset (None) is absent, so that the settings'
        ``getattr(configuration, "X", default)`` keeps the project's own
        default. The module is read-only: its values come from the
        configuration and nowhere else. Those fields are not set as Django
        settings by :meth:`apply`: they reach the settings through the module.

        ``example`` names the project's example module
        (``"netbox.configuration_example"``): when no configuration was read
        (the build, ``config template``), its values stand in for the unset
        ones, so the settings import as they would from the example. A
        project's own variable naming the module (``NETBOX_CONFIGURATION``) is
        left alone: unset, the settings import their default, this module.

        A module of that name that the artifact holds (its file packaged) is
        not shadowed: the values would come from two places. That is
        reported as a configuration problem, exit status 2.
        """
        try:
            module = self._provided_module(name, tuple(fields), example)
        except ConfigError as exc:
            exc.exit()
        return module

    def _provided_module(self, name: str, fields: tuple[str, ...], example: str | None) -> types.ModuleType:
        unknown = [field for field in fields if field not in type(self).model_fields]
        if unknown:
            raise TypeError(
                f"provide_module({name!r}): {', '.join(unknown)} not a field of {type(self).__name__}"
            )
        parent_name, _, child = name.rpartition(".")
        parent = importlib.import_module(parent_name) if parent_name else None
        packaged = _packaged_origin(name)
        if packaged:
            raise ConfigError(
                [
                    Problem(
                        name,
                        packaged,
                        "exists as a file, and the configuration makes this module too (provide_module): "
                        "its values must come from one place; a build leaves the git-ignored file out "
                        "unless include-ignored names it",
                    )
                ],
                name=self.name,
            )
        values = {field: revealed(getattr(self, field)) for field in fields}
        if self._defaults and example:
            stand_ins = vars(importlib.import_module(example))
            values = {
                field: stand_ins[field] if value is None and field in stand_ins else value
                for field, value in values.items()
            }
        module = ProvidedModule(
            name,
            f"{name}, made from the configuration by django-zipserve: read-only; "
            "set its values in the configuration file.",
        )
        module.__dict__.update(
            __spec__=importlib.machinery.ModuleSpec(name, None, origin="django-zipserve configuration"),
            __loader__=None,
            __package__=parent_name,
            **{field: value for field, value in values.items() if value is not None},
        )
        sys.modules[name] = module
        if parent is not None:
            setattr(parent, child, module)
        self._provided.update(fields)
        return module

    def apply(self, namespace: MutableMapping[str, Any]) -> None:
        """Turn this configuration into Django settings in ``namespace``
        (the ``globals()`` of a settings module); on a setting that cannot
        work here, print a report and exit with status 2."""
        try:
            apply_config(self, namespace)
        except ConfigError as exc:
            exc.exit()


def _packaged_origin(name: str) -> str | None:
    """Where the module ``name`` is found when it is a real one (a file),
    not one that :meth:`ZipserveConfig.provide_module` made; else None."""
    existing = sys.modules.get(name)
    if isinstance(existing, ProvidedModule):
        return None
    if existing is not None:
        spec = getattr(existing, "__spec__", None)
        return str(getattr(spec, "origin", None) or "imported already")
    spec = importlib.util.find_spec(name)
    return str(spec.origin or name) if spec is not None else None


def setting(field: str, settings: Any = None) -> Any:
    """A configuration value as the running site has it (``"BIND"``,
    ``"WORKERS"``, ``"THREADS"``, ``"TIMEOUT"``, ``"WARMUP"``,
    ``"WARMUP_PATHS"``, ``"STATIC_FRONT"``, or ``"NAME"``
    for the project's name): what ``config.apply()`` put into Django's
    settings, else the value the configuration class declares as default,
    so a project that does not apply the configuration gets the same answer
    everywhere."""
    if settings is None:
        from django.conf import settings as django_settings

        settings = django_settings
    if field == "NAME":
        return getattr(settings, "ZIPSERVE_NAME", ZipserveConfig.name)
    if f"ZIPSERVE_{field}" not in SERVER_SETTINGS:
        raise KeyError(f"{field} is not a setting the servers read")
    return getattr(
        settings,
        f"ZIPSERVE_{field}",
        ZipserveConfig.model_fields[field].get_default(call_default_factory=True),
    )
