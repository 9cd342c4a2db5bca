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
  ``os.path.join(BASE_DIR, "static")``, django-environ's ``Path(__file__) - 3``);
- every environment variable the settings read: ``os.getenv("X")``,
  ``os.environ.get("X")``, ``os.environ["X"]``, ``"X" in os.environ``,
  django-environ's ``env("X")`` / ``env.bool("X")`` / ``env.db()``,
  python-decouple's ``config("X")``, and the settings' own helper functions
  that wrap one of these (``def envbool(name, default): ...os.getenv(name...``).
"""

import ast
import os
from dataclasses import dataclass
from pathlib import Path

from . import AdoptError

#: Words in a variable's name that make it a secret.
SECRET_WORDS = ("KEY", "SECRET", "PASSWORD", "TOKEN", "DSN", "PEPPER")
#: django-environ's ``Env`` methods that read one variable, named by their first argument.
ENV_METHODS = frozenset(
    {
        "str",
        "bool",
        "int",
        "float",
        "json",
        "list",
        "tuple",
        "dict",
        "url",
        "path",
        "get_value",
        "db_url",
        "db",
        "cache_url",
        "cache",
        "email_url",
        "email",
        "search_url",
    }
)
#: The variable a django-environ method reads when it is given none.
ENV_METHOD_DEFAULTS = {
    "db": "DATABASE_URL",
    "db_url": "DATABASE_URL",
    "cache": "CACHE_URL",
    "cache_url": "CACHE_URL",
    "email": "EMAIL_URL",
    "email_url": "EMAIL_URL",
    "search_url": "SEARCH_URL",
}
#: Methods of a path that read the file: ``(BASE_DIR / "VERSION").read_text()``.
FILE_READERS = frozenset({"read_text", "read_bytes", "open"})
#: Methods that change a setting in place: ``STATICFILES_DIRS.append(...)``.
MUTATORS = frozenset({"append", "extend", "insert", "update", "setdefault"})


#: A last word that names something about a secret, not the secret itself:
#: ``EMAIL_SSL_KEY_FILE``, ``AWS_ACCESS_KEY_ID``, ``PASSWORD_RESET_TIMEOUT``.
NOT_THE_SECRET = frozenset(
    {"FILE", "PATH", "DIR", "ID", "NAME", "TIMEOUT", "AGE", "LENGTH", "EXPIRY", "HEADER"}
)


def is_secret(name):
    """Whether a variable's name says it holds a secret: one of its words is
    one of SECRET_WORDS or holds one (``APIKEY``, ``AUTHTOKEN``), but not a
    ``KEYFILE`` or a name ending in what describes the secret (``..._ID``)."""
    words = [word for word in name.upper().replace("-", "_").split("_") if word]
    if not words or words[-1] in NOT_THE_SECRET:
        return False
    return any(
        word in SECRET_WORDS or (word.endswith(SECRET_WORDS) and not word.startswith("KEY")) for word in words
    )


@dataclass(frozen=True)
class Variable:
    """One read of an environment variable by the settings."""

    name: str
    where: str  # "mysite/settings/base.py:5"
    reader: str  # "os.getenv", "env.bool", "config", a helper's name
    setting: str | None  # the module-level name it is read into
    key: tuple[str, ...] = ()  # where in that setting: ("default", "NAME") in DATABASES
    kind: str = "str"  # what the reader turns it into: "bool", "int", "float", "list" or "str"
    required: bool = False  # read with no default: importing the settings fails without it

    @property
    def secret(self):
        return self.kind == "str" and is_secret(self.name)


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


def dotted_name(node):
    """``os.environ.get`` for the expression ``os.environ.get``, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def root_name(node):
    """``TEMPLATES`` for ``TEMPLATES[0]["DIRS"]`` or ``TEMPLATES.append``."""
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def string_constant(node):
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


class _Imports:
    """The names one file binds to ``os``, ``os.environ``, ``os.getenv``,
    django-environ's ``Env`` and python-decouple's ``config``."""

    def __init__(self, tree):
        self.os = {"os"}
        self.environ = set()
        self.getenv = set()
        self.env_classes = {"Env"}
        self.decouple = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name == "os":
                        self.os.add(alias.asname or "os")
            elif isinstance(node, ast.ImportFrom) and node.module == "os":
                for alias in node.names:
                    if alias.name == "environ":
                        self.environ.add(alias.asname or alias.name)
                    elif alias.name == "getenv":
                        self.getenv.add(alias.asname or alias.name)
            elif isinstance(node, ast.ImportFrom) and node.module == "decouple":
                for alias in node.names:
                    if alias.name == "config":
                        self.decouple.add(alias.asname or alias.name)

    def is_environ(self, node):
        if isinstance(node, ast.Name):
            return node.id in self.environ
        return isinstance(node, ast.Attribute) and node.attr == "environ" and _is_name(node.value, self.os)

    def is_getenv(self, func):
        if isinstance(func, ast.Name):
            return func.id in self.getenv
        return isinstance(func, ast.Attribute) and func.attr == "getenv" and _is_name(func.value, self.os)


def _is_name(node, names):
    return isinstance(node, ast.Name) and node.id in names


class _Reader:
    def __init__(self, root, finder):
        self.root = root
        self.finder = finder
        self.files = []
        self.trees = []
        self.assignments = []
        self.reads = []  # (key node or None for a default, reader, call node, file, default name)
        self.without_default = set()  # id() of the reads that have no default
        self.targets = {}  # id(node) -> the name its module-level assignment sets
        self.keys = {}  # id(node) -> the dictionary keys it sits under in that setting
        self.names = {}  # module-level names whose value is a known path
        self.env_objects = set()  # names bound to django-environ's Env()
        self.decouple = set()
        self.wrappers = {}  # helper function name -> index of the parameter that names the variable
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
        imports = _Imports(tree)
        self.decouple |= imports.decouple
        self._statements(tree.body, path, module, conditional, imports)
        self._find_wrappers(tree, imports)
        self._collect_reads(tree, path, imports)
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
        paths, guessed = self._paths(value, path)
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
        evaluated = self._eval(value, path)
        if evaluated is not None:
            self.names[name] = evaluated
        else:
            self.names.pop(name, None)
        if isinstance(value, ast.Call):
            called = dotted_name(value.func) or ""
            if called.rpartition(".")[2] == "Env":
                self.env_objects.add(name)
            elif called.rpartition(".")[2] in ("AutoConfig", "Config", "RepositoryEnv"):
                self.decouple.add(name)

    def _guarded_reads(self, statement, imports):
        """``if "X" in os.environ: SECRET_KEY = os.environ["X"]``: the test reads X
        into the setting the block reads it into."""
        inside = {}
        for child in (*statement.body, *statement.orelse):
            for key, _reader, call in self._reads_in(child, imports):
                name = string_constant(key)
                if name is not None and id(call) in self.targets:
                    inside.setdefault(name, call)
        for key, _reader, call in self._reads_in(statement.test, imports):
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

    # Environment variables.

    def _find_wrappers(self, tree, imports):
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            parameters = [argument.arg for argument in node.args.args]
            for key, _reader, _call in self._reads_in(node, imports):
                if isinstance(key, ast.Name) and key.id in parameters:
                    self.wrappers[node.name] = parameters.index(key.id)

    def _collect_reads(self, tree, path, imports):
        wrapped = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in self.wrappers:
                wrapped |= {id(inner) for inner in ast.walk(node)}
        for key, reader, call in self._reads_in(tree, imports):
            if id(call) in wrapped and not isinstance(string_constant(key), str):
                continue  # the helper's own read of its parameter
            self.reads.append((key, reader, call, path))

    def _reads_in(self, tree, imports):
        """(the node that names the variable, the reader, the node that reads it)."""
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                found = self._read_call(node, imports)
                if found:
                    yield found
            elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
                if imports.is_environ(node.value):
                    self.without_default.add(id(node))
                    yield node.slice, "os.environ[]", node
            elif (
                isinstance(node, ast.Compare)
                and len(node.ops) == 1
                and isinstance(node.ops[0], (ast.In, ast.NotIn))
                and imports.is_environ(node.comparators[0])
            ):
                yield node.left, "in os.environ", node

    def _note_default(self, call, positional):
        """Note a django-environ or python-decouple read without a default
        (``default=``, or the positional argument at that place): it raises
        when the variable is not set."""
        if _keyword(call, "default") is None and len(call.args) < positional:
            self.without_default.add(id(call))

    def _read_call(self, call, imports):
        func = call.func
        first = call.args[0] if call.args else _keyword(call, "var") or _keyword(call, "key")
        if imports.is_getenv(func):
            return first, "os.getenv", call
        if isinstance(func, ast.Attribute) and func.attr == "get" and imports.is_environ(func.value):
            return first, "os.environ.get", call
        if _is_name(func, self.env_objects):
            self._note_default(call, positional=2)
            return first, func.id, call
        if (
            isinstance(func, ast.Attribute)
            and func.attr in ENV_METHODS
            and _is_name(func.value, self.env_objects)
        ):
            reader = f"{func.value.id}.{func.attr}"
            if first is None and func.attr in ENV_METHOD_DEFAULTS:
                self._note_default(call, positional=1)
                return ast.Constant(ENV_METHOD_DEFAULTS[func.attr]), reader, call
            self._note_default(call, positional=2)
            return first, reader, call
        if _is_name(func, self.decouple):
            self._note_default(call, positional=2)
            return first, func.id, call
        if isinstance(func, ast.Name) and func.id in self.wrappers:
            index = self.wrappers[func.id]
            return (call.args[index] if len(call.args) > index else None), func.id, call
        return None

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
            evaluated = self._eval(target, path) if target is not None else None
            if evaluated is None or evaluated.is_dir() or not _inside(evaluated, self.root):
                continue
            if evaluated.suffix == ".py" or evaluated in self.files:
                continue
            self.files_read.append((evaluated, self._where(path, node)))

    # Paths.

    def _paths(self, value, path):
        """The paths a value names (evaluated), and the names it joins to
        an unknown base (``SOMETHING / "templates"``)."""
        paths, guessed = [], []

        def visit(node):
            evaluated = self._eval(node, path)
            if evaluated is not None:
                paths.append(evaluated)
                return
            guess = self._guess(node)
            if guess:
                guessed.append(guess)
                return
            for child in ast.iter_child_nodes(node):
                visit(child)

        visit(value)
        return paths, guessed

    def _guess(self, node):
        """The relative path joined to an unknown base: ``BASE / "templates"``,
        ``os.path.join(BASE, "project-static", "dist")``, ``BASE + "/translations"``
        (NetBox's BASE_DIR comes from a function of its own)."""
        if isinstance(node, ast.BinOp) and isinstance(node.left, ast.Name):
            part = string_constant(node.right)
            if isinstance(node.op, ast.Div):
                return part
            if isinstance(node.op, ast.Add) and part and part.startswith("/"):
                return part.strip("/") or None
            return None
        if (
            isinstance(node, ast.Call)
            and dotted_name(node.func) in ("os.path.join", "path.join", "join")
            and len(node.args) >= 2
            and isinstance(node.args[0], ast.Name)
        ):
            parts = [string_constant(argument) for argument in node.args[1:]]
            return "/".join(parts) if all(parts) else None
        return None

    def _eval(self, node, path):
        """The path an expression evaluates to, when it can be known statically."""
        if isinstance(node, ast.Name):
            if node.id == "__file__":
                return path
            return self.names.get(node.id)
        if isinstance(node, ast.Attribute) and node.attr == "parent":
            base = self._eval(node.value, path)
            return base.parent if base is not None else None
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute):
            if node.value.attr == "parents" and isinstance(node.slice, ast.Constant):
                base = self._eval(node.value.value, path)
                index = node.slice.value
                if base is not None and isinstance(index, int) and 0 <= index < len(base.parents):
                    return base.parents[index]
            return None
        if isinstance(node, ast.BinOp):
            return self._eval_operator(node, path)
        if isinstance(node, ast.JoinedStr):
            return self._eval_fstring(node, path)
        if isinstance(node, ast.Call):
            return self._eval_call(node, path)
        return None

    def _eval_operator(self, node, path):
        base = self._eval(node.left, path)
        if base is None:
            return None
        if isinstance(node.op, ast.Div):
            part = string_constant(node.right)
            return _joined(base, part) if part is not None else None
        if isinstance(node.op, ast.Sub) and isinstance(node.right, ast.Constant):
            # django-environ: Path(__file__) - 3 is three levels up.
            levels = node.right.value
            if isinstance(levels, int) and 0 < levels <= len(base.parents):
                return base.parents[levels - 1]
        return None

    def _eval_fstring(self, node, path):
        values = node.values
        if not values or not isinstance(values[0], ast.FormattedValue):
            return None
        base = self._eval(values[0].value, path)
        rest = [string_constant(value) for value in values[1:]]
        if base is None or any(part is None for part in rest):
            return None
        return _joined(base, "".join(rest).lstrip("/"))

    def _eval_call(self, node, path):
        func = node.func
        called = dotted_name(func) or ""
        arguments = [self._eval(argument, path) for argument in node.args[:1]]
        parts = [string_constant(argument) for argument in node.args[1:]]
        known_parts = all(part is not None for part in parts)
        if called.rpartition(".")[2] in ("Path", "PurePath", "PosixPath") and arguments and known_parts:
            return _joined(arguments[0], *parts) if arguments[0] is not None else None
        if called in ("str", "os.fspath", "os.path.abspath", "os.path.realpath", "os.path.normpath"):
            return arguments[0] if arguments and len(node.args) == 1 else None
        if called == "os.path.dirname" and arguments and arguments[0] is not None:
            return arguments[0].parent
        if called in ("os.path.join", "path.join") and arguments and arguments[0] is not None and known_parts:
            return _joined(arguments[0], *parts)
        if isinstance(func, ast.Attribute):
            base = self._eval(func.value, path)
            if base is None:
                return None
            if func.attr in ("resolve", "absolute", "expanduser") and not node.args:
                return base
            strings = [string_constant(argument) for argument in node.args]
            if func.attr in ("joinpath", "path") and strings and None not in strings:
                return _joined(base, *strings)
            return None
        if isinstance(func, ast.Name) and func.id in self.names:
            # django-environ: ROOT_DIR("static") is ROOT_DIR / "static".
            strings = [string_constant(argument) for argument in node.args]
            if None not in strings:
                return _joined(self.names[func.id], *strings)
        return None

    def _where(self, path, node):
        return f"{_relative(path, self.root)}:{node.lineno}"

    def source(self, module):
        variables, computed = [], []
        order = {path: index for index, path in enumerate(self.files)}
        reads = sorted(self.reads, key=lambda read: (order[read[3]], read[2].lineno, read[2].col_offset))
        for key, reader, call, path in reads:
            name = string_constant(key) if key is not None else None
            if name is None:
                computed.append(self._where(path, call))
                continue
            variables.append(
                Variable(
                    name,
                    self._where(path, call),
                    reader,
                    self.targets.get(id(call)),
                    self.keys.get(id(call), ()),
                    value_kind(reader, call),
                    id(call) in self.without_default,
                )
            )
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


#: What a typed reader makes of the variable's text: django-environ's
#: ``env.bool(...)``, ``cast=int`` (django-environ, python-decouple),
#: decouple's ``Csv()``.
KINDS = {"bool": "bool", "int": "int", "float": "float", "list": "list", "tuple": "list", "Csv": "list"}


def value_kind(reader, call):
    """The kind of value a read gives (``"str"`` when it is text or not known)."""
    kind = KINDS.get(reader.rpartition(".")[2]) if "." in reader else None
    cast = _keyword(call, "cast") if isinstance(call, ast.Call) else None  # not os.environ["X"]
    if kind is None and cast is not None:
        named = cast.func if isinstance(cast, ast.Call) else cast
        kind = KINDS.get(named.id if isinstance(named, ast.Name) else getattr(named, "attr", ""))
    return kind or "str"


def _subscript_keys(target):
    """("default", "NAME") for the target ``DATABASES["default"]["NAME"]``."""
    keys = []
    while isinstance(target, (ast.Subscript, ast.Attribute)):
        if isinstance(target, ast.Subscript):
            keys.append(string_constant(target.slice))
        target = target.value
    keys.reverse()
    return tuple(keys[: keys.index(None)] if None in keys else keys)


def _keyword(call, name):
    return next((keyword.value for keyword in call.keywords if keyword.arg == name), None)


def _joined(base, *parts):
    return Path(os.path.normpath(os.path.join(base, *parts)))


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
