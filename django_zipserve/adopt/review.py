"""What a human must review after init: what the settings, the
requirements and the project's layout do that the artifact does not serve
as they expect."""

import ast
import os
import re

from ..zipapp.lockfiles import is_uv_lock, locked_names
from ..zipapp.options import BY_KEY
from . import templates
from .detect import DIRECTORY_SETTINGS, OTHER_LOCK_FILES
from .source import string_constant
from .working_directory import files_named_relatively

#: The build steps django-compressor's offline compression needs.
COMPRESS_STEPS = ["collectstatic --noinput", "compress --force"]


def module_review(module, names, change):
    """What init did about a local module, said once: when the settings that
    provide it are written (a second run, which keeps them, says nothing)."""
    if change.writes:
        state = "git-ignored" if module.present else "not in the source"
        example = f"; example {module.example}" if module.example else ""
        variable = (
            f"; ${module.variable} still names another module when the environment sets it"
            if module.variable
            else ""
        )
        return [
            f"{module.name}: a local configuration module ({module.path}, {state}{example}); its "
            f"{len(names)} values are now configuration fields (config template shows them), the "
            f"module is made from them (zipserve_config.provide_module){variable}; the file itself is never "
            "packaged"
        ]
    old = change.old or ""
    if "provide_module(" not in old or templates.literal(module.name) not in old:
        return [
            f"{change.path} does not make {module.name}, which the settings import and the build "
            f"leaves out ({module.path}): --force rewrites it with zipserve_config.provide_module()"
        ]
    return []


def settings_review(layout, settings, fields):
    review = [
        f"{settings} imports {layout.settings}: check that these are the settings to serve in production"
    ]
    if fields:
        review.append(
            f"declared {len(fields)} variable(s) as configuration values, typed as the settings read them: "
            + ", ".join(variable.name for variable in fields)
        )
    if not layout.root_urlconf:
        review.append("ROOT_URLCONF was not found in the settings: include django_zipserve.urls yourself")
    elif layout.urlconf_has_health:
        review.append(
            f"{layout.root_urlconf} already includes django_zipserve.urls: "
            "check that it comes before any catch-all pattern"
        )
    if not layout.source.mentions("INSTALLED_APPS", "django.contrib.staticfiles"):
        review.append(
            "django.contrib.staticfiles is not in INSTALLED_APPS: the build's collectstatic needs it"
        )
    for where in layout.source.computed:
        review.append(f"{where} reads an environment variable whose name is computed: declare it yourself")
    for where in layout.source.dotenv:
        review.append(f"{where} reads a .env file: the zipapp has none, values come from the configuration")
    local = {module.name for module in layout.local_modules}
    for module in layout.source.outside:
        if module not in local:
            review.append(f"settings star-import {module}, which is not part of the project: not read")
    return review


def project_review(layout):
    review = []
    if layout.settings_origin.startswith("beside "):
        review.append(
            f"settings {layout.settings}: the production settings {layout.settings_origin}; "
            "--settings MODULE chooses others"
        )
    elif layout.settings_origin not in ("manage.py", "--settings"):
        review.append(
            f"settings {layout.settings} come from {layout.settings_origin}, not manage.py's: "
            "check they are the production ones"
        )
    if layout.skipped:
        review.append(f"not packaged: {', '.join(layout.skipped)} (tests or documentation)")
    data_key = "data-dirs" in BY_KEY
    if layout.data_dirs and not data_key:
        review.append(
            f"{', '.join(layout.data_dirs)} outside the packages: this django-zipserve's build cannot "
            "ship them (no data-dirs setting); move them into a package"
        )
    # With front-end shell steps to write, the front-end review names these files.
    if layout.missing_static and not (layout.frontend and layout.frontend.steps):
        shown = ", ".join(f"{reference} ({template})" for reference, template in layout.missing_static[:3])
        more = f" and {len(layout.missing_static) - 3} more" if len(layout.missing_static) > 3 else ""
        commands = f" (the project's commands: {', '.join(layout.commands)})" if layout.commands else ""
        review.append(
            f"templates use static files that are not in the source: {shown}{more}; a build step must "
            f"write them: manage-steps{commands} or shell-steps in [tool.django-zipserve]"
        )
    review += working_directory_review(layout)
    if not layout.requirements:
        if layout.other_lock_files:
            for name in layout.other_lock_files:
                review.append(f"{name}: export it for the build: {OTHER_LOCK_FILES[name]}")
        else:
            review.append("no requirements file: the build installs the dependencies of pyproject.toml only")
    else:
        review += requirements_review(layout)
    if layout.python and layout.python_origin != "pyproject.toml":
        review.append(
            f"{layout.python_origin} asks for Python {layout.python.lstrip('>=')}: build with that Python "
            "(the artifact runs with the version it was built with)"
        )
    return review


def working_directory_review(layout):
    """Files the code opens relative to the working directory, which the artifact's is not."""
    found = files_named_relatively(layout.root, layout.package_root, layout.packages)
    if not found:
        return []
    shown = ", ".join(f"{text!r} ({module}:{line})" for module, line, text in found[:3])
    more = f" and {len(found) - 3} more" if len(found) > 3 else ""
    return [
        f"the code names files relative to the project's directory: {shown}{more}; from the artifact the "
        "working directory is another (the state directory under systemd) and they are not found: build "
        "each path from the module's own (Path(__file__).resolve().parent / ...) and declare the files "
        "as package data"
    ]


def requirements_review(layout):
    """Requirements that make a build slow or fragile (LESSONS: files written
    for another platform)."""
    review = []
    names = requirement_names(layout.root / layout.requirements)
    if "uwsgi" in names:
        review.append(
            f"{layout.requirements} names uwsgi, which compiles at build time: django-zipserve brings "
            "pyuwsgi (a wheel); remove it"
        )
    if "psycopg2" in names or "mysqlclient" in names:
        review.append(
            f"{layout.requirements} names a database driver that compiles at build time "
            "(psycopg2, mysqlclient): psycopg[binary] or psycopg2-binary install as wheels"
        )
    return review


def requirement_names(path):
    """The distributions a requirements file or a ``uv.lock`` names."""
    if is_uv_lock(path):
        return locked_names(path)
    names = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        requirement = re.split(r"[\s<>=!~;\[@]", line.strip(), maxsplit=1)[0].lower()
        if requirement and not requirement.startswith(("#", "-")):
            names.append(requirement.replace("_", "-"))
    return names


def relative_directories(source):
    """(setting, entry, where) for each directory a setting names relative to the working directory."""
    found = []
    for name in DIRECTORY_SETTINGS:
        for assignment in source.assigned(name):
            if name == "TEMPLATES":
                if assignment.key[-1:] == ("DIRS",):
                    entries = _entries(assignment.value)
                else:
                    entries = [
                        entry
                        for node in ast.walk(assignment.value)
                        if isinstance(node, ast.Dict)
                        for key, value in zip(node.keys, node.values, strict=True)
                        if key is not None and string_constant(key) == "DIRS"
                        for entry in _entries(value)
                    ]
            else:
                entries = _entries(assignment.value, pairs=name == "STATICFILES_DIRS")
            for entry in entries:
                if entry and not os.path.isabs(entry) and not entry.startswith("~"):
                    found.append((name, entry, source.where(assignment)))
    return found


def _entries(node, pairs=False):
    """The string entries of a list of directories (or of ``.append("x")``)."""
    if isinstance(node, ast.Call):
        items = node.args
    elif isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        items = node.elts
    else:
        items = [node]
    entries = []
    for item in items:
        if pairs and isinstance(item, ast.Tuple) and len(item.elts) == 2:
            item = item.elts[1]  # ("prefix", "directory")
        text = string_constant(item)
        if text is not None:
            entries.append(text)
    return entries


def compress_offline(source):
    """The assignment that turns django-compressor's offline compression on, or None."""
    last = source.last("COMPRESS_OFFLINE")
    if last is None or (isinstance(last.value, ast.Constant) and not last.value.value):
        return None
    return last


def settings_file_review(layout, zipserve_table):
    """What the settings do that the artifact does not serve as they expect."""
    source = layout.source
    review = []
    for name, entry, where in relative_directories(source):
        review.append(
            f"{name} names {entry!r} ({where}), relative to the working directory: from the artifact it "
            "reads the source tree or fails; build it from BASE_DIR or the package's path "
            "(Path(__file__).resolve().parent / ...)"
        )
    offline = compress_offline(source)
    if offline is not None and "manage-steps" not in zipserve_table:
        steps = ", ".join(f'"{step}"' for step in COMPRESS_STEPS)
        review.append(
            f"COMPRESS_OFFLINE is on ({source.where(offline)}): add manage-steps = [{steps}] to "
            "[tool.django-zipserve] (compress needs the collected files; the build runs its own "
            "collectstatic afterwards)"
        )
    for path, where in source.files_read:
        review.append(
            f"the settings read {layout.relative(path)} ({where}) when imported: the artifact has no such "
            "file; list it in data-dirs in [tool.django-zipserve] (files are copied as they are) or move "
            "it into a package"
        )
    proxy = source.last("SECURE_PROXY_SSL_HEADER")
    if proxy is not None and not (isinstance(proxy.value, ast.Constant) and proxy.value.value is None):
        review.append(
            f"SECURE_PROXY_SSL_HEADER is set by the settings ({source.where(proxy)}): config.apply() keeps "
            "it, so `config show` says TRUST_X_FORWARDED_PROTO is false while the header is trusted; "
            "remove it and set TRUST_X_FORWARDED_PROTO instead"
        )
    return review
