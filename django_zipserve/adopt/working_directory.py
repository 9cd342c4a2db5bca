"""Files the project's code names relative to the working directory.

Baby Buddy's migrations open ``"core/migrations/weight_percentile_boys.csv"``:
from a checkout, where the working directory is the project's, it works;
from the artifact, whose working directory is the service's (the state
directory under systemd), ``migrate`` fails on a file that is in the
artifact all the same. A string in the code that names, relative to the
project's directory, a file that is there, is most likely such a path.
"""

import ast
import os

#: Longer strings are text, not paths.
LONGEST = 200


def files_named_relatively(root, package_root, packages):
    """``(module, line, text)`` for each string in the packages' code that
    names a file of the project relative to its directory ``root``."""
    found = []
    for package in packages:
        for module in sorted((package_root / package).rglob("*.py")):
            parts = module.relative_to(package_root).parts
            if any(part.startswith(".") or part in ("__pycache__", "node_modules") for part in parts):
                continue
            relative = module.relative_to(root).as_posix()
            found += [(relative, line, text) for line, text in relative_file_names(module, root)]
    return found


def relative_file_names(module, root):
    """``(line, text)`` of the strings in ``module`` that name a file under ``root``."""
    try:
        tree = ast.parse(module.read_bytes())
    except (SyntaxError, ValueError):
        return []
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and names_a_file(node.value, root)
    ]


def names_a_file(text, root):
    if not 2 < len(text) < LONGEST or "/" not in text or "\n" in text or "\0" in text:
        return False
    if os.path.isabs(text) or text.startswith(("~", "./", "../")) or "://" in text:
        return False
    try:
        return (root / text).is_file()
    except OSError:
        return False
