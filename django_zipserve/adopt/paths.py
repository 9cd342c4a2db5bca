"""The paths settings name, evaluated without running them.

Settings build their directories from ``__file__`` and from names assigned
before: ``Path(__file__).resolve().parent.parent / "templates"``,
``os.path.join(BASE_DIR, "static")``, ``f"{BASE_DIR}/media"``,
django-environ's ``Path(__file__) - 3`` and ``ROOT_DIR("static")``. A
:class:`PathEvaluator` follows one settings module (and what it
star-imports) in the order Python runs it, remembering the module-level
names whose value is a known path; what it cannot know it leaves as None,
or, for a relative path joined to an unknown base, as that relative path
(:func:`guess`).
"""

import ast
import os
from pathlib import Path

from .syntax import dotted_name, string_constant


class PathEvaluator:
    """The paths expressions name, given the file they are in (``__file__``)
    and the names assigned so far (:meth:`bind`)."""

    def __init__(self):
        self.names = {}  # module-level names whose value is a known path

    def bind(self, name, value, path):
        """``name = value`` in the file ``path``: ``name`` now names the path the
        value evaluates to, or no known path."""
        evaluated = self.evaluate(value, path)
        if evaluated is not None:
            self.names[name] = evaluated
        else:
            self.names.pop(name, None)

    def paths(self, value, path):
        """The paths a value names (evaluated), and the names it joins to
        an unknown base (``SOMETHING / "templates"``)."""
        paths, guessed = [], []

        def visit(node):
            evaluated = self.evaluate(node, path)
            if evaluated is not None:
                paths.append(evaluated)
                return
            part = guess(node)
            if part:
                guessed.append(part)
                return
            for child in ast.iter_child_nodes(node):
                visit(child)

        visit(value)
        return paths, guessed

    def evaluate(self, node, path):
        """The path an expression evaluates to, when it can be known statically."""
        if isinstance(node, ast.Name):
            if node.id == "__file__":
                return path
            return self.names.get(node.id)
        if isinstance(node, ast.Attribute) and node.attr == "parent":
            base = self.evaluate(node.value, path)
            return base.parent if base is not None else None
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute):
            if node.value.attr == "parents" and isinstance(node.slice, ast.Constant):
                base = self.evaluate(node.value.value, path)
                index = node.slice.value
                if base is not None and isinstance(index, int) and 0 <= index < len(base.parents):
                    return base.parents[index]
            return None
        if isinstance(node, ast.BinOp):
            return self._operator(node, path)
        if isinstance(node, ast.JoinedStr):
            return self._fstring(node, path)
        if isinstance(node, ast.Call):
            return self._call(node, path)
        return None

    def _operator(self, node, path):
        base = self.evaluate(node.left, path)
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

    def _fstring(self, node, path):
        values = node.values
        if not values or not isinstance(values[0], ast.FormattedValue):
            return None
        base = self.evaluate(values[0].value, path)
        rest = [string_constant(value) for value in values[1:]]
        if base is None or any(part is None for part in rest):
            return None
        return _joined(base, "".join(rest).lstrip("/"))

    def _call(self, node, path):
        func = node.func
        called = dotted_name(func) or ""
        arguments = [self.evaluate(argument, path) for argument in node.args[:1]]
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
            base = self.evaluate(func.value, path)
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


def guess(node):
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


def _joined(base, *parts):
    return Path(os.path.normpath(os.path.join(base, *parts)))
