"""Readings of :mod:`ast` nodes that the parts of the settings reader share
(``source``, ``paths``, ``environment``), and that ``source`` re-exports."""

import ast


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


def string_constant(node):
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None
