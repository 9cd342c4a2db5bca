"""The text of the Python files init writes: formatted as ``ruff format``
would (88 columns), so that they pass a project's own lint unchanged."""

import json
import re
import textwrap

from ..conf.errors import SYSTEM_CONFIG_FILE

HEADER = "Written by `python -m django_zipserve init`; yours to edit."
WIDTH = 88


def literal(text):
    """A Python string literal as ruff format writes it: in double quotes,
    unless the text holds double quotes and no single ones (a comment of the
    project's that quotes a command)."""
    if '"' in text and "'" not in text:
        return repr(text)
    return json.dumps(text, ensure_ascii=False)


def docstring(text):
    """A docstring wrapped to WIDTH columns."""
    return textwrap.fill(text, width=WIDTH - 3, initial_indent='"""', break_on_hyphens=False) + '"""\n'


def sequence(opening, items, closing, indent=""):
    """``opening + items + closing`` on one line when it fits, else one item a line."""
    one_line = f"{indent}{opening}{', '.join(items)}{closing}"
    if len(one_line) <= WIDTH:
        return one_line
    inner = "".join(f"{indent}    {item},\n" for item in items)
    return f"{indent}{opening}\n{inner}{indent}{closing}"


def main_module(package, settings):
    """``<package>/__main__.py``: the entry point of manage-like commands, the
    console script and the zipapp."""
    return (
        docstring(
            f"Command-line entry point of {package}: ``python -m {package}``, the console script and "
            f"the zipapp. {HEADER}"
        )
        + "\nfrom django_zipserve.entrypoint import make_main\n\n"
        + f"main = make_main({literal(settings)})\n\n"
        + 'if __name__ == "__main__":\n    main()\n'
    )


#: The generated settings' name for the configuration object: a name the
#: project's own settings, star-imported after it, do not define (Baby
#: Buddy's and many others' settings hold a module-level ``config`` dict).
CONFIG_NAME = "zipserve_config"

#: The type a configuration field gets from what the settings make of its text.
ANNOTATIONS = {"bool": "bool", "int": "int", "float": "float", "list": "list[str]"}


def annotation(variable):
    """``int | None`` for ``env.int("CONN_MAX_AGE")``, ``SecretStr | None``
    for a secret's text, else ``str | None``: a value of the wrong type is
    then refused in one line naming the key, and 60 in YAML is a number."""
    if variable.kind in ANNOTATIONS:
        return f"{ANNOTATIONS[variable.kind]} | None"
    return "SecretStr | None" if variable.secret else "str | None"


def field(variable, annotation):
    where = variable.where.rpartition(":")[0]
    description = f"Read by the project's settings ({where}) from ${variable.name}."
    if annotation.startswith("SecretStr"):
        description = f"A secret, read by the project's settings ({where}) from ${variable.name}."
    return declaration(variable.name, annotation, description)


def module_field(value):
    """A field for a value of a local configuration module; one that holds a
    secret its type cannot say (a mapping with a PASSWORD) is marked as one."""
    extra = '        json_schema_extra={"secret": True},\n' if value.secret else ""
    return declaration(value.name, value.annotation, value.description, extra)


def declaration(name, annotation, description, extra=""):
    """``NAME: annotation = Field(default=None, description=..., ...)``."""
    line = f"        description={literal(description)},\n"
    if len(line) > WIDTH + 1:
        line = (
            "        description=(\n"
            + "".join(f"            {chunk}\n" for chunk in wrapped_literals(description, WIDTH - 12))
            + "        ),\n"
        )
    return f"    {name}: {annotation} = Field(\n        default=None,\n{line}{extra}    )\n"


def wrapped_literals(text, width):
    """``text`` as string literals of at most ``width`` columns each (escapes
    counted), split between words; they concatenate back to ``text``."""
    pieces = [piece for piece in re.split(r"(?<= )", text) if piece]
    chunks, current = [], ""
    for piece in pieces:
        if current and len(literal(current + piece)) > width:
            chunks.append(current)
            current = ""
        current += piece
    chunks.append(current)
    return [literal(chunk) for chunk in chunks]


def comment(text, indent=""):
    """``# text`` wrapped to WIDTH columns."""
    return "".join(f"{indent}# {line}\n" for line in textwrap.wrap(text, width=WIDTH - len(indent) - 2))


def provide_call(module, names):
    """``zipserve_config.provide_module("netbox.configuration", (...), example=...)``,
    with a comment saying why."""
    text = comment(
        f"The module {module.name}, which the settings import, is made from the configuration: "
        "each machine wrote its own, which is never packaged. It is read-only: its values are "
        "set in the configuration file."
    )
    items = [literal(name) for name in names]
    values = f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    arguments = [literal(module.name), values]
    if module.example_module:
        arguments.append(f"example={literal(module.example_module)}")
    one_line = f"{CONFIG_NAME}.provide_module({', '.join(arguments)})"
    if len(one_line) <= WIDTH:
        return text + one_line + "\n"
    if len(f"    {values},") > WIDTH:
        arguments[1] = sequence("(", items, ")", indent="    ").lstrip()
    listed = "".join(f"    {argument},\n" for argument in arguments)
    return text + f"{CONFIG_NAME}.provide_module(\n" + listed + ")\n"


def settings_module(
    *,
    project,
    name,
    settings,
    environment,
    fields,
    add_app,
    urlconf,
    modules=(),
    module_fields=(),
    placeholders=None,
    build_values=None,
    overrides=(),
):
    """``<package>/zipserve_settings.py``: the configuration, exported to the
    variables the project's settings read and made into the local modules
    they import, then those settings, then the configuration applied.

    ``fields`` are Variables to declare (a secret one as ``SecretStr``);
    ``modules`` are ``(LocalModule, names to provide)`` pairs, and
    ``module_fields`` the ModuleValues of theirs to declare;
    ``placeholders`` and ``build_values`` the stand-ins of variables read
    with no default (see ZipserveConfig); ``overrides`` the settings of the
    project's replaced after its settings (:mod:`.overrides`).
    """
    secret = any(variable.secret for variable in fields) or any(
        value.annotation.startswith("SecretStr") for value in module_fields
    )
    imports = ["Field", "ZipserveConfig"] if fields or module_fields else ["ZipserveConfig"]
    text = docstring(
        f"Production settings of {project}, served by django-zipserve: the project's own settings, "
        f"then the configuration. {HEADER}"
    )
    if any("Any" in value.annotation for value in module_fields):
        text += "\nfrom typing import Any\n"
    text += f"\nfrom django_zipserve.conf import {', '.join(imports)}\n"
    if secret:
        text += "from pydantic import SecretStr\n"
    config_var = name.upper().replace("-", "_").replace(".", "_") + "_CONFIG"
    model_config = [
        f'"file_env_var": {literal(config_var)}',
        f'"default_files": [{literal(SYSTEM_CONFIG_FILE.format(name=name))}]',
    ]
    text += (
        "\n\nclass Config(ZipserveConfig):\n"
        f'    """Configuration of {project}."""\n\n'
        f"    name = {literal(name)}\n"
    )
    text += sequence("model_config = {", model_config, "}", indent="    ") + "\n\n"
    text += "    #: Environment variables the project's own settings read (found by init).\n"
    items = [literal(variable) for variable in environment]
    if len(items) == 1:
        text += f"    environment = ({items[0]},)\n"
    else:
        text += sequence("environment = (", items, ")", indent="    ") + "\n"
    if placeholders:
        text += (
            "\n    #: Read with no default into settings apply() replaces: a stand-in\n"
            "    #: keeps the import working (found by init).\n" + mapping("placeholders", placeholders)
        )
    if build_values:
        text += (
            "\n    #: Read with no default: the values used where no configuration is read\n"
            "    #: (the build, config template, --help); elsewhere they must be set.\n"
            + mapping("build_values", build_values)
        )
    for variable in fields:
        text += "\n" + field(variable, annotation(variable))
    for value in module_fields:
        text += "\n" + module_field(value)
    text += (
        f"\n\n{CONFIG_NAME} = Config.load()\n"
        "# The values of the configuration become the variables the settings read.\n"
        f"{CONFIG_NAME}.export_environment()\n"
    )
    for module, names in modules:
        text += provide_call(module, names)
    text += f"\nfrom {settings} import *  # noqa: E402,F403\n\n"
    if add_app:
        text += 'INSTALLED_APPS = [*INSTALLED_APPS, "django_zipserve"]  # noqa: F405\n'
    if urlconf:
        text += f"ROOT_URLCONF = {literal(urlconf)}\n"
    for override in overrides:
        text += "\n" + comment(override.comment) + override.code + "\n"
    text += f"\n{CONFIG_NAME}.apply(globals())\n"
    return text


def mapping(name, values):
    """A class attribute holding a dict of strings, one item a line when long."""
    items = [f"{literal(key)}: {literal(value)}" for key, value in values.items()]
    return sequence(f"{name} = {{", items, "}", indent="    ") + "\n"


def urls_module(project, urlconf, handlers=()):
    """``<package>/zipserve_urls.py``: the health view first, so that no
    pattern of the project can shadow it, then the project's URLconf."""
    text = docstring(
        f"URLs of {project} as django-zipserve serves them: the health view first, so that no "
        f"pattern of the project (a catch-all page tree) can shadow it, then the project's own "
        f"URLconf. {HEADER}"
    )
    text += "\nfrom django.urls import include, path\n"
    if handlers:
        text += "\n# Django looks for the error views in ROOT_URLCONF only.\n"
        line = f"from {urlconf} import {', '.join(handlers)}  # noqa: F401\n"
        if len(line) > WIDTH + 1:
            line = (
                f"from {urlconf} import (  # noqa: F401\n" + "".join(f"    {h},\n" for h in handlers) + ")\n"
            )
        text += line
    text += (
        "\nurlpatterns = [\n"
        '    path("", include("django_zipserve.urls")),\n'
        f"    path({literal('')}, include({literal(urlconf)})),\n"
        "]\n"
    )
    return text
