"""The environment variables settings read, found without running them.

What counts as a read: ``os.getenv("X")``, ``os.environ.get("X")``,
``os.environ["X"]``, ``"X" in os.environ``, django-environ's ``env("X")`` /
``env.bool("X")`` / ``env.db()``, python-decouple's ``config("X")``, and the
settings' own helper functions that wrap one of these (``def envbool(name,
default): ...os.getenv(name...``). Each read is a :class:`Variable`: where
it is, which setting it goes into, what kind of value the reader makes of
the text (``env.bool``, ``cast=int``) and whether it has a default.
"""

import ast
from collections.abc import Container
from dataclasses import dataclass
from typing import TypeGuard

from .syntax import dotted_name, string_constant

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


def _is_name(node: ast.AST, names: Container[str]) -> TypeGuard[ast.Name]:
    return isinstance(node, ast.Name) and node.id in names


class EnvironmentReads:
    """The reads of environment variables in the files of one settings
    module and what it star-imports, fed a file at a time (:meth:`imports`,
    then :meth:`collect`) in the order Python runs them."""

    def __init__(self):
        self.reads = []  # (the node that names the variable or None, reader, the reading node, file)
        self.without_default = set()  # id() of the reads that have no default
        self.guarded = set()  # id() of reads inside an if that tests the same variable
        self.env_objects = set()  # names bound to django-environ's Env()
        self.decouple = set()
        self.wrappers = {}  # helper function name -> index of the parameter that names the variable

    def imports(self, tree):
        """What a file imports under which name, noted for its reads."""
        imports = _Imports(tree)
        self.decouple |= imports.decouple
        return imports

    def bind(self, name, value):
        """``name = value``: ``name`` may now be a django-environ ``Env`` or a
        python-decouple configuration, whose calls read variables."""
        if isinstance(value, ast.Call):
            called = dotted_name(value.func) or ""
            if called.rpartition(".")[2] == "Env":
                self.env_objects.add(name)
            elif called.rpartition(".")[2] in ("AutoConfig", "Config", "RepositoryEnv"):
                self.decouple.add(name)

    def collect(self, tree, path, imports):
        """Every read in the file ``path``, and the helper functions it defines
        that wrap one (their own read of their parameter is no read)."""
        self._find_wrappers(tree, imports)
        wrapped = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in self.wrappers:
                wrapped |= {id(inner) for inner in ast.walk(node)}
        for key, reader, call in self.reads_in(tree, imports):
            if id(call) in wrapped and not isinstance(string_constant(key), str):
                continue  # the helper's own read of its parameter
            self.reads.append((key, reader, call, path))

    def _find_wrappers(self, tree, imports):
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            parameters = [argument.arg for argument in node.args.args]
            for key, _reader, _call in self.reads_in(node, imports):
                if isinstance(key, ast.Name) and key.id in parameters:
                    self.wrappers[node.name] = parameters.index(key.id)

    def reads_in(self, tree, imports):
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

    def variables(self, files, where, settings, keys):
        """The reads as :class:`Variable`, in the order Python runs them, and
        where a variable whose name is computed is read. ``files`` is that
        order; ``where(path, node)`` says ``file:line``; ``settings`` and
        ``keys`` map the id() of a node to the setting it is read into, and
        to where in that setting."""
        variables, computed = [], []
        order = {path: index for index, path in enumerate(files)}
        reads = sorted(self.reads, key=lambda read: (order[read[3]], read[2].lineno, read[2].col_offset))
        for key, reader, call, path in reads:
            name = string_constant(key) if key is not None else None
            if name is None:
                computed.append(where(path, call))
                continue
            variables.append(
                Variable(
                    name,
                    where(path, call),
                    reader,
                    settings.get(id(call)),
                    keys.get(id(call), ()),
                    value_kind(reader, call),
                    id(call) in self.without_default and id(call) not in self.guarded,
                )
            )
        return variables, computed


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


def _keyword(call, name):
    return next((keyword.value for keyword in call.keywords if keyword.arg == name), None)
