"""What of the project's source the build copies, and what it left out.

The build works on a copy of the source. The copy leaves out:

- ``IGNORED_SOURCE`` (virtualenvs, caches, earlier builds), except in and on
  the way to a data directory, whose ``dist`` or ``build`` folder is what the
  site serves;
- every file git ignores, unless the project declares it by name
  (``include-ignored``, or a ``data-dirs`` entry): a git-ignored file is one
  the project keeps out of its repository on purpose, most often because it
  holds this machine's secrets (NetBox's ``configuration.py``, a ``.env``).
  Packaged, it would be readable in every copy of the artifact, on every
  server and in the artifact store.

After the install, :func:`left_out_files` compares the copy with what pip
installed, so that data files the project's packaging does not declare
(migration data in subfolders, a front-end build's output) are named
instead of missing at run time.
"""

import fnmatch
import shutil
import subprocess
from pathlib import Path, PurePosixPath

from .options import IGNORED_SOURCE

#: How many left-out paths a report names before it only counts the rest.
SHOWN = 8


def git_ignored(project_dir):
    """The paths (relative, POSIX) that git ignores in ``project_dir``; a
    directory whose whole content is ignored is one entry. Empty when the
    project is not in a git work tree (or git is missing)."""
    try:
        result = subprocess.run(
            ["git", "-C", str(project_dir), "ls-files", "--others", "--ignored", "--exclude-standard"]
            + ["--directory", "-z"],
            capture_output=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return set()
    if result.returncode != 0:
        return set()
    names = result.stdout.decode("utf-8", "surrogateescape").split("\0")
    return {name.rstrip("/") for name in names if name.rstrip("/")}


def declared_paths(options):
    """What the project names on purpose: its data directories and the
    ``include-ignored`` entries, relative to its root."""
    names = [*options.data_dirs, *getattr(options, "include_ignored", [])]
    return [PurePosixPath(name.strip("/")) for name in names if name.strip("/")]


def inside(relative, entries):
    """Whether ``relative`` is one of ``entries`` or lies inside one."""
    return any(relative == entry or entry in relative.parents for entry in entries)


def on_the_way(relative, entries):
    """Whether ``relative`` is one of ``entries`` or a folder above one."""
    return any(relative == entry or relative in entry.parents for entry in entries)


def is_ignored(relative, ignored):
    """Whether git ignores ``relative`` (a set of paths): it, or a folder above it."""
    return relative in ignored or any(parent in ignored for parent in relative.parents)


def left_out_ignored(options, ignored=None):
    """The git-ignored paths the copy leaves out, sorted; the noise that
    ``IGNORED_SOURCE`` drops anyway (caches, virtualenvs) is not listed."""
    ignored = git_ignored(options.project_dir) if ignored is None else ignored
    declared = declared_paths(options)
    left = []
    for name in sorted(ignored):
        relative = PurePosixPath(name)
        if inside(relative, declared) or on_the_way(relative, declared):
            continue
        if not any(fnmatch.fnmatch(part, pattern) for part in relative.parts for pattern in IGNORED_SOURCE):
            left.append(name)
    return left


def source_filter(options, ignored=None):
    """copytree's ``ignore``: IGNORED_SOURCE and git-ignored files, except
    what the project declares by name (and the folders on the way to it)."""
    project_dir = Path(options.project_dir)
    ignored = {PurePosixPath(name) for name in (git_ignored(project_dir) if ignored is None else ignored)}
    patterns = shutil.ignore_patterns(*IGNORED_SOURCE)
    declared = declared_paths(options)

    def ignore(directory, names):
        here = PurePosixPath(Path(directory).relative_to(project_dir).as_posix())
        if inside(here, declared):
            return {name for name in names if name == "__pycache__" or name.endswith(".pyc")}
        left = set(patterns(directory, names))
        left |= {name for name in names if is_ignored(here / name, ignored)}
        return {name for name in left if not on_the_way(here / name, declared)}

    return ignore


def copy_source(options, work):
    """The project's source, as the build packages it, in ``work/src``."""
    target = work / "src"  # the sidecar's pip runs there too
    shutil.copytree(options.project_dir, target, ignore=source_filter(options), symlinks=True)
    return target


def ignored_report(left):
    """One line naming the git-ignored paths the build left out, or None."""
    if not left:
        return None
    shown = ", ".join(left[:SHOWN]) + (f" and {len(left) - SHOWN} more" if len(left) > SHOWN else "")
    return (
        f"left out {len(left)} git-ignored path(s): {shown} "
        "(name one in include-ignored in [tool.django-zipserve] to package it)"
    )


# -- what the install left out ------------------------------------------------


def package_dirs(source, site):
    """The project's top-level packages that pip installed from the copy:
    ``(copied folder, installed folder)`` pairs."""
    pairs = []
    for installed in sorted(path for path in Path(site).iterdir() if (path / "__init__.py").is_file()):
        for root in (Path(source), Path(source) / "src"):
            copied = root / installed.name
            if (copied / "__init__.py").is_file():
                pairs.append((copied, installed))
                break
    return pairs


def left_out_files(source, site):
    """Non-Python files inside the project's packages that the install did
    not copy (its packaging does not declare them as package data), as
    paths relative to the source copy, sorted."""
    left = []
    for copied, installed in package_dirs(source, site):
        for path in sorted(copied.rglob("*")):
            if not path.is_file() or path.suffix in (".py", ".pyc", ".pyi") or "__pycache__" in path.parts:
                continue
            if not (installed / path.relative_to(copied)).exists():
                left.append(path.relative_to(source).as_posix())
    return left


def left_out_report(left):
    """One line about the package files the install left out, by folder, or None."""
    if not left:
        return None
    # Folders named less deeply until they fit: a list cut short hid Baby
    # Buddy's core/tests/import behind "and 8 more".
    parents = [PurePosixPath(name).parent.parts for name in left]
    depth = max(len(parts) for parts in parents)
    while depth > 1 and len({parts[:depth] for parts in parents}) > SHOWN:
        depth -= 1
    folders = sorted({"/".join(parts[:depth]) for parts in parents})
    shown = ", ".join(folders[:SHOWN]) + (f" and {len(folders) - SHOWN} more" if len(folders) > SHOWN else "")
    return (
        f"the install left out {len(left)} non-Python file(s) of the project's packages, in {shown}: "
        "declare them as package data in pyproject.toml if the site reads them"
    )
