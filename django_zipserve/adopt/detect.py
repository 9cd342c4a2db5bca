"""What an existing project looks like: a frozen :class:`Layout`, read from
its files without importing anything of it.

- the settings module: ``--settings``, else the ``DJANGO_SETTINGS_MODULE``
  that ``manage.py`` sets, unless the WSGI module that the settings name sets
  another one (a project whose ``manage.py`` runs development settings serves
  production ones from ``wsgi.py``);
- the ``src/`` layout: the settings module lives under ``src/``;
- the top-level packages (every directory with ``__init__.py`` at the root,
  or under ``src/``) and the ``templates``, ``static``, ``locale``,
  ``fixtures`` and ``jinja2`` directories of every package in them;
- the directories outside the packages that the site needs: those that
  ``TEMPLATES``, ``STATICFILES_DIRS``, ``LOCALE_PATHS`` and ``FIXTURE_DIRS``
  point to, and a root-level ``templates``, ``static`` or ``locale``;
- ``WSGI_APPLICATION``, ``ASGI_APPLICATION`` and ``ROOT_URLCONF``, and what
  the URLconf already has (the health view, error handlers);
- the requirements or lock file, the Python version the project asks for,
  its version, the environment variables its settings read;
- the modules the settings import that each machine writes for itself
  (:mod:`.local_modules`).
"""

import ast
import keyword
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ..zipapp.lockfiles import EXPORT_COMMANDS, UV_LOCK
from . import AdoptError
from .frontend import FrontEnd, find_frontend, template_references
from .local_modules import LocalModule, find_local_modules
from .source import ModuleFinder, SettingsSource, Variable, dotted_name, parse, read_settings, string_constant

#: Requirements files the build can install from, best first.
REQUIREMENTS_FILES = (
    "requirements.lock",
    UV_LOCK,
    "requirements.txt",
    "requirements/production.txt",
    "requirements/prod.txt",
    "requirements/base.txt",
)
#: Lock files of other tools: noted, they need exporting to a requirements file.
OTHER_LOCK_FILES = EXPORT_COMMANDS
#: Directories of a package that hold files the site needs at run time.
PACKAGE_DATA_DIRS = ("templates", "static", "locale", "fixtures", "jinja2")
#: Root-level directories shipped even when no setting names them (a setting
#: may give them relative to the working directory).
ROOT_DATA_DIRS = ("templates", "static", "locale")
#: Settings whose directories the site reads at run time.
DIRECTORY_SETTINGS = ("TEMPLATES", "STATICFILES_DIRS", "LOCALE_PATHS", "FIXTURE_DIRS")
#: Directories with ``__init__.py`` that are not part of the site.
NOT_SHIPPED = frozenset({"tests", "test", "docs", "doc", "build", "dist", "node_modules", "venv", "env"})
#: Package names too generic to name a project by: the directory's name is used instead.
GENERIC_NAMES = frozenset(
    {"config", "conf", "core", "project", "settings", "main", "app", "src", "site", "web"}
)
#: Django's URLconf error handlers, which are looked up in ROOT_URLCONF only.
HANDLERS = ("handler400", "handler403", "handler404", "handler500")


@dataclass(frozen=True)
class Layout:
    """An existing Django project, as init found it."""

    root: Path
    settings: str  # the project's own settings module: "mysite.settings.production"
    settings_origin: str  # where it was named: "manage.py", "--settings", "mysite/wsgi.py"
    package: str  # the top-level package that holds the settings: "mysite"
    src: bool  # the packages live under src/
    packages: tuple[str, ...]  # top-level packages, apps included
    skipped: tuple[str, ...]  # directories with __init__.py that are not shipped (tests, docs)
    package_dirs: tuple[str, ...]  # templates, static... inside the packages: "mysite/pages/templates"
    extra_package_data: tuple[tuple[str, str], ...]  # (package, pattern) for other directories settings name
    data_dirs: tuple[str, ...]  # directories outside the packages the site needs: "templates"
    wsgi_application: str | None
    asgi_application: str | None
    root_urlconf: str | None
    urlconf_has_health: bool  # ROOT_URLCONF already includes django_zipserve.urls
    urlconf_handlers: tuple[str, ...]  # handler404... that ROOT_URLCONF defines
    has_zipserve_app: bool  # "django_zipserve" is in INSTALLED_APPS already
    configured: bool  # the settings already load a ZipserveConfig
    requirements: str | None  # relative path
    other_lock_files: tuple[str, ...]
    python: str | None  # a requires-python specifier
    python_origin: str | None
    version: str | None  # [project] version, or the package's literal __version__
    version_origin: str | None
    distribution: str  # the project's name: [project] name, else derived
    variables: tuple[Variable, ...]  # each variable once, where it is first read
    missing_static: tuple[tuple[str, str], ...]  # (static path, template) a build step must write
    commands: tuple[str, ...]  # the project's own management commands
    source: SettingsSource
    pyproject: dict  # pyproject.toml as it is ({} when there is none)
    #: Modules the settings import that each machine writes for itself (NetBox's configuration.py).
    local_modules: tuple[LocalModule, ...] = ()
    #: The front-end build (package.json) and the static files only it writes (:mod:`.frontend`).
    frontend: FrontEnd | None = None

    def relative(self, path):
        return Path(path).relative_to(self.root).as_posix()

    @property
    def package_root(self):
        """The directory the packages are in."""
        return self.root / "src" if self.src else self.root

    @property
    def package_dir(self):
        return self.package_root / self.package

    @property
    def build_backend(self):
        return self.pyproject.get("build-system", {}).get("build-backend")


def load_toml(path):
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise AdoptError(f"cannot read {path}: {exc}") from None


def settings_module_in(path):
    """The DJANGO_SETTINGS_MODULE a script (manage.py, wsgi.py) sets, or None."""
    for node in ast.walk(parse(path)):
        if (
            isinstance(node, ast.Call)
            and len(node.args) >= 2
            and string_constant(node.args[0]) == "DJANGO_SETTINGS_MODULE"
        ):
            return string_constant(node.args[1])
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.targets[0], ast.Subscript)
            and string_constant(node.targets[0].slice) == "DJANGO_SETTINGS_MODULE"
        ):
            return string_constant(node.value)
    return None


def find_settings(root, finder, given):
    """(settings module, where it was named)."""
    if given:
        if finder.find(given) is None:
            raise AdoptError(f"settings module {given} not found under {root} or {root / 'src'}")
        return given, "--settings"
    manage = root / "manage.py"
    if not manage.is_file():
        raise AdoptError(
            f"no manage.py in {root}: run init in the project's directory, or pass --settings MODULE"
        )
    module = settings_module_in(manage)
    if module is None:
        found = settings_candidates(root)
        here = f" (settings modules here: {', '.join(found)})" if found else ""
        raise AdoptError(
            "manage.py does not set DJANGO_SETTINGS_MODULE to a string: pass --settings MODULE, "
            f"the settings the site runs with in production{here}"
        )
    if finder.find(module) is None:
        raise AdoptError(
            f"settings module {module} (named by manage.py) not found under {root} or {root / 'src'}"
        )
    return module, "manage.py"


def settings_candidates(root):
    """The importable modules named ``settings`` or inside a ``settings``
    package, in the project's top-level packages (under ``src/`` too)."""
    found = []
    for base in (root, root / "src"):
        for package in top_level_packages(base)[0]:
            if (base / package / "settings.py").is_file():
                found.append(f"{package}.settings")
            folder = base / package / "settings"
            if (folder / "__init__.py").is_file():
                found += [
                    f"{package}.settings.{path.stem}"
                    for path in sorted(folder.glob("*.py"))
                    if path.stem.isidentifier() and path.stem != "__init__"
                ]
    return found


def production_settings(root, finder, module, origin):
    """The settings the WSGI module serves with, when manage.py names others."""
    if origin != "manage.py":
        return module, origin
    source = read_settings(root, finder, module)
    wsgi = source.string("WSGI_APPLICATION")
    wsgi_file = finder.find(wsgi.rpartition(".")[0]) if wsgi else None
    if wsgi_file is None:
        return production_sibling(finder, module, origin)
    served = settings_module_in(wsgi_file)
    if served and served != module and finder.find(served):
        module, origin = served, Path(wsgi_file).relative_to(root).as_posix()
    return production_sibling(finder, module, origin)


#: The last part of a settings module for development, and of the one for production beside it.
DEVELOPMENT = ("dev", "development", "local", "develop")
PRODUCTION = ("production", "prod")


def production_sibling(finder, module, origin):
    """When manage.py and wsgi.py both name development settings
    (bakerydemo's ``bakerydemo.settings.dev``), the production settings
    beside them: development settings in production are silently wrong."""
    package, _, last = module.rpartition(".")
    if not package or last not in DEVELOPMENT:
        return module, origin
    for name in PRODUCTION:
        if finder.find(f"{package}.{name}"):
            return f"{package}.{name}", f"beside {module}, the development settings {origin} names"
    return module, origin


def top_level_packages(base):
    packages: list[str] = []
    skipped: list[str] = []
    if not base.is_dir():
        return packages, skipped
    for child in sorted(base.iterdir()):
        if not child.is_dir() or child.name.startswith((".", "_")) or not (child / "__init__.py").is_file():
            continue
        if child.name in NOT_SHIPPED or not child.name.isidentifier() or child.name.endswith(".egg-info"):
            skipped.append(child.name)
        else:
            packages.append(child.name)
    return packages, skipped


def package_data_dirs(base, packages):
    """The templates, static... directories of every package: (relative to base)."""
    found = []
    for package in packages:
        for directory in sorted((base / package).rglob("*")):
            relative = directory.relative_to(base)
            if any(
                part.startswith(".") or part in ("__pycache__", "node_modules") for part in relative.parts
            ):
                continue
            if (
                directory.name in PACKAGE_DATA_DIRS
                and directory.is_dir()
                and (directory.parent / "__init__.py").is_file()
                and not _inside_data_dir(relative)
            ):
                found.append(directory)
    return found


def _inside_data_dir(relative):
    return any(part in PACKAGE_DATA_DIRS for part in relative.parts[:-1])


def _within(path, directory):
    try:
        path.relative_to(directory)
    except ValueError:
        return False
    return True


def owning_package(directory, stop):
    """The innermost package that holds ``directory``, as (dotted name, package dir)."""
    current = directory.parent
    while _within(current, stop) and current != stop:
        if (current / "__init__.py").is_file():
            parts = current.relative_to(stop).parts
            if all(
                (stop.joinpath(*parts[: index + 1]) / "__init__.py").is_file() for index in range(len(parts))
            ):
                return ".".join(parts), current
        current = current.parent
    return None, None


def directories(root, source, package_root, packages):
    """(data directories outside the packages, extra package-data patterns)."""
    excluded = set()
    for name in ("MEDIA_ROOT", "STATIC_ROOT"):
        for assignment in source.assigned(name):
            excluded.update(assignment.paths)
            excluded.update(root / guess for guess in assignment.guessed)
    named = []
    for name in DIRECTORY_SETTINGS:
        for assignment in source.assigned(name):
            named += assignment.paths
            named += [root / guess for guess in assignment.guessed]
    named += [root / name for name in ROOT_DATA_DIRS]
    package_dirs = [package_root / package for package in packages]
    data_dirs, extra = [], []
    for path in named:
        if path in excluded or not path.is_dir() or not _within(path, root) or path == root:
            continue
        if any(_within(path, package) for package in package_dirs):
            if path.name in PACKAGE_DATA_DIRS and (path.parent / "__init__.py").is_file():
                continue
            package, package_dir = owning_package(path, package_root)
            if package:
                extra.append((package, f"{path.relative_to(package_dir).as_posix()}/**/*"))
            continue
        relative = path.relative_to(root).as_posix()
        if relative.split("/")[0] in ("src", *packages):
            continue
        data_dirs.append(relative)
    return tuple(dict.fromkeys(data_dirs)), tuple(dict.fromkeys(extra))


#: Root-level files a project reads at run time may be: data, not its tooling's.
DATA_FILE_SUFFIXES = (".yaml", ".yml", ".json", ".toml", ".txt", ".csv", ".ini", ".cfg", ".md")
#: Root-level files that are the project's tooling, never read by the site.
TOOLING_FILES = frozenset(
    {
        "pyproject.toml",
        "setup.cfg",
        "tox.ini",
        "package.json",
        "package-lock.json",
        "tsconfig.json",
        "mkdocs.yml",
        "docker-compose.yml",
        "docker-compose.yaml",
        "renovate.json",
        ".pre-commit-config.yaml",
    }
)


def referenced_root_files(root, package_root, packages):
    """Files at the project's root that its code names (NetBox's
    utilities/release.py reads ``release.yaml`` beside its packages): data
    the site reads at run time, as data-dirs."""
    candidates = (
        {
            path.name
            for path in root.iterdir()
            if path.is_file()
            and path.suffix.lower() in DATA_FILE_SUFFIXES
            and path.name not in TOOLING_FILES
            and not path.name.lower().startswith(
                ("requirements", "readme", "license", "changelog", "contributing")
            )
        }
        if root.is_dir()
        else set()
    )
    if not candidates:
        return ()
    named = re.compile("['\"](" + "|".join(re.escape(name) for name in sorted(candidates)) + ")['\"]")
    found = set()
    for package in packages:
        for path in (package_root / package).rglob("*.py"):
            if "tests" in path.parts or "migrations" in path.parts:
                continue
            found.update(named.findall(path.read_text(encoding="utf-8", errors="replace")))
    return tuple(sorted(found))


def missing_static_files(root, package_dirs, data_dirs):
    """Static files the templates name that are not in the source, though
    the directory they would be in is: written by a build step (a bundler,
    an asset compressor). Files of other apps (admin/...) are not judged."""
    static_roots = [root / path for path in package_dirs if path.endswith("/static")]
    static_roots += [root / path for path in data_dirs]
    missing = []
    for reference, template in template_references(root, package_dirs, data_dirs):
        first = reference.split("/")[0]
        owners = [static for static in static_roots if (static / first).exists()]
        if owners and not any((static / reference).exists() for static in owners):
            missing.append((reference, template))
    return tuple(dict.fromkeys(missing))


def management_commands(package_root, packages):
    return tuple(
        sorted(
            {
                path.stem
                for package in packages
                for path in (package_root / package).rglob("management/commands/*.py")
                if not path.name.startswith("_")
            }
        )
    )


def find_requirements(root):
    """(the requirements file, relative to ``root``, other lock files): in
    ``root``, else at the top of the repository when ``root`` is a folder
    of it (NetBox keeps manage.py in ``netbox/`` and requirements.txt above)."""
    for folder, prefix in ((root, ""), *requirement_folders_above(root)):
        requirements = next((name for name in REQUIREMENTS_FILES if (folder / name).is_file()), None)
        others = tuple(prefix + name for name in OTHER_LOCK_FILES if (folder / name).is_file())
        if requirements or others:
            return (prefix + requirements if requirements else None), others
    return None, ()


def requirement_folders_above(root):
    """``(folder, prefix)`` for the repository's top folder when ``root`` is
    directly inside it."""
    parent = Path(root).resolve().parent
    return [(parent, "../")] if (parent / ".git").exists() else []


def find_python(root, pyproject):
    """(a requires-python specifier, where it came from)."""
    declared = pyproject.get("project", {}).get("requires-python")
    if declared:
        return declared, "pyproject.toml"
    for name, pattern in (
        (".python-version", r"^\s*(?:python-?)?(3\.\d+)"),
        ("runtime.txt", r"python-(3\.\d+)"),
    ):
        path = root / name
        if path.is_file():
            match = re.search(pattern, path.read_text(encoding="utf-8", errors="replace"), re.MULTILINE)
            if match:
                return f">={match.group(1)}", name
    return None, None


def find_version(package_dir, pyproject):
    """The project's version: ``[project] version``, the package's literal
    ``__version__``, else the release tag the checkout is at (NetBox
    computes its version in a build hook; its checkout is at ``v4.6.8``)."""
    project = pyproject.get("project", {})
    if project.get("version"):
        return project["version"], "pyproject.toml"
    init = package_dir / "__init__.py"
    if init.is_file():
        for node in parse(init).body:
            if isinstance(node, ast.Assign) and any(
                isinstance(target, ast.Name) and target.id == "__version__" for target in node.targets
            ):
                version = string_constant(node.value)
                if version:
                    return version, f"{package_dir.name}.__version__"
    return release_tag(package_dir)


def release_tag(directory):
    """``(version, "git tag vX")`` when the checkout is exactly at a tag
    that is a version, else ``(None, None)``."""
    try:
        result = subprocess.run(
            ["git", "-C", str(directory), "describe", "--tags", "--exact-match"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None, None
    tag = result.stdout.strip() if result.returncode == 0 else ""
    version = tag.removeprefix("v").removeprefix("V")
    if not re.fullmatch(r"\d+(\.\d+)*([abc]|rc)?\d*(\.post\d+)?(\.dev\d+)?", version):
        return None, None
    return version, f"git tag {tag}"


def distribution_name(root, package, pyproject):
    declared = pyproject.get("project", {}).get("name")
    if declared:
        return declared
    name = root.name if package in GENERIC_NAMES else package
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-._")
    return name or package


def urlconf_facts(finder, urlconf):
    """(includes django_zipserve.urls, the error handlers it defines)."""
    path = finder.find(urlconf) if urlconf else None
    if path is None:
        return False, ()
    tree = parse(path)
    health = any(string_constant(node) == "django_zipserve.urls" for node in ast.walk(tree))
    handlers = []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        handlers += [
            target.id for target in targets if isinstance(target, ast.Name) and target.id in HANDLERS
        ]
        if isinstance(node, ast.ImportFrom):
            handlers += [
                alias.asname or alias.name for alias in node.names if (alias.asname or alias.name) in HANDLERS
            ]
    return health, tuple(dict.fromkeys(handlers))


def default_asgi(finder, package):
    """``<package>.asgi.application`` when that module defines ``application``."""
    path = finder.find(f"{package}.asgi")
    if path and any(
        isinstance(node, ast.Assign)
        and any(getattr(target, "id", None) == "application" for target in node.targets)
        for node in parse(path).body
    ):
        return f"{package}.asgi.application"
    return None


def loads_zipserve_config(source):
    for path in source.files:
        for node in ast.walk(parse(path)):
            if isinstance(node, ast.ClassDef) and any(
                (dotted_name(base) or "").endswith("ZipserveConfig") for base in node.bases
            ):
                return True
    return False


def unique_variables(variables):
    first: dict[str, Variable] = {}
    for variable in variables:
        first.setdefault(variable.name, variable)
    return tuple(first.values())


def is_field_name(name):
    """Whether a variable can be a field of the configuration class."""
    return name.isidentifier() and not keyword.iskeyword(name) and not name.startswith("_")


def detect(project_dir=".", settings=None):
    """The :class:`Layout` of the project in ``project_dir``."""
    root = Path(project_dir).resolve()
    if not root.is_dir():
        raise AdoptError(f"{root} is not a directory")
    finder = ModuleFinder([root, root / "src"])
    module, origin = find_settings(root, finder, settings)
    module, origin = production_settings(root, finder, module, origin)
    settings_file = finder.find(module)
    if "." not in module:
        raise AdoptError(f"settings module {module} is not in a package: init needs a package to write into")
    package = module.split(".")[0]
    src = _within(settings_file, root / "src")
    package_root = root / "src" if src else root
    source = read_settings(root, finder, module)
    packages, skipped = top_level_packages(package_root)
    if package not in packages:
        raise AdoptError(f"{module}: {package_root / package} is not a package (no __init__.py)")
    pyproject_path = root / "pyproject.toml"
    pyproject = load_toml(pyproject_path) if pyproject_path.is_file() else {}
    data_dirs, extra = directories(root, source, package_root, packages)
    data_dirs += tuple(
        name for name in referenced_root_files(root, package_root, packages) if name not in data_dirs
    )
    package_dirs = tuple(
        path.relative_to(root).as_posix() for path in package_data_dirs(package_root, packages)
    )
    urlconf = source.string("ROOT_URLCONF")
    health, handlers = urlconf_facts(finder, urlconf)
    requirements, others = find_requirements(root)
    python, python_origin = find_python(root, pyproject)
    version, version_origin = find_version(package_root / package, pyproject)
    return Layout(
        root=root,
        settings=module,
        settings_origin=origin,
        package=package,
        src=src,
        packages=tuple(packages),
        skipped=tuple(skipped),
        package_dirs=package_dirs,
        extra_package_data=extra,
        data_dirs=data_dirs,
        wsgi_application=source.string("WSGI_APPLICATION"),
        asgi_application=source.string("ASGI_APPLICATION") or default_asgi(finder, package),
        root_urlconf=urlconf,
        urlconf_has_health=health,
        urlconf_handlers=handlers,
        has_zipserve_app=source.mentions("INSTALLED_APPS", "django_zipserve"),
        configured=loads_zipserve_config(source),
        requirements=requirements,
        other_lock_files=others,
        python=python,
        python_origin=python_origin,
        version=version,
        version_origin=version_origin,
        distribution=distribution_name(root, package, pyproject),
        variables=unique_variables(source.variables),
        missing_static=missing_static_files(root, package_dirs, data_dirs),
        commands=management_commands(package_root, packages),
        source=source,
        pyproject=pyproject,
        local_modules=find_local_modules(root, finder, source),
        frontend=find_frontend(
            root,
            source,
            package_root,
            packages,
            package_dirs,
            data_dirs,
            missing_static_files(root, package_dirs, data_dirs),
        ),
    )
