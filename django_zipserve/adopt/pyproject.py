"""The ``pyproject.toml`` init writes, merged with tomlkit: comments, order
and every value already there are kept, only missing tables, keys and the
``django-zipserve`` dependency are added. Keys of ``[tool.django-zipserve]``
are written only when the build declares them
(``django_zipserve.zipapp.options.BY_KEY``).
"""

import json
import re
import sys
from dataclasses import dataclass
from fnmatch import fnmatchcase
from importlib import metadata
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

from ..zipapp import node
from ..zipapp.lockfiles import ZIPSERVE, is_uv_lock
from ..zipapp.options import BY_KEY, normalise_name
from . import AdoptError
from .change import Change
from .detect import PACKAGE_DATA_DIRS
from .frontend import review as frontend_review
from .review import settings_file_review
from .test_suite import pytest_requirements

SETUPTOOLS_BACKENDS = (None, "setuptools.build_meta", "setuptools.build_meta:__legacy__")
#: Package data of every package: its templates, static files, translations, fixtures.
PACKAGE_DATA = [f"{name}/**/*" for name in PACKAGE_DATA_DIRS] + ["migrations/**/*"]
DEFAULT_PYTHON = ">=3.10"
#: The names of a project's test settings, beside its settings module.
TEST_SETTINGS = ("test", "testing", "tests", "test_settings", "settings_test")
#: The oldest Python each Django major version supports.
DJANGO_PYTHON = {6: (3, 12), 5: (3, 10), 4: (3, 8)}
DEFAULT_VERSION = "0.1.0"


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
            # Read from the package's __version__ each build; a release tag's is written as it is.
            from_package = (layout.version_origin or "").endswith(".__version__")
            if layout.version and from_package and setuptools:
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
