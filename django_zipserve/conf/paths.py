"""Where a path lies: in the running artifact, in the project's package, or
elsewhere; and where a path that must survive a release goes instead.

A zipapp's packages run from an extraction that the next release replaces
and ``zipapp prune`` deletes: anything written there (uploads, an SQLite
file, a log) is lost. The same goes for a project's source tree, which a
deployment does not write to. ``config.apply()`` relocates such paths into
the state directory, and the system checks refuse to start with one that
still points there.

Part of the bottom layer: it imports nothing of django-zipserve.
"""

import importlib.util
import os
import sys
from pathlib import Path

#: The build record every artifact carries in its site-packages. The same
#: name as ``django_zipserve.zipapp.boot.RECORD_NAME`` (this layer may not
#: import the zipapp package; a test keeps the two equal).
RECORD_NAME = "zipserve_build.json"

#: Under the state directory, where each kind of relocated path goes (its
#: own file or directory name is kept).
STATE_SUBDIRECTORIES = {
    "database": "databases",
    "cache": "cache",
    "sessions": "sessions",
    "log": "log",
    # Directories apps write to at run time (django_settings.APP_DIRECTORIES).
    "scripts": "scripts",
    "reports": "reports",
}


def _normal(path):
    return Path(os.path.normpath(os.path.abspath(os.fspath(path))))


def artifact_site_packages(path_entries=None):
    """The site-packages directories of artifacts on ``sys.path``: those
    holding a build record."""
    found = []
    for entry in sys.path if path_entries is None else path_entries:
        if entry and os.path.isfile(os.path.join(entry, RECORD_NAME)):
            found.append(_normal(entry))
    return found


def extraction_directories(path_entries=None):
    """What a release replaces: the whole extraction around each artifact's
    site-packages (shiv extracts into ``<root>/<name>_<build id>/site-packages``)."""
    return [
        site.parent if site.name == "site-packages" else site for site in artifact_site_packages(path_entries)
    ]


def package_directories(module_names):
    """The directories of the top-level packages of ``module_names``
    (dotted names such as a settings module), where they can be found."""
    directories = []
    for name in module_names:
        top = (name or "").partition(".")[0]
        if not top or top in ("django_zipserve", "django"):
            continue
        try:
            spec = importlib.util.find_spec(top)
        except (ImportError, ValueError):
            continue
        for location in (spec.submodule_search_locations or []) if spec else []:
            directory = _normal(location)
            if directory not in directories:
                directories.append(directory)
    return directories


def containing(path, directories):
    """The first of ``directories`` that ``path`` lies in (or is), or None.
    Symbolic links are followed on both sides where they exist."""
    candidates = {_normal(path)}
    try:
        candidates.add(Path(path).resolve())
    except (OSError, RuntimeError):
        pass
    for directory in directories:
        sides = {_normal(directory)}
        try:
            sides.add(Path(directory).resolve())
        except (OSError, RuntimeError):
            pass
        for candidate in candidates:
            if any(candidate == side or side in candidate.parents for side in sides):
                return directory
    return None


def is_relative(path):
    return not os.path.isabs(os.fspath(path))


def needs_relocating(path, read_only):
    """A writable path that would be lost: relative (to whatever the working
    directory is), or inside one of the ``read_only`` directories."""
    return is_relative(path) or containing(path, read_only) is not None


def in_state_directory(path, state_dir, kind):
    """Where ``path`` goes under the state directory, keeping its name and
    its type (``str`` stays ``str``)."""
    target = Path(state_dir) / STATE_SUBDIRECTORIES[kind] / Path(os.fspath(path)).name
    return str(target) if isinstance(path, str) else target


def make_parent(path):
    """Create the directory a file will be written into, if possible: SQLite
    and logging's file handlers cannot create it. A directory that cannot be
    created is reported by the system checks instead."""
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        pass


def packaged_copy(path, base_dir, path_entries=None):
    """A missing data directory under ``base_dir`` found again in the
    installed packages: the first existing ``<sys.path entry>/<its path
    relative to base_dir>``, or None.

    The build copies a project's root-level data directories (``templates/``,
    ``static/``) into the artifact's site-packages, at their path relative
    to the project root. With the package at the project root (Django's
    usual layout), ``BASE_DIR`` is site-packages and nothing needs doing; in
    a ``src/`` layout ``BASE_DIR`` is the extraction around it, where they
    are not.
    """
    if is_relative(path) or os.path.exists(path) or containing(path, [base_dir]) is None:
        return None
    try:
        relative = _normal(path).relative_to(_normal(base_dir))
    except ValueError:  # inside only once symbolic links are followed
        relative = Path(path).resolve().relative_to(Path(base_dir).resolve())
    for entry in sys.path if path_entries is None else path_entries:
        if not entry or not os.path.isabs(entry):
            continue
        candidate = Path(entry) / relative
        if candidate.is_dir():
            return str(candidate) if isinstance(path, str) else candidate
    return None
