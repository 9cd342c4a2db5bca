"""Read a project's settings without importing them.

Importing settings needs the project's dependencies and runs its code; init
reads the source with :mod:`ast` instead, in the order Python would run it:
``from .base import *`` (and django-split-settings' ``include()``) is followed
within the project. What it gathers:

- every assignment to a module-level name (``ROOT_URLCONF = "mysite.urls"``),
  including partial ones (``INSTALLED_APPS += [...]``,
  ``TEMPLATES[0]["DIRS"] = [...]``, ``STATICFILES_DIRS.append(...)``), each
  with the paths its value names, evaluated statically
  (``Path(__file__).resolve().parent.parent / "templates"``,
  ``os.path.join(BASE_DIR, "static")``, django-environ's ``Path(__file__) - 3``):
  see ``paths``;
- every environment variable the settings read: ``os.getenv("X")``,
  ``os.environ.get("X")``, ``os.environ["X"]``, ``"X" in os.environ``,
  django-environ's ``env("X")`` / ``env.bool("X")`` / ``env.db()``,
  python-decouple's ``config("X")``, and the settings' own helper functions
  that wrap one of these (``def envbool(name, default): ...os.getenv(name...``):
  see ``environment``.

This module walks the files and their statements and puts the two together.
"""

import ast
from dataclasses import dataclass
from pathlib import Path

from . import AdoptError
from .environment import EnvironmentReads, Variable, is_secret  # noqa: F401 - is_secret re-exported
from .paths import PathEvaluator
from .syntax import dotted_name, string_constant

#: Methods of a path that read the file: ``(BASE_DIR / "VERSION").read_text()``.
FILE_READERS = frozenset({"read_text", "read_bytes", "open"})
#: Methods that change a setting in place: ``STATICFILES_DIRS.append(...)``.
MUTATORS = frozenset({"append", "extend", "insert", "update", "setdefault"})


@dataclass(frozen=True)
class Assignment:
    """One assignment to a module-level name of the settings."""

    name: str
    file: Path
    line: int
    value: ast.expr
    conditional: bool  # inside an if, try, with or loop
    partial: bool  # changes part of the value: +=, [..] =, .append()
    paths: tuple[Path, ...]  # the paths the value names, evaluated
    guessed: tuple[str, ...]  # "name" of ``UNKNOWN / "name"`` when UNKNOWN is not known
    key: tuple[str, ...] = ()  # the part of the setting assigned: ("DIRS",) for ``TEMPLATES[0]["DIRS"]``

    @property
    def strings(self):
        """Every string constant in the value."""
        return tuple(
            node.value
            for node in ast.walk(self.value)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
        )


@dataclass(frozen=True)
class SettingsSource:
    """What the settings module and the modules it star-imports say."""

    module: str
    files: tuple[Path, ...]  # every file read, in the order Python runs them
    assignments: tuple[Assignment, ...]
    variables: tuple[Variable, ...]
    computed: tuple[str, ...]  # where a variable whose name is computed is read
    outside: tuple[str, ...]  # star-imported modules outside the project, not read
    dotenv: tuple[str, ...]  # where a .env file is read
    files_read: tuple[tuple[Path, str], ...] = ()  # (file, where) the settings open or read at import
    root: Path | None = None

    def where(self, assignment):
        """``mysite/settings.py:12`` for an assignment."""
        return f"{_relative(assignment.file, self.root or assignment.file.parent)}:{assignment.line}"

    def assigned(self, name):
        return [item for item in self.assignments if item.name == name]

    def last(self, name):
        """The last assignment of the whole value of ``name``, or None."""
        full = [item for item in self.assigned(name) if not item.partial]
        return full[-1] if full else None

    def string(self, name):
        """The value of ``name`` when its last assignment is a string literal."""
        last = self.last(name)
        if last and isinstance(last.value, ast.Constant) and isinstance(last.value.value, str):
            return last.value.value
        return None

    def mentions(self, name, text, seen=None):
        """Whether any assignment of ``name`` holds the string ``text``,
        also through the names it is made of (cookiecutter-django's
        ``INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS``)."""
        seen = set() if seen is None else seen
        seen.add(name)
        for item in self.assigned(name):
            if text in item.strings:
                return True
            names = {node.id for node in ast.walk(item.value) if isinstance(node, ast.Name)} - seen
            if any(self.mentions(other, text, seen) for other in sorted(names)):
                return True
        return False


class ModuleFinder:
    """Python modules of the project: under its root, or its ``src/``."""

    def __init__(self, roots):
        self.roots = [Path(root) for root in roots]

    def find(self, dotted):
        parts = dotted.split(".")
        if not dotted or not all(part.isidentifier() for part in parts):
            return None
        for root in self.roots:
            base = root.joinpath(*parts)
            for candidate in (base.with_suffix(".py"), base / "__init__.py"):
                if candidate.is_file():
                    return candidate
        return None

    def name_of(self, path):
        for root in self.roots:
            try:
                relative = path.relative_to(root)
            except ValueError:
                continue
            parts = list(relative.with_suffix("").parts)
            if parts and parts[-1] == "__init__":
                parts.pop()
            if parts and all(part.isidentifier() for part in parts):
                return ".".join(parts)
        return None


def parse(path):
    try:
        return ast.parse(path.read_text(encoding="utf-8", errors="replace"), str(path))
    except SyntaxError as exc:
        raise AdoptError(f"cannot read {path}: {exc.msg} (line {exc.lineno})") from None


def root_name(node):
    """``TEMPLATES`` for ``TEMPLATES[0]["DIRS"]`` or ``TEMPLATES.append``."""
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


class _Reader:
    """Walks the settings module and what it star-imports, statement by
    statement in the order Python runs them; the paths its assignments name
    are evaluated by a :class:`~.paths.PathEvaluator`, the environment
    variables its files read are found by an
    :class:`~.environment.EnvironmentReads`."""

    def __init__(self, root, finder):
        self.root = root
        self.finder = finder
        self.paths = PathEvaluator()
        self.environment = EnvironmentReads()
        self.files = []
        self.trees = []
        self.assignments = []
        self.targets = {}  # id(node) -> the name its module-level assignment sets
        self.keys = {}  # id(node) -> the dictionary keys it sits under in that setting
        self.outside = []
        self.dotenv = []
        self.files_read = []  # (path, where)

    # Files and statements, in the order Python runs them.

    def read_file(self, path, module, conditional=False):
        if path in self.files:
            return
        self.files.append(path)
        tree = parse(path)
        self.trees.append(tree)  # keeps every node alive: self.targets is keyed by id()
        imports = self.environment.imports(tree)
        self._statements(tree.body, path, module, conditional, imports)
        self.environment.collect(tree, path, imports)
        self._collect_files_read(tree, path)

    def _statements(self, body, path, module, conditional, imports):
        for statement in body:
            if isinstance(statement, ast.Assign):
                for target in statement.targets:
                    self._assign(target, statement.value, statement, path, conditional)
            elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
                self._assign(statement.target, statement.value, statement, path, conditional)
            elif isinstance(statement, ast.AugAssign):
                self._assign(statement.target, statement.value, statement, path, conditional, partial=True)
            elif isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
                self._call_statement(statement.value, statement, path, module, conditional, imports)
            elif isinstance(statement, ast.ImportFrom) and any(
                alias.name == "*" for alias in statement.names
            ):
                self._star_import(statement, path, module, conditional)
            elif isinstance(statement, (ast.If, ast.For, ast.While, ast.With, ast.Try)):
                for block in ("body", "orelse", "finalbody"):
                    self._statements(getattr(statement, block, []), path, module, True, imports)
                for handler in getattr(statement, "handlers", []):
                    self._statements(handler.body, path, module, True, imports)
                if isinstance(statement, ast.If):
                    self._guarded_reads(statement, imports)
                self._conditional_reads(statement, imports)

    def _assign(self, target, value, statement, path, conditional, partial=False):
        if isinstance(target, ast.Name):
            name = target.id
        else:
            name = root_name(target)
            partial = True
        if name is None:
            return
        for node in ast.walk(value):
            self.targets.setdefault(id(node), name)
        self._record_keys(value, _subscript_keys(target))
        paths, guessed = self.paths.paths(value, path)
        self.assignments.append(
            Assignment(
                name,
                path,
                statement.lineno,
                value,
                conditional,
                partial,
                tuple(paths),
                tuple(guessed),
                _subscript_keys(target),
            )
        )
        if partial:
            return
        self.paths.bind(name, value, path)
        self.environment.bind(name, value)

    def _conditional_reads(self, statement, imports):
        """A read with no default that runs only on one branch (bakerydemo
        reads its Cloudflare zone only when a Cloudflare token is set) or
        inside a ``try`` with handlers does not make the variable required."""
        if isinstance(statement, ast.If):
            blocks = [*statement.body, *statement.orelse]
        elif isinstance(statement, ast.Try) and statement.handlers:
            blocks = [*statement.body, *statement.orelse, *(n for h in statement.handlers for n in h.body)]
        else:
            return
        for child in blocks:
            for _key, _reader, call in self.environment.reads_in(child, imports):
                self.environment.guarded.add(id(call))

    def _guarded_reads(self, statement, imports):
        """``if "X" in os.environ: SECRET_KEY = os.environ["X"]``: the test reads X
        into the setting the block reads it into, and a read of X with no
        default inside the block is not required (cookiecutter-django:
        ``if os.getenv("DATABASE_URL"): ... env.db("DATABASE_URL")``)."""
        tested = {
            string_constant(key) for key, _reader, _call in self.environment.reads_in(statement.test, imports)
        }
        for child in statement.body:
            for key, _reader, call in self.environment.reads_in(child, imports):
                if string_constant(key) in tested:
                    self.environment.guarded.add(id(call))
        inside: dict[str, ast.AST] = {}
        for child in (*statement.body, *statement.orelse):
            for key, _reader, call in self.environment.reads_in(child, imports):
                name = string_constant(key)
                if name is not None and id(call) in self.targets:
                    inside.setdefault(name, call)
        for key, _reader, call in self.environment.reads_in(statement.test, imports):
            found = inside.get(string_constant(key))
            if found is not None and id(call) not in self.targets:
                self.targets[id(call)] = self.targets[id(found)]
                self.keys[id(call)] = self.keys.get(id(found), ())

    def _record_keys(self, node, keys):
        """The dictionary keys each node of a setting's value sits under."""
        self.keys.setdefault(id(node), keys)
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if key is not None:
                    self._record_keys(key, keys)
                text = string_constant(key) if key is not None else None
                self._record_keys(value, (*keys, text) if text is not None else keys)
        else:
            for child in ast.iter_child_nodes(node):
                self._record_keys(child, keys)

    def _call_statement(self, call, statement, path, module, conditional, imports):
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in MUTATORS and root_name(func.value):
            self._assign(func.value, call, statement, path, conditional, partial=True)
        elif isinstance(func, ast.Name) and func.id == "include":
            self._split_settings_include(call, path, module, conditional)
        called = dotted_name(func) or ""
        if called.endswith("read_env") or called.endswith("load_dotenv"):
            self.dotenv.append(self._where(path, statement))

    def _star_import(self, statement, path, module, conditional):
        target = statement.module or ""
        if statement.level:
            package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
            drop = statement.level - 1
            if drop > len(package):
                return
            package = package[: len(package) - drop]
            target = ".".join([*package, *([statement.module] if statement.module else [])])
        found = self.finder.find(target)
        if found is None:
            self.outside.append(target)
            return
        self.read_file(found, target, conditional)

    def _split_settings_include(self, call, path, module, conditional):
        """django-split-settings: ``include("components/*.py", optional("local.py"))``."""
        for argument in call.args:
            if isinstance(argument, ast.Call) and argument.args:
                argument = argument.args[0]
            pattern = string_constant(argument)
            if pattern is None:
                continue
            for found in sorted(path.parent.glob(pattern)):
                if found.suffix == ".py" and found.is_file():
                    name = self.finder.name_of(found) or module
                    self.read_file(found, name, conditional)

    # Files read at import.

    def _collect_files_read(self, tree, path):
        """``open(BASE_DIR / "CHANGELOG.md")``, ``(BASE_DIR / "x").read_text()``: files of
        the project the settings read when they are imported."""
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            called = dotted_name(node.func) or ""
            target = None
            if called in ("open", "io.open", "codecs.open") and node.args:
                target = node.args[0]
            elif isinstance(node.func, ast.Attribute) and node.func.attr in FILE_READERS:
                target = node.func.value
            evaluated = self.paths.evaluate(target, path) if target is not None else None
            if evaluated is None or evaluated.is_dir() or not _inside(evaluated, self.root):
                continue
            if evaluated.suffix == ".py" or evaluated in self.files:
                continue
            self.files_read.append((evaluated, self._where(path, node)))

    def _where(self, path, node):
        return f"{_relative(path, self.root)}:{node.lineno}"

    def source(self, module):
        variables, computed = self.environment.variables(self.files, self._where, self.targets, self.keys)
        return SettingsSource(
            module=module,
            files=tuple(self.files),
            assignments=tuple(self.assignments),
            variables=tuple(variables),
            computed=tuple(dict.fromkeys(computed)),
            outside=tuple(dict.fromkeys(self.outside)),
            dotenv=tuple(self.dotenv),
            files_read=tuple(dict.fromkeys(self.files_read)),
            root=self.root,
        )


def _subscript_keys(target):
    """("default", "NAME") for the target ``DATABASES["default"]["NAME"]``."""
    keys = []
    while isinstance(target, (ast.Subscript, ast.Attribute)):
        if isinstance(target, ast.Subscript):
            keys.append(string_constant(target.slice))
        target = target.value
    keys.reverse()
    return tuple(keys[: keys.index(None)] if None in keys else keys)


def _inside(path, root):
    try:
        Path(path).relative_to(root)
    except ValueError:
        return False
    return Path(path) != Path(root)


def _relative(path, root):
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return str(path)


def read_settings(root, finder, module):
    """Read the settings module ``module`` (found by ``finder``) and what it star-imports."""
    path = finder.find(module)
    if path is None:
        raise AdoptError(f"settings module {module} not found under {root}")
    reader = _Reader(Path(root), finder)
    reader.read_file(path, module)
    return reader.source(module)
