"""Where configuration values come from, and a record of where each came from.

:data:`SOURCES` declares the sources once, highest precedence first; the
collecting below, the error messages ("looked in ...") and the generated
reference all follow that one declaration.

Each value keeps a note of its origin so that errors and ``config show`` can
say "environment variable WORKERS" or "file /etc/app.yml" instead of leaving
the operator to guess. pydantic-settings reads the environment itself, but
it cannot tell us where a value came from, and it crashes on a malformed list
in the environment; so the collecting is done here and pydantic only
validates.
"""

import json
import os
import re
import sys
import types
import typing
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretBytes, SecretStr

from .errors import DEFAULT_NAME, ConfigError, Problem

YAML_EXTENSIONS = (".yaml", ".yml")
JSON_EXTENSIONS = (".json",)
TOML_EXTENSIONS = (".toml",)
SUPPORTED_EXTENSIONS = YAML_EXTENSIONS + JSON_EXTENSIONS + TOML_EXTENSIONS

# The file given with ``--config FILE`` before the command name; set by the
# entry point, read once when the configuration loads.
_command_line_file = None
# True for commands that describe the configuration rather than use it
# (``config template``, ``config docs``): they must work before a valid
# configuration exists.
_defaults_only = False


@dataclass(frozen=True)
class Sourced:
    """A raw value and a human description of where it came from."""

    value: typing.Any
    where: str


def set_command_line_file(path):
    """Remember the file given with ``--config``; it wins over all others."""
    global _command_line_file
    _command_line_file = os.path.abspath(path) if path else None


def command_line_file():
    """The file given with ``--config`` before the command name, or None."""
    return _command_line_file


def use_defaults_only(enabled=True):
    global _defaults_only
    _defaults_only = enabled


def defaults_only(environ):
    """Read no file and no variable: describing commands, and the build
    (whose output must not depend on the build machine's configuration)."""
    return _defaults_only or environ.get("DJANGO_ZIPSERVE_BUILD") == "1"


SECRET_TYPES = (SecretStr, SecretBytes)
#: What marks a field whose value holds a secret its type cannot say: a
#: mapping with a password inside (``DATABASE = {"PASSWORD": ...}``), a
#: mapping of peppers. ``Field(..., json_schema_extra={"secret": True})``:
#: it is redacted, kept out of error messages and read from the secret
#: sources like a ``SecretStr``.
SECRET_MARK = "secret"


def is_secret(field):
    """A field holds a secret if its type contains one anywhere
    (``SecretStr``, ``list[SecretStr]``, ``dict[str, SecretBytes]``...), or
    it is marked as one (:data:`SECRET_MARK`)."""
    return _contains_secret(field.annotation) or is_marked_secret(field)


def is_marked_secret(field):
    extra = field.json_schema_extra
    return isinstance(extra, dict) and extra.get(SECRET_MARK) is True


def _contains_secret(annotation):
    if annotation in SECRET_TYPES:
        return True
    return any(_contains_secret(argument) for argument in typing.get_args(annotation))


def is_list(field):
    return any(
        typing.get_origin(member) in (list, tuple, set, frozenset)
        for member in _annotation_members(field.annotation)
    )


def is_mapping(field):
    return any(
        member is dict or typing.get_origin(member) is dict
        for member in _annotation_members(field.annotation)
    )


def is_optional(field):
    return type(None) in _annotation_members(field.annotation)


def _annotation_members(annotation):
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return args
    return (annotation,)


def choose_config_file(config_cls, environ, explicit=None):
    """Return ``(path, why)`` of the file to read, or ``(None, why)``.

    ``--config`` wins, then the project's own environment variable, then the
    first default location that exists. A file that was asked for explicitly
    must exist; default locations are optional.
    """
    explicit = explicit or _command_line_file
    if explicit:
        return os.path.abspath(explicit), "given with --config"
    env_var = config_cls.model_config.get("file_env_var")
    if env_var and environ.get(env_var):
        return os.path.abspath(environ[env_var]), f"named by environment variable {env_var}"
    for candidate in config_cls.model_config.get("default_files") or ():
        if Path(candidate).is_file():
            return os.path.abspath(candidate), "a default location"
    return None, ""


def read_config_file(path, why="", name=DEFAULT_NAME):
    """Parse one configuration file into a mapping, or raise ConfigError."""
    where = f"file {path}" + (f", {why}" if why else "")

    def fail(message):
        raise ConfigError([Problem("", where, message)], name=name)

    extension = Path(path).suffix.lower()
    if extension not in SUPPORTED_EXTENSIONS:
        fail(
            f"unsupported file extension {extension or '(none)'!r}; "
            f"expected one of {', '.join(SUPPORTED_EXTENSIONS)}"
        )
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        fail("file not found")
    except IsADirectoryError:
        fail("is a directory, expected a file")
    except PermissionError:
        fail("permission denied: the file is not readable by this user")
    except UnicodeDecodeError:
        fail("cannot be decoded as UTF-8 text")
    except OSError as exc:
        fail(f"cannot be read: {exc.strerror}")
    try:
        data = _parse(text, extension)
    except ValueError as exc:
        fail(str(exc))
    except RecursionError:
        fail("nested too deeply to be a configuration")
    if data is None:
        return {}
    if not isinstance(data, dict):
        fail("expected a mapping of setting names to values at the top level")
    return data


def _parse(text, extension):
    """Parse text; raise ValueError with a message that quotes no content."""
    if extension in YAML_EXTENSIONS:
        return _parse_yaml(text)
    if extension in TOML_EXTENSIONS:
        return _parse_toml(text)
    try:
        return json.loads(text) if text.strip() else None
    except json.JSONDecodeError as exc:
        raise ValueError(f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None


def _parse_yaml(text):
    from ruamel.yaml import YAML
    from ruamel.yaml.constructor import DuplicateKeyError
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        return YAML(typ="safe", pure=True).load(text)
    except DuplicateKeyError as exc:
        # ruamel's own message quotes both values, which may be secrets.
        mark = exc.problem_mark
        key = re.search(r'duplicate key "([^"]*)"', str(exc.problem or ""))
        name = f" {key.group(1)}" if key else ""
        raise ValueError(f"malformed YAML at line {mark.line + 1}: duplicate key{name}") from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        position = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ValueError(f"malformed YAML{position}: {exc.problem or exc.context}") from None
    except YAMLError as exc:
        raise ValueError(f"malformed YAML: {type(exc).__name__}") from None


def _parse_toml(text):
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"malformed TOML: {exc}") from None


def env_var_name(config_cls, field_name):
    return (config_cls.model_config.get("env_prefix") or "") + field_name


@dataclass(frozen=True)
class Source:
    """One place a value can come from."""

    name: str
    #: How the reference describes it; ``{env}`` is the field's variable,
    #: ``{credential}`` its credential name.
    description: str
    #: Only fields that hold a secret are read from it.
    secrets_only: bool = False
    #: ``reader(context, field_name, field)``: a :class:`Sourced`, or None.
    reader: typing.Callable | None = None


@dataclass
class _Context:
    """What the readers share while one configuration is collected."""

    config_cls: type
    environ: typing.Mapping
    file_values: dict
    problems: list


def _from_environment(context, field_name, field):
    env_name = env_var_name(context.config_cls, field_name)
    if env_name not in context.environ:
        return None
    where = f"environment variable {env_name}"
    if is_secret(field) and f"{env_name}_FILE" in context.environ:
        context.problems.append(
            Problem(
                field_name, f"environment variables {env_name} and {env_name}_FILE", "set only one of them"
            )
        )
        return None
    try:
        return Sourced(_from_env_text(context.environ[env_name], field), where)
    except ValueError as exc:
        context.problems.append(Problem(field_name, where, str(exc)))
        return None


def _from_secret_file(context, field_name, field):
    file_var = f"{env_var_name(context.config_cls, field_name)}_FILE"
    if file_var not in context.environ:
        return None
    found = _read_secret_file(context.environ[file_var], field_name, file_var, context.problems)
    return _structured(found, field_name, field, context.problems)


def _from_credential(context, field_name, field):
    directory = context.environ.get("CREDENTIALS_DIRECTORY")
    found = _read_credential(directory, field_name, context.problems) if directory else None
    return _structured(found, field_name, field, context.problems)


def _structured(found, field_name, field, problems):
    """A secret file's text as the value of a mapping or list field (a JSON
    object, a JSON list or comma-separated values); other fields take the
    text as it is."""
    if found is None or not (is_mapping(field) or is_list(field)):
        return found
    try:
        return Sourced(_from_env_text(found.value, field), found.where)
    except ValueError as exc:
        problems.append(Problem(field_name, found.where, str(exc)))
        return None


def _from_config_file(context, field_name, field):
    return context.file_values.get(field_name)


#: Where values come from, highest precedence first.
SOURCES = (
    Source(
        "environment", "the environment variable named after the field (`{env}`)", reader=_from_environment
    ),
    Source(
        "secret file",
        "for secrets, a file named by `{env}_FILE` (one trailing newline is dropped; "
        "setting both `{env}` and `{env}_FILE` is an error)",
        secrets_only=True,
        reader=_from_secret_file,
    ),
    Source(
        "credential",
        "for secrets, the systemd credential `$CREDENTIALS_DIRECTORY/{credential}`",
        secrets_only=True,
        reader=_from_credential,
    ),
    Source(
        "config file",
        "one configuration file (YAML, JSON or TOML by its extension): the file given "
        "with `--config FILE` before the command name, else the file named by the project's "
        "`file_env_var`, else the first of its `default_files` that exists; keys match field names, "
        "case-insensitively",
        reader=_from_config_file,
    ),
    Source("default", "the field's default"),
)


def sources_for(field):
    """The sources a field can be read from, highest precedence first."""
    return [source for source in SOURCES if not source.secrets_only or is_secret(field)]


def places_for(config_cls, field_name, path):
    """Where a missing value could have been given, in precedence order."""
    env = env_var_name(config_cls, field_name)
    names = {
        "environment": f"environment variable {env}",
        "secret file": f"{env}_FILE",
        "credential": f"$CREDENTIALS_DIRECTORY/{field_name.lower()}",
        "config file": f"file {path}" if path else "a config file (none was found)",
    }
    field = config_cls.model_fields[field_name]
    return [names[source.name] for source in sources_for(field) if source.name in names]


def collect(config_cls, environ=None, config_file=None, fields=None):
    """Gather raw values for every field (or those of ``fields``, a mapping
    of names to fields) from every source.

    Returns ``(values, file_path, problems)``: ``values`` maps a field name
    to a :class:`Sourced`; ``problems`` lists values that could not be read,
    so that they are reported together with the invalid ones. A file that
    cannot be read at all raises ConfigError at once.
    """
    environ = os.environ if environ is None else environ
    path, why = choose_config_file(config_cls, environ, config_file)
    file_values, problems = _file_values(config_cls, path, why)
    context = _Context(config_cls, environ, file_values, problems)
    values = {}
    for field_name, field in (config_cls.model_fields if fields is None else fields).items():
        for source in sources_for(field):
            found = source.reader(context, field_name, field) if source.reader else None
            if found is not None:
                values[field_name] = found
                break
    return values, path, problems


#: What an unknown key must look like to be named in a report: a broken line
#: (``API_TOKEN s3cret`` after a lost colon) can make a value part of a key.
SETTING_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def _unknown_key(config_cls, key, path):
    message = "unknown setting; see `config docs` for the valid names"
    secret = _secret_name_it_extends(config_cls, str(key))
    if secret is not None:
        return Problem(
            "",
            f"file {path}",
            f"a key that begins like {secret} and goes on (not shown: a lost ': ' "
            "joins the secret to its name); see `config docs` for the valid names",
        )
    if SETTING_NAME.fullmatch(str(key)):
        return Problem(str(key), f"file {path}", message)
    return Problem(
        "",
        f"file {path}",
        "a key that is not a setting name (not shown: a broken line can make a "
        "value part of it); see `config docs` for the valid names",
    )


def _secret_name_it_extends(config_cls, key):
    """The secret setting ``key`` may be the name of with its value joined
    on: longer than the name and beginning like it (a lost character or
    two of the name may have gone with the colon)."""
    for name, field in config_cls.model_fields.items():
        shared = os.path.commonprefix([key.lower(), name.lower()])
        if len(key) > len(name) and len(shared) >= min(4, len(name)) and is_secret(field):
            return name
    return None


def _file_values(config_cls, path, why):
    """``({field: Sourced}, problems)`` from the configuration file."""
    values: dict[str, Sourced] = {}
    problems: list[Problem] = []
    if not path:
        return values, problems
    by_lower = {field.lower(): field for field in config_cls.model_fields}
    for key, value in read_config_file(path, why, name=config_cls.name).items():
        field = by_lower.get(str(key).lower())
        if field is None:
            problems.append(_unknown_key(config_cls, key, path))
        else:
            values[field] = Sourced(value, f"file {path}")
    return values, problems


def _read_credential(directory, field_name, problems):
    # Read, not tested first: a directory this user may not search (an
    # administrator's shell with the service's CREDENTIALS_DIRECTORY) fails
    # the test itself.
    for candidate in (field_name.lower(), field_name):
        where = f"credential {candidate} in $CREDENTIALS_DIRECTORY"
        path = Path(directory) / candidate
        try:
            return Sourced(_strip_newline(path.read_text(encoding="utf-8")), where)
        except (FileNotFoundError, NotADirectoryError):
            continue
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(field_name, where, f"{path} cannot be read by this user: {_reason(exc)}"))
            return None
    return None


def _read_secret_file(path, field_name, file_var, problems):
    where = f"file {path}, named by environment variable {file_var}"
    try:
        return Sourced(_strip_newline(Path(path).read_text(encoding="utf-8")), where)
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(field_name, where, f"cannot be read: {_reason(exc)}"))
        return None


def _reason(exc):
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    return exc.strerror or type(exc).__name__


def _strip_newline(text):
    # Files written by editors and `echo` end in a newline that is never part
    # of the secret.
    return text[:-1] if text.endswith("\n") else text


def _from_env_text(text, field):
    """Convert an environment string into the raw value pydantic expects."""
    if text == "" and is_optional(field):
        return None
    if is_mapping(field):
        return _json_object(text)
    if is_list(field):
        stripped = text.strip()
        if stripped.startswith("["):
            try:
                value = json.loads(stripped)
            except json.JSONDecodeError:
                raise ValueError(
                    "expected a JSON list or comma-separated values; the JSON list is malformed"
                ) from None
            if not isinstance(value, list):
                raise ValueError("expected a JSON list or comma-separated values")
            return value
        return [item.strip() for item in text.split(",") if item.strip()]
    return text


def _json_object(text):
    """A mapping given as text: a JSON object. The message quotes none of it:
    a mapping may hold a password."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"expected a JSON object; malformed at line {exc.lineno}, column {exc.colno}"
        ) from None
    if not isinstance(value, dict):
        raise ValueError("expected a JSON object")
    return value
