"""What init writes, decided from a :class:`~.detect.Layout`, and what a
human must review.

Each Python file is created only when it does not exist (``--force``
replaces it); ``pyproject.toml`` is merged with tomlkit: comments, order and
every value already there are kept, only missing tables, keys and the
``django-zipserve`` dependency are added. Keys of ``[tool.django-zipserve]``
are written only when the build declares them
(``django_zipserve.zipapp.options.BY_KEY``).
"""

import ast
import json
import os
import re
import sys
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from importlib import metadata
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

from ..zipapp import node
from ..zipapp.lockfiles import ZIPSERVE, is_uv_lock, locked_names
from ..zipapp.options import BY_KEY, normalise_name
from . import AdoptError, templates
from .detect import DIRECTORY_SETTINGS, OTHER_LOCK_FILES, PACKAGE_DATA_DIRS, is_field_name
from .frontend import review as frontend_review
from .overrides import overrides
from .source import string_constant
from .test_suite import pytest_requirements

SETUPTOOLS_BACKENDS = (None, "setuptools.build_meta", "setuptools.build_meta:__legacy__")
#: Package data of every package: its templates, static files, translations, fixtures.
PACKAGE_DATA = [f"{name}/**/*" for name in PACKAGE_DATA_DIRS] + ["migrations/**/*"]
DEFAULT_PYTHON = ">=3.10"
#: The names of a project's test settings, beside its settings module.
TEST_SETTINGS = ("test", "testing", "tests", "test_settings", "settings_test")
#: The module init writes the entry point into when the package's
#: ``__main__`` is the project's own command line.
OWN_MAIN = "zipserve_main"
#: The oldest Python each Django major version supports.
DJANGO_PYTHON = {6: (3, 12), 5: (3, 10), 4: (3, 8)}
#: The build steps django-compressor's offline compression needs.
COMPRESS_STEPS = ["collectstatic --noinput", "compress --force"]
DEFAULT_VERSION = "0.1.0"


@dataclass(frozen=True)
class Change:
    """One file: ``create``, ``merge``, ``overwrite`` or ``keep``."""

    path: str  # relative to the project
    action: str
    old: str | None
    new: str | None
    detail: str = ""

    @property
    def writes(self):
        return self.action != "keep"


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...]
    settings: str  # the settings module the site runs with: "mysite.zipserve_settings"
    environment: tuple[str, ...]
    fields: tuple[str, ...]
    review: tuple[str, ...]

    @property
    def pending(self):
        return [change for change in self.changes if change.writes]


def config_name(layout):
    """The configuration's ``name``: state directory, process names."""
    return normalise_name(layout.distribution)


def replaced_by_the_configuration(read):
    """The configuration values that replace what this read sets, or None
    when the project's own value stays (the policies of ``config.apply()``)."""
    from ..conf.django_settings import CONNECTION_KEYS, SETS, SETTINGS

    if read.setting == "DATABASES":
        # The connection of the default database comes from DATABASE_URL; the rest stays.
        default = read.key[:1] == ("default",)
        return "DATABASE_URL" if default and (len(read.key) == 1 or read.key[1] in CONNECTION_KEYS) else None
    replaced = {
        setting.name: setting.source or setting.name for setting in SETTINGS if setting.policy == SETS
    }
    return replaced.get(read.setting)


#: Stand-ins that django-environ's URL readers accept, by method.
URL_STAND_INS = {
    "db": "sqlite://:memory:",
    "db_url": "sqlite://:memory:",
    "cache": "locmemcache://",
    "cache_url": "locmemcache://",
    "email": "consolemail://",
    "email_url": "consolemail://",
    "search_url": "simple://",
}
#: Stand-ins by the kind of value a read makes of the text.
KIND_STAND_INS = {"int": "0", "float": "0", "bool": "False", "list": "stand-in"}


def stand_in(variable):
    """A value that a read of ``variable`` accepts, for where no real one is
    needed: a URL for ``env.db()``, a number for ``env.int()``..."""
    method = variable.reader.rpartition(".")[2]
    return URL_STAND_INS.get(method) or KIND_STAND_INS.get(variable.kind) or "zipserve-stand-in"


def required(layout, name):
    """The first read of the variable with no default, or None: its stand-in
    must suit that read (cookiecutter-django tests ``os.getenv("DATABASE_URL")``
    first, then reads it with ``env.db()``)."""
    return next((read for read in layout.source.variables if read.name == name and read.required), None)


@dataclass(frozen=True)
class Variables:
    """What init declares of the variables the settings read."""

    environment: tuple = ()  # names config.export_environment() exports
    fields: tuple = ()  # Variables declared as fields
    placeholders: dict = field(default_factory=dict)  # required reads of replaced settings
    build_values: dict = field(default_factory=dict)  # required reads, for where nothing is configured
    review: tuple = ()


def variables_plan(layout):
    """The variables to export, declare and stand in for (:class:`Variables`)."""
    from ..conf import ZipserveConfig

    base = ZipserveConfig.model_fields
    # The variable that names a local module (NETBOX_CONFIGURATION) picks
    # where the settings read their values from: not a value to declare; it
    # stays the environment's, and unset, the settings import the module the
    # configuration makes.
    naming = {module.variable for module in layout.local_modules}
    environment, fields, review = [], [], []
    placeholders, build_values = {}, {}
    for variable in layout.variables:
        if variable.name in naming:
            continue
        if variable.name in base:
            environment.append(variable.name)
            read = required(layout, variable.name)
            if read:
                build_values[variable.name] = stand_in(read)
            continue
        reads = [read for read in layout.source.variables if read.name == variable.name]
        replaced = [replaced_by_the_configuration(read) for read in reads]
        if all(replaced):
            review.append(
                f"{variable.name} ({variable.where}) is read into {variable.setting}, which config.apply() "
                f"sets from the configuration ({replaced[0]}): give that instead (not declared)"
            )
            read = required(layout, variable.name)
            if read:
                placeholders[variable.name] = stand_in(read)
            continue
        if not is_field_name(variable.name) or hasattr(ZipserveConfig, variable.name):
            review.append(
                f"{variable.name} ({variable.where}) cannot be a configuration field: set it in the "
                "environment yourself (not declared)"
            )
            continue
        environment.append(variable.name)
        fields.append(variable)
        read = required(layout, variable.name)
        if read:
            build_values[variable.name] = stand_in(read)
    return Variables(tuple(environment), tuple(fields), placeholders, build_values, tuple(review))


def modules_plan(layout, fields):
    """(``(LocalModule, names to provide)`` pairs, ModuleValues to declare):
    a value the configuration already has (ALLOWED_HOSTS, SECRET_KEY, a
    variable declared for the settings) is provided, not declared again."""
    from ..conf import ZipserveConfig

    known = set(ZipserveConfig.model_fields) | {variable.name for variable in fields}
    modules, declared = [], {}
    for module in layout.local_modules:
        names = []
        for value in module.values:
            if value.name not in known and value.name not in declared:
                if not is_field_name(value.name) or hasattr(ZipserveConfig, value.name):
                    continue
                declared[value.name] = value
            names.append(value.name)
        if names:
            modules.append((module, tuple(names)))
    return tuple(modules), tuple(declared.values())


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


def python_file(layout, relative, text, force):
    """Create the file, keep it, or replace it when forced."""
    path = layout.root / relative
    if not path.exists():
        return Change(relative, "create", None, text)
    old = path.read_text(encoding="utf-8", errors="replace")
    if old == text:
        return Change(relative, "keep", old, old, "unchanged")
    if force:
        return Change(relative, "overwrite", old, text)
    return Change(relative, "keep", old, old, "exists; --force replaces it")


def make_plan(layout, force=False):
    package_path = (layout.package_dir.relative_to(layout.root)).as_posix()
    review = []
    environment: tuple = ()
    fields: tuple = ()  # Variables, as in Variables.fields
    if layout.configured:
        settings = layout.settings
        review.append(
            f"{layout.settings} already loads a ZipserveConfig: it is the production settings "
            "(no zipserve_settings.py or zipserve_urls.py written)"
        )
    else:
        settings = f"{layout.package}.zipserve_settings"
        variables = variables_plan(layout)
        environment, fields = variables.environment, variables.fields
        modules, module_fields = modules_plan(layout, fields)
        review += variables.review
    changes = []
    main_text = templates.main_module(layout.package, settings)
    entry = "__main__"
    main = python_file(layout, f"{package_path}/__main__.py", main_text, force)
    if main.action == "keep" and main.old != main_text and "make_main" not in main.old:
        # The project's own command line (NetBox's __main__) stays; the
        # artifact's entry point goes beside it.
        entry = OWN_MAIN
        main = python_file(layout, f"{package_path}/{OWN_MAIN}.py", main_text, force)
        if main.writes:
            review.append(
                f"{package_path}/__main__.py is the project's own command line: the artifact's entry point "
                f"is {layout.package}.{OWN_MAIN}:main (entry-point in [tool.django-zipserve])"
            )
    changes.append(main)
    if not layout.configured:
        refuse_name_clash(layout)
        packages = [layout.package_root / name for name in layout.packages]
        settings_overrides = overrides(layout.source, packages)
        review += [override.review for override in settings_overrides]
        write_urls = bool(layout.root_urlconf) and not layout.urlconf_has_health
        urlconf = f"{layout.package}.zipserve_urls" if write_urls else None
        text = templates.settings_module(
            project=layout.distribution,
            name=config_name(layout),
            settings=layout.settings,
            environment=environment,
            fields=fields,
            add_app=not layout.has_zipserve_app,
            urlconf=urlconf,
            modules=modules,
            module_fields=module_fields,
            placeholders=variables.placeholders,
            build_values=variables.build_values,
            overrides=settings_overrides,
        )
        settings_change = python_file(layout, f"{package_path}/zipserve_settings.py", text, force)
        changes.append(settings_change)
        for module, names in modules:
            review += module_review(module, names, settings_change)
        if write_urls:
            text = templates.urls_module(layout.distribution, layout.root_urlconf, layout.urlconf_handlers)
            changes.append(python_file(layout, f"{package_path}/zipserve_urls.py", text, force))
        review += settings_review(layout, settings, fields)
    pyproject = merge_pyproject(layout, settings, entry)
    changes.append(pyproject.change)
    review += pyproject.review
    review += project_review(layout)
    return Plan(
        changes=tuple(changes),
        settings=settings,
        environment=tuple(environment),
        fields=tuple(variable.name for variable in fields),
        review=tuple(dict.fromkeys(review)),
    )


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
    if layout.settings_origin not in ("manage.py", "--settings"):
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


def refuse_name_clash(layout):
    """The generated settings star-import the project's after loading the
    configuration: a name of theirs would replace it."""
    clash = layout.source.assigned(templates.CONFIG_NAME)
    if clash:
        raise AdoptError(
            f"{layout.source.where(clash[0])} defines {templates.CONFIG_NAME}, the name the generated "
            "settings give the configuration: rename it in the project's settings"
        )


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


def installed_from():
    """Where the running django-zipserve was installed from when it is not a
    package index (PEP 610 ``direct_url.json``): a local path, or a PEP 508
    requirement with its URL; else None."""
    try:
        text = metadata.distribution("django-zipserve").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return None
    if not text:
        return None
    try:
        direct = json.loads(text)
    except ValueError:
        return None
    url = direct.get("url") if isinstance(direct, dict) else None
    if not isinstance(url, str) or not url:
        return None
    vcs = direct.get("vcs_info")
    if isinstance(vcs, dict) and vcs.get("vcs"):
        revision = vcs.get("commit_id") or vcs.get("requested_revision")
        return f"django-zipserve @ {vcs['vcs']}+{url}" + (f"@{revision}" if revision else "")
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return url2pathname(unquote(parsed.path))
    return f"django-zipserve @ {url}"


def running_python():
    return sys.version_info[:2]


def django_python(layout):
    """The oldest Python the Django of the requirements file supports, or None."""
    if not layout.requirements:
        return None
    path = layout.root / layout.requirements
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = line.split("#", 1)[0].strip()
        match = re.match(r"(?i)django\s*(?:\[[^\]]*\])?\s*((?:[<>=!~]=?|===)\s*[^;]+)?", line)
        if not match or requirement_name(line) != "django":
            continue
        lowest = None
        for operator, version in re.findall(r"(~=|==|>=|>|===)\s*(\d+)", match.group(1) or ""):
            major = int(version) + (1 if operator == ">" else 0)
            lowest = major if lowest is None else max(lowest, major)
        if lowest is None:
            return None
        needed = [python for major, python in DJANGO_PYTHON.items() if lowest >= major]
        return max(needed) if needed else None
    return None


def requires_python(layout):
    """The requires-python to write when pyproject.toml has none: the project's
    own (.python-version, runtime.txt), else the running Python's; never lower
    than its Django needs."""
    needed = django_python(layout)
    if layout.python:
        bound = _lower_bound(layout.python)
        if needed is None or bound is None or bound >= needed:
            return layout.python
        return ">={}.{}".format(*needed)
    bound = max(running_python(), needed or (3, 10), _lower_bound(DEFAULT_PYTHON))
    return ">={}.{}".format(*bound)


def _lower_bound(specifier):
    match = re.search(r">=?\s*(\d+)\.(\d+)", str(specifier))
    return (int(match.group(1)), int(match.group(2))) if match else None


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


@dataclass(frozen=True)
class Merged:
    change: Change
    review: list


def merge_pyproject(layout, settings, entry="__main__"):
    try:
        import tomlkit
    except ImportError:
        raise AdoptError(
            "tomlkit is needed to merge pyproject.toml: pip install 'django-zipserve[build]'"
        ) from None

    path = layout.root / "pyproject.toml"
    old = path.read_text(encoding="utf-8") if path.is_file() else None
    try:
        document = tomlkit.parse(old) if old is not None else tomlkit.document()
    except tomlkit.exceptions.ParseError as exc:
        raise AdoptError(f"cannot read {path}: {exc}") from None
    merge = _Merge(layout, document, settings, entry)
    merge.run()
    new = tomlkit.dumps(document)
    if merge.added:
        new = new.rstrip("\n") + "\n"
    if old is None:
        change = Change("pyproject.toml", "create", None, new, ", ".join(merge.added))
    elif new == old:
        change = Change("pyproject.toml", "keep", old, old, "nothing to add")
    else:
        change = Change("pyproject.toml", "merge", old, new, "add " + ", add ".join(merge.added))
    return Merged(change, merge.review)


def _lookup(document, dotted):
    current = document
    for part in dotted.split("."):
        if not hasattr(current, "get") or part not in current:
            return None
        current = current[part]
    return current


def _attach(document, dotted, table):
    """Put a new table at ``dotted``, its missing parents as super tables."""
    import tomlkit

    *parents, last = dotted.split(".")
    current = document
    for part in parents:
        if part not in current:
            current[part] = tomlkit.table(is_super_table=True)
        current = current[part]
    current[last] = table


def _array(items):
    import tomlkit

    array = tomlkit.array()
    array.extend(items)
    if len(", ".join(items)) > 60:
        array.multiline(True)
    return array


def requirement_name(requirement):
    return normalise_name(re.split(r"[\s<>=!~;\[@(]", requirement.strip(), maxsplit=1)[0])


class _Merge:
    def __init__(self, layout, document, settings, entry="__main__"):
        self.layout = layout
        self.document = document
        self.settings = settings
        self.entry = entry  # the module of the package that holds main()
        self.added = []
        self.review = []
        self.pending = {}

    def has(self, table_name, key):
        table = _lookup(self.document, table_name)
        return (table is not None and hasattr(table, "get") and key in table) or key in self.pending.get(
            table_name, {}
        )

    def add(self, table_name, key, value, label=None):
        """Add ``key`` to a table unless it is there; False when it was."""
        if self.has(table_name, key):
            return False
        self.pending.setdefault(table_name, {})[key] = value
        if label is None:
            label = f"[{table_name}]" if _lookup(self.document, table_name) is None else f"{table_name}.{key}"
        self.added.append(label)
        return True

    def apply(self):
        """Write the pending keys: into existing tables (tomlkit puts them
        before the table's trailing blank line), or as new tables."""
        import tomlkit

        for table_name, values in self.pending.items():
            table = _lookup(self.document, table_name)
            if table is not None:
                for key, value in values.items():
                    table[key] = value
                continue
            table = tomlkit.table()
            for key, value in values.items():
                table[key] = value
            table.add(tomlkit.nl())
            _attach(self.document, table_name, table)

    def run(self):
        layout = self.layout
        backend = layout.build_backend
        if "build-system" not in self.document:
            self.add("build-system", "requires", _array(["setuptools>=68"]), "[build-system]")
            self.add("build-system", "build-backend", "setuptools.build_meta", "[build-system]")
        self.project()
        if backend in SETUPTOOLS_BACKENDS:
            self.setuptools()
        else:
            self.review.append(
                f"pyproject.toml builds with {backend}: make sure it packages {', '.join(layout.packages)} "
                f"and their {'/'.join(PACKAGE_DATA_DIRS)} directories (no [tool.setuptools] written)"
            )
        self.zipserve()
        self.apply()
        self.added = list(dict.fromkeys(self.added))

    def project(self):
        layout = self.layout
        project = _lookup(self.document, "project") or {}
        self.add("project", "name", layout.distribution)
        dynamic = [str(item) for item in project.get("dynamic", [])]
        if "version" not in project and "version" not in dynamic:
            setuptools = layout.build_backend in SETUPTOOLS_BACKENDS
            if layout.version and layout.version_origin != "pyproject.toml" and setuptools:
                if "dynamic" in project:
                    project["dynamic"].append("version")
                    self.added.append("version to project.dynamic")
                else:
                    self.add("project", "dynamic", _array(["version"]))
                version = _inline({"attr": f"{layout.package}.__version__"})
                self.add("tool.setuptools.dynamic", "version", version)
            else:
                self.add("project", "version", layout.version or DEFAULT_VERSION)
                if not layout.version:
                    self.review.append(
                        f"no version found (pyproject.toml, __version__, a release tag): {DEFAULT_VERSION} "
                        "names the artifact and its record; set [project] version"
                    )
        self.add("project", "requires-python", requires_python(layout))
        if "dependencies" in dynamic:
            self.review.append("dependencies are dynamic: make sure they include django-zipserve")
        elif "dependencies" not in project:
            self.add("project", "dependencies", _array(["django-zipserve"]))
        elif not any(requirement_name(str(item)) == "django_zipserve" for item in project["dependencies"]):
            project["dependencies"].append("django-zipserve")
            self.added.append("django-zipserve to project.dependencies")
        scripts = _lookup(self.document, "project.scripts") or {}
        target = f"{layout.package}.{self.entry}:main"
        name = str(project.get("name", layout.distribution))
        if not any(str(value) == target for value in scripts.values()):
            if name in scripts:
                self.review.append(f"[project.scripts] {name} runs {scripts[name]}, not {target}")
            else:
                self.add("project.scripts", name, target, f"[project.scripts] {name}")

    def setuptools(self):
        layout = self.layout
        tool = self.document.get("tool", {})
        setuptools = tool.get("setuptools", {})
        patterns = [pattern for package in layout.packages for pattern in (package, f"{package}.*")]
        if "packages" in setuptools and not hasattr(setuptools["packages"], "get"):
            listed = {str(item) for item in setuptools["packages"]}
            missing = [package for package in layout.packages if package not in listed]
            if missing:
                self.review.append(f"[tool.setuptools] packages does not list {', '.join(missing)}")
        else:
            if layout.src:
                self.add("tool.setuptools.packages.find", "where", _array(["src"]))
            if not self.add("tool.setuptools.packages.find", "include", _array(patterns)):
                include = [
                    str(item) for item in _lookup(self.document, "tool.setuptools.packages.find.include")
                ]
                missing = [package for package in layout.packages if not _matches(package, include)]
                if missing:
                    self.review.append(
                        f"[tool.setuptools.packages.find] include leaves out {', '.join(missing)}: add "
                        + ", ".join(f'"{package}", "{package}.*"' for package in missing)
                    )
        if not self.add("tool.setuptools.package-data", "*", _array(PACKAGE_DATA)):
            existing = [str(item) for item in _lookup(self.document, "tool.setuptools.package-data")["*"]]
            missing = [pattern for pattern in PACKAGE_DATA[:2] if pattern not in existing]
            if missing:
                self.review.append('[tool.setuptools.package-data] "*" does not ship ' + ", ".join(missing))
        for package, pattern in layout.extra_package_data:
            data = _lookup(self.document, "tool.setuptools.package-data") or {}
            if package not in data:
                self.add("tool.setuptools.package-data", package, _array([pattern]))
            elif pattern not in [str(item) for item in data[package]]:
                data[package].append(pattern)
                self.added.append(f"{pattern} to tool.setuptools.package-data {package}")

    def zipserve(self):
        layout = self.layout
        table = "tool.django-zipserve"
        wanted = {"settings": self.settings}
        if self.entry != "__main__":
            wanted["entry-point"] = f"{layout.package}.{self.entry}:main"
        project = _lookup(self.document, "project") or {}
        name = str(project.get("name", layout.distribution))
        if normalise_name(name) != layout.package:
            wanted["package"] = layout.package
            wanted["output-name"] = normalise_name(name)
        if layout.requirements:
            wanted["requirements"] = layout.requirements
        if layout.data_dirs:
            wanted["data-dirs"] = _array(list(layout.data_dirs))
        existing = _lookup(self.document, table) or {}
        if "test-requirements" not in existing:
            wanted.update(self.test_requirements())
        if existing.get("settings") not in (None, self.settings):
            self.review.append(
                f"[tool.django-zipserve] settings is {existing['settings']}, not {self.settings}: kept"
            )
        origin = installed_from()
        if origin and "extra-requirements" in BY_KEY and "extra-requirements" not in existing:
            wanted["extra-requirements"] = _array([origin])
            self.review.append(
                f"django-zipserve is not on PyPI: the build installs it from {origin}; change this when it is"
            )
            if is_uv_lock(layout.requirements) and not origin.startswith(f"{ZIPSERVE} @"):
                self.uv_source(origin)
        self.frontend(wanted, existing)
        for key, value in wanted.items():
            if key in BY_KEY:
                self.add(table, key, value)
        self.review += settings_file_review(layout, existing)

    def test_requirements(self):
        """A pytest suite runs from the artifact with the test tools of the
        project's development dependencies, in the test sidecar."""
        found = pytest_requirements(self.layout.root, self.layout.pyproject)
        if found is None:
            self.test_settings_review()
            return {}
        requirements, where = found
        self.review.append(
            "the tests are a pytest suite: test-requirements lists "
            + ", ".join(requirements)
            + (f" (from {where})" if where else "")
            + "; add what else they import (the artifact's test command runs them with pytest)"
        )
        return {"test-requirements": _array(requirements)}

    def test_settings_review(self):
        """The artifact's ``test`` runs its own settings: a project with test
        settings of its own (Baby Buddy's babybuddy/settings/test.py) is
        told how to run them, once."""
        layout = self.layout
        if _lookup(self.document, "tool.django-zipserve"):
            return
        package = (
            layout.settings.rpartition(".")[0]
            if layout.source.files[0].name != "__init__.py"
            else layout.settings
        )
        folder = layout.package_root.joinpath(*package.split("."))
        for name in TEST_SETTINGS:
            if (folder / f"{name}.py").is_file() and f"{package}.{name}" != layout.settings:
                self.review.append(
                    f"{package}.{name} looks like the project's test settings: the artifact runs its tests "
                    f"with them as 'test --settings {package}.{name}' (without it, with the production ones)"
                )
                return

    def uv_source(self, origin):
        """uv resolves django-zipserve from the same checkout, so that ``uv lock`` works."""
        sources = _lookup(self.document, "tool.uv.sources") or {}
        if ZIPSERVE not in sources:
            self.add("tool.uv.sources", ZIPSERVE, _inline({"path": origin}))
        self.review.append(
            "uv.lock does not name django-zipserve yet: the build exports it as it is (production "
            "dependencies only) and adds django-zipserve; run 'uv lock' when convenient"
        )

    def frontend(self, wanted, existing):
        """The front-end build's shell steps, and the directories outside the
        packages it writes for the site (``data-dirs``); said once, when written."""
        frontend = self.layout.frontend
        if frontend is None:
            return
        outputs = [directory for directory in frontend.output_dirs if directory not in self.layout.data_dirs]
        if "data-dirs" not in existing and outputs:
            wanted["data-dirs"] = _array([*self.layout.data_dirs, *outputs])
        listed = [str(item) for item in existing.get("data-dirs", [])]
        for directory in outputs:
            if "data-dirs" in existing and directory not in listed:
                self.review.append(
                    f"data-dirs does not name {directory}, which the front-end build writes and "
                    "STATICFILES_DIRS serves: add it"
                )
        if "shell-steps" in existing:
            return
        if frontend.steps:
            wanted["shell-steps"] = _array(list(frontend.steps))
        refusals = node.problems(self.layout.root, frontend.steps) if frontend.steps else []
        self.review += frontend_review(frontend, bool(frontend.steps), refusals, self.layout.missing_static)


def _inline(values):
    import tomlkit

    table = tomlkit.inline_table()
    table.update(values)
    return table


def _matches(package, patterns):
    return any(fnmatchcase(package, pattern) for pattern in patterns)
