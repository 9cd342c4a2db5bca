"""Show a plan, and apply it: each change as one line, with a unified diff
on a dry run; files written whole (a temporary file renamed into place)."""

import difflib
import os
import tempfile
from pathlib import Path


def describe(change):
    """``create mysite/__main__.py``, ``merge pyproject.toml: add [tool.django-zipserve]``,
    ``keep mysite/zipserve_urls.py (exists; --force replaces it)``."""
    line = f"{change.action} {change.path}"
    if change.action == "keep":
        return f"{line} ({change.detail})" if change.detail else line
    return f"{line}: {change.detail}" if change.detail else line


def diff(change):
    """The change as a unified diff (empty for a kept file)."""
    if not change.writes:
        return ""
    old = (change.old or "").splitlines(keepends=True)
    new = (change.new or "").splitlines(keepends=True)
    before = f"a/{change.path}" if change.old is not None else "/dev/null"
    return "".join(difflib.unified_diff(old, new, before, f"b/{change.path}"))


def write_file(path, text):
    """Write ``text`` to ``path`` whole: never a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else None
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.chmod(temporary, mode if mode is not None else 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def apply(root, changes):
    for change in changes:
        if change.writes:
            write_file(Path(root) / change.path, change.new)
