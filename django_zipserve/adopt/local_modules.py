"""Local configuration modules: a module the project's settings import but
that is meant to be local to each machine, such as NetBox's
``netbox/netbox/configuration.py``, which the administrator copies from the
committed ``configuration_example.py`` and fills in, and which is
git-ignored because it holds that machine's secrets.

The build never packages a git-ignored file, so the artifact would have no
such module. init declares its values as configuration fields instead, and
the production settings make the module from them
(``zipserve_config.provide_module()``): its values are set in the configuration file.

Found statically, like everything init reads:

- the settings import the module: ``from netbox import configuration``,
  ``import netbox.configuration``, ``from .configuration import X``, or
  ``importlib.import_module("netbox.configuration")``, also through a name
  bound to ``os.getenv("NETBOX_CONFIGURATION", "netbox.configuration")``;
- its file is git-ignored, or absent;
- an example sibling (``configuration_example.py``,
  ``configuration.example.py``, ``example_configuration.py``), or the local
  file itself, says its names: the upper-case names it assigns.

Each name's type comes from the literal assigned to it, read with ``ast``
(never imported). Of the local file, only names and types are read: its
values are that machine's secrets and are never written anywhere.
"""

import ast
import io
import subprocess
import tokenize
from dataclasses import dataclass
from pathlib import Path

from .source import dotted_name, is_secret, parse, string_constant

#: Where a project keeps the example of ``<name>.py``, best first.
EXAMPLE_NAMES = ("{}_example.py", "{}.example.py", "example_{}.py")
#: Types whose values are no credential, whatever their name says.
NOT_SECRET_TYPES = ("bool | None", "int | None", "float | None")


@dataclass(frozen=True)
class ModuleValue:
    """One name a local module assigns, as a configuration field."""

    name: str
    annotation: str  # "dict[str, Any] | None", "SecretStr | None", "Any"
    secret: bool  # a secret its type cannot say (a mapping with a PASSWORD): marked as one
    description: str


@dataclass(frozen=True)
class LocalModule:
    """A module the settings import that each machine writes for itself."""

    name: str  # "netbox.configuration"
    path: str  # its file, relative to the project: "netbox/configuration.py"
    present: bool  # the (git-ignored) file is there on this machine
    example: str | None  # the example file, relative to the project
    example_module: str | None  # the example as an importable module, when it is one
    variable: str | None  # the environment variable the settings read its name from
    where: str  # where the settings import it: "netbox/settings.py:12"
    values: tuple[ModuleValue, ...]

    @property
    def names(self):
        return tuple(value.name for value in self.values)


def find_local_modules(root, finder, source):
    """The local configuration modules the settings in ``source`` import."""
    found: dict[str, LocalModule] = {}
    for dotted, variable, where in imported_modules(root, finder, source):
        module = local_module(root, finder, dotted, variable, where)
        if module is None:
            continue
        known = found.get(dotted)
        if known is None or (known.variable is None and variable):
            found[dotted] = module
    return tuple(found.values())


# -- what the settings import ---------------------------------------------------


def imported_modules(root, finder, source):
    """``(dotted name, variable naming it or None, where)`` for each module the
    settings files import, statically; then the modules named by a string
    passed to a call in a project module they import from (NetBox 4.6's
    settings call ``load_configuration()`` of ``netbox.settings_utils``,
    which imports ``"netbox.configuration"`` through a helper)."""
    helpers = []
    for found in settings_imports(root, finder, source):
        yield found
        helper = finder.find(found[0])
        if helper is not None and helper not in source.files and helper not in helpers:
            helpers.append(helper)
    for path in helpers:
        where = Path(path).relative_to(root).as_posix()
        for node in ast.walk(parse(path)):
            if isinstance(node, ast.Call) and node.args:
                text = string_constant(node.args[0])
                if text and "." in text and all(part.isidentifier() for part in text.split(".")):
                    yield text, None, f"{where}:{node.lineno}"


def settings_imports(root, finder, source):
    """What the settings files themselves import (see imported_modules)."""
    for path in source.files:
        module = finder.name_of(path) or ""
        tree = parse(path)
        bound = bound_values(tree)
        where = Path(path).relative_to(root).as_posix()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield alias.name, None, f"{where}:{node.lineno}"
            elif isinstance(node, ast.ImportFrom):
                base = absolute_module(node, module, Path(path).name == "__init__.py")
                if base is None:
                    continue
                yield base, None, f"{where}:{node.lineno}"
                for alias in node.names:
                    if alias.name != "*":
                        yield f"{base}.{alias.name}", None, f"{where}:{node.lineno}"
            elif isinstance(node, ast.Call) and is_import_call(node) and node.args:
                named = module_named_by(node.args[0], bound)
                if named:
                    yield named[0], named[1], f"{where}:{node.lineno}"


def bound_values(tree):
    """The value last assigned to each plain name in a file: what
    ``import_module(config_path)`` is given."""
    values = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            values[node.targets[0].id] = node.value
    return values


def absolute_module(node, module, is_package):
    """The module an ``ImportFrom`` names, relative imports resolved."""
    if not node.level:
        return node.module
    package = module.split(".") if is_package else module.split(".")[:-1]
    drop = node.level - 1
    if drop > len(package):
        return None
    parts = package[: len(package) - drop] + ([node.module] if node.module else [])
    return ".".join(parts) or None


def is_import_call(call):
    called = dotted_name(call.func) or ""
    return called.rpartition(".")[2] in ("import_module", "__import__")


def module_named_by(node, bound, depth=0):
    """``(module, variable)`` for the argument of ``import_module``: a string,
    ``os.getenv("X", "module")`` (variable X), or a name bound to either."""
    text = string_constant(node)
    if text:
        return text, None
    if isinstance(node, ast.Name) and node.id in bound and depth < 3:
        return module_named_by(bound[node.id], bound, depth + 1)
    if isinstance(node, ast.Call) and is_environment_read(node):
        variable = string_constant(node.args[0]) if node.args else None
        default = node.args[1] if len(node.args) > 1 else _keyword(node, "default")
        text = string_constant(default) if default is not None else None
        if text:
            return text, variable
    return None


def is_environment_read(call):
    called = dotted_name(call.func) or ""
    return called == "getenv" or called.endswith((".getenv", "environ.get"))


def _keyword(call, name):
    return next((keyword.value for keyword in call.keywords if keyword.arg == name), None)


# -- whether it is local ----------------------------------------------------------


def local_module(root, finder, dotted, variable, where):
    """The :class:`LocalModule` ``dotted`` is, or None when it is packaged
    (its file is there and not git-ignored), a package, or neither its file
    nor an example of it is there."""
    parent, _, last = dotted.rpartition(".")
    if not last.isidentifier():
        return None
    directory = module_directory(finder, parent)
    if directory is None or (directory / last / "__init__.py").is_file():
        return None
    path = directory / f"{last}.py"
    present = path.is_file()
    if present and not git_ignores(root, path):
        return None
    examples = [directory / pattern.format(last) for pattern in EXAMPLE_NAMES]
    example = next((candidate for candidate in examples if candidate.is_file()), None)
    if example is None and not present:
        return None
    values = module_values(dotted, path if present else None, example, root)
    if not values:
        return None  # no settings in it: a generated module (setuptools-scm's _version.py)
    relative = Path(path).relative_to(root).as_posix()
    return LocalModule(
        name=dotted,
        path=relative,
        present=present,
        example=example.relative_to(root).as_posix() if example else None,
        example_module=example_module(parent, example),
        variable=variable,
        where=where,
        values=values,
    )


def module_directory(finder, parent):
    """The directory a module of the package ``parent`` is in ("" for the top level)."""
    if not parent:
        return next((root for root in finder.roots if root.is_dir()), None)
    init = finder.find(parent)
    if init is None or init.name != "__init__.py":
        return None
    return init.parent


def example_module(parent, example):
    """The example as a module the artifact can import (its file name is an identifier)."""
    if example is None or not example.stem.isidentifier():
        return None
    return f"{parent}.{example.stem}" if parent else example.stem


def git_ignores(root, path):
    """Whether git ignores ``path`` (False outside a git work tree, or without git)."""
    try:
        result = subprocess.run(
            ["git", "-C", str(root), "check-ignore", "--quiet", "--", str(path)],
            capture_output=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


# -- its values -----------------------------------------------------------------------


def module_values(dotted, local, example, root):
    """The values of the module: the example's names, then those only the local
    file assigns; typed from their literals."""
    values = {}
    if example is not None:
        for name, node, comment in assigned_names(example):
            description = comment or (
                f"Set in {dotted} by the project's settings (from its example file "
                f"{example.relative_to(root).as_posix()})."
            )
            values[name] = module_value(name, node, description)
    if local is not None:
        for name, node, _comment in assigned_names(local):
            if name not in values:
                description = (
                    f"Set in {dotted} by the project's settings (its local file "
                    f"{local.relative_to(root).as_posix()} sets it; its example does not)."
                )
                values[name] = module_value(name, node, description)
    return tuple(values.values())


def assigned_names(path):
    """``(name, value, comment)`` for each upper-case name a module assigns at
    its top level, in order; the comment is the one right above it (or at the
    end of its line), else ""."""
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    comments = comment_lines(text)
    lines = text.splitlines()
    for node in parse(Path(path)).body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name) and target.id.isupper() and not target.id.startswith("_"):
                yield target.id, value, comment_above(node.lineno, lines, comments)


def comment_lines(text):
    """``{line number: comment text}`` of every comment (tokens, so that a ``#``
    inside a string is no comment)."""
    comments = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                comments[token.start[0]] = token.string.lstrip("#").strip()
    except (tokenize.TokenError, SyntaxError):
        return {}
    return comments


def comment_above(line, lines, comments):
    """The comment lines right above ``line`` (no blank line between), joined;
    a banner's frame (``####``, ``#  Required  #``) is left out. Else the
    comment at the end of the line itself."""
    words: list[str] = []
    number = line - 1
    while number >= 1 and lines[number - 1].lstrip().startswith("#"):
        text = comments.get(number, "").rstrip("#").strip()
        if text.strip("=-* "):
            words.insert(0, text)
        number -= 1
    return " ".join(words) or comments.get(line, "")


def module_value(name, node, description):
    annotation = annotation_of(name, node)
    secret = (
        not annotation.startswith("SecretStr")
        and annotation not in NOT_SECRET_TYPES
        and (is_secret(name) or holds_secret_key(node))
    )
    return ModuleValue(name, annotation, secret, " ".join(description.split()))


def annotation_of(name, node):
    """The field's type, from the literal assigned: str (SecretStr when the
    name says secret), bool, int, float, list[str], list[Any], dict[..., Any];
    Any for None and anything that is no literal."""
    kind = literal_kind(node)
    if kind is str:
        return "SecretStr | None" if is_secret(name) else "str | None"
    if kind in (bool, int, float):
        return f"{kind.__name__} | None"
    if kind is list:
        strings = all(isinstance(string_constant(item), str) for item in node.elts)
        return "list[str] | None" if strings and node.elts else "list[Any] | None"
    if kind is dict:
        return f"dict[{key_type(node)}, Any] | None"
    return "Any"


def literal_kind(node):
    if isinstance(node, ast.Constant) and node.value is not None:
        return type(node.value) if type(node.value) in (str, bool, int, float) else None
    if isinstance(node, ast.JoinedStr):
        return str
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return literal_kind(node.operand) if literal_kind(node.operand) in (int, float) else None
    if isinstance(node, (ast.List, ast.Tuple)):
        return list
    if isinstance(node, ast.Dict):
        return dict
    return None


def key_type(node):
    """str or int when every key of a dict literal is one; else Any (an empty
    dict says nothing: NetBox's peppers are keyed by number)."""
    kinds = {literal_kind(key) if key is not None else None for key in node.keys}
    if kinds == {str}:
        return "str"
    if kinds == {int}:
        return "int"
    return "Any"


def holds_secret_key(node):
    """Whether a literal holds a dict key that names a secret, at any depth
    (DATABASE's PASSWORD, REDIS's tasks.PASSWORD)."""
    return any(
        isinstance(inner, ast.Dict)
        and any(key is not None and is_secret(string_constant(key) or "") for key in inner.keys)
        for inner in ast.walk(node)
    )
