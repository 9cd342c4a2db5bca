"""Documents generated from the configuration class: starting files in
YAML, JSON and TOML, a Markdown reference, and the resolved values.

Everything is written from the fields themselves (name, type, default,
description), so the documentation cannot drift from the code. goodconf's
own generators stop at secret and path values; these do not.
"""

import json
import textwrap
import types
import typing

from goodconf import initial_for_field
from pydantic import SecretStr
from pydantic_core import PydanticUndefined

from . import sources

FORMATS = ("yaml", "json", "toml")
TYPE_NAMES = {str: "string", bool: "boolean", int: "integer", float: "number", dict: "mapping"}
REDACTED = "********"


def initial_values(config_cls):
    """A starting value for every field: its default, or its ``initial``
    factory (a fresh random SECRET_KEY), as plain JSON-compatible data."""
    values = {}
    for name, field in config_cls.model_fields.items():
        values[name] = plain(initial_for_field(name, field))
    return values


def plain(value):
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, (list, tuple, set)):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _comment(text, width=76):
    return [f"# {line}" for line in textwrap.wrap(text, width)]


def template(config_cls, fmt):
    """A documented starting configuration file in ``fmt``."""
    values = initial_values(config_cls)
    if fmt == "json":
        return json.dumps(values, indent=2) + "\n"
    lines = _comment(config_cls.__doc__ or "Configuration") + [""]
    for name, field in config_cls.model_fields.items():
        if field.description:
            lines += _comment(field.description)
        value = values[name]
        if fmt == "toml":
            # TOML has no null: an unset value stays a comment.
            lines.append(f"# {name} = " if value is None else f"{name} = {toml_value(value)}")
        else:
            # YAML reads JSON's flow syntax as it is.
            lines.append(f"{name}: {json.dumps(value, ensure_ascii=False)}")
        lines.append("")
    return "\n".join(lines)


def toml_value(value):
    """A TOML literal for plain data (strings, numbers, lists, tables)."""
    if isinstance(value, dict):
        items = ", ".join(
            f"{json.dumps(str(key), ensure_ascii=False)} = {toml_value(item)}"
            for key, item in value.items()
            if item is not None
        )
        return "{" + (f" {items} " if items else "") + "}"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    # TOML's basic strings, booleans and numbers are written as JSON writes them.
    return json.dumps(value, ensure_ascii=False)


def type_name(annotation):
    is_union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    members = list(typing.get_args(annotation)) if is_union else [annotation]
    names = []
    for member in members:
        if member is type(None):
            continue
        if typing.get_origin(member) is typing.Literal:
            names.append(" | ".join(json.dumps(arg) for arg in typing.get_args(member)))
        elif typing.get_origin(member) in (list, tuple, set):
            inner = typing.get_args(member)
            names.append(f"list of {type_name(inner[0]) if inner else 'values'}")
        elif typing.get_origin(member) is dict:
            names.append("mapping")
        elif member is typing.Any:
            names.append("any value")
        elif member is SecretStr:
            names.append("secret string")
        else:
            names.append(TYPE_NAMES.get(member, getattr(member, "__name__", str(member)).lower()))
    optional = type(None) in typing.get_args(annotation)
    return " or ".join(names) + (" (optional)" if optional else "")


def default_text(field):
    if field.default_factory is not None:
        return "computed"
    if field.default is PydanticUndefined or field.default is None:
        return "—"
    return f"`{json.dumps(plain(field.default), ensure_ascii=False)}`"


def markdown(config_cls):
    """A Markdown reference of every value: type, default, variables."""
    lines = [f"# {config_cls.__doc__ or 'Configuration'}".strip(), ""]
    lines += precedence_lines(config_cls)
    for name, field in config_cls.model_fields.items():
        secret = sources.is_secret(field)
        lines.append(f"## `{name}`" + (" (secret)" if secret else ""))
        lines.append("")
        if field.description:
            lines.append(field.description)
            lines.append("")
        lines.append(f"- type: {type_name(field.annotation)}")
        lines.append(f"- default: {default_text(field)}")
        variables = f"`{sources.env_var_name(config_cls, name)}`"
        if secret:
            variables += f", `{sources.env_var_name(config_cls, name)}_FILE`, credential `{name.lower()}`"
        lines.append(f"- environment: {variables}")
        if name in getattr(config_cls, "environment", ()):
            lines.append(
                f"- exported as `${name}` for the project's own settings, which read it "
                "(`environment`, `export_environment()`)"
            )
        lines.append("")
    return "\n".join(lines)


def precedence_lines(config_cls):
    """The sources of values, highest precedence first, as Markdown."""
    env_var = config_cls.model_config.get("file_env_var")
    files = config_cls.model_config.get("default_files") or []
    lines = ["Sources, highest precedence first:", ""]
    for number, source in enumerate(sources.SOURCES, 1):
        text = source.description.format(env="NAME", credential="name")
        lines.append(f"{number}. {text}")
    details = []
    if env_var:
        details.append(f"this project's `file_env_var` is `{env_var}`")
    if files:
        details.append(f"its `default_files` are {', '.join(f'`{name}`' for name in files)}")
    if details:
        lines += ["", "For the configuration file, " + " and ".join(details) + "."]
    return lines + [""]


def shown_value(config, name):
    value = getattr(config, name)
    if name == "STATE_DIR" and value is None:
        return json.dumps(str(config.state_dir()))
    if isinstance(value, SecretStr) or sources.is_secret(type(config).model_fields[name]):
        return "(not set)" if value is None else REDACTED
    return json.dumps(plain(value), ensure_ascii=False)


def show(config):
    """The resolved values, secrets redacted, each with its source."""
    rows = [(name, shown_value(config, name), config.source_of(name)) for name in type(config).model_fields]
    width_name = max(len(row[0]) for row in rows)
    width_value = min(max(len(row[1]) for row in rows), 48)
    lines = [f"config file: {config.config_file or '(none)'}", ""]
    for name, value, where in rows:
        lines.append(f"{name:<{width_name}}  {value:<{width_value}}  {where}")
    return "\n".join(lines) + "\n"
