"""The text of the Python files init writes: formatted as ``ruff format``
would (88 columns), so that they pass a project's own lint unchanged."""

import json
import textwrap

HEADER = "Written by `python -m django_zipserve init`; yours to edit."
WIDTH = 88


def literal(text):
    """A Python string literal in double quotes."""
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


def field(variable, annotation):
    where = variable.where.rpartition(":")[0]
    description = f"Read by the project's settings ({where}) from ${variable.name}."
    if annotation.startswith("SecretStr"):
        description = f"A secret, read by the project's settings ({where}) from ${variable.name}."
    line = f"        description={literal(description)},\n"
    if len(line) > WIDTH + 1:
        chunks = textwrap.wrap(description, width=WIDTH - 14, drop_whitespace=False, break_on_hyphens=False)
        line = (
            "        description=(\n"
            + "".join(f"            {literal(c)}\n" for c in chunks)
            + "        ),\n"
        )
    return f"    {variable.name}: {annotation} = Field(\n        default=None,\n{line}    )\n"


def settings_module(
    *,
    project,
    name,
    settings,
    environment,
    fields,
    add_app,
    urlconf,
):
    """``<package>/zipserve_settings.py``: the configuration, exported to the
    variables the project's settings read, then those settings, then the
    configuration applied.

    ``fields`` are Variables to declare (a secret one as ``SecretStr``).
    """
    secret = any(variable.secret for variable in fields)
    imports = ["Field", "ZipserveConfig"] if fields else ["ZipserveConfig"]
    text = docstring(
        f"Production settings of {project}, served by django-zipserve: the project's own settings, "
        f"then the configuration. {HEADER}"
    )
    text += f"\nfrom django_zipserve.conf import {', '.join(imports)}\n"
    if secret:
        text += "from pydantic import SecretStr\n"
    config_var = name.upper().replace("-", "_").replace(".", "_") + "_CONFIG"
    model_config = [
        f'"file_env_var": {literal(config_var)}',
        f'"default_files": [{literal(f"/etc/{name}/config.yml")}]',
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
    for variable in fields:
        text += "\n" + field(variable, "SecretStr | None" if variable.secret else "str | None")
    text += (
        "\n\nconfig = Config.load()\n"
        "# The values of the configuration become the variables the settings read.\n"
        "config.export_environment()\n\n"
        f"from {settings} import *  # noqa: E402,F403\n\n"
    )
    if add_app:
        text += 'INSTALLED_APPS = [*INSTALLED_APPS, "django_zipserve"]  # noqa: F405\n'
    if urlconf:
        text += f"ROOT_URLCONF = {literal(urlconf)}\n"
    text += "\nconfig.apply(globals())\n"
    return text


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
