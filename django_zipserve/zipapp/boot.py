"""Start-up of a django-zipserve zipapp, run before and just after shiv's bootstrap.

The build copies this file to the root of the archive as ``_zipserve_boot.py``
and makes ``__main__.py`` call :func:`main`; it uses the standard library
only, since nothing else is importable yet.

Before shiv extracts anything it:

- refuses the ``SHIV_*`` variables that let whoever sets the environment
  change what the artifact runs (prepend paths, another entry point, an
  interactive interpreter);
- chooses where the bundled packages are extracted: ``SHIV_ROOT``, else
  systemd's ``$CACHE_DIRECTORY``, else ``$XDG_CACHE_HOME/shiv`` or
  ``~/.cache/shiv``. An existing extraction of this very build is used even
  where nothing may be written (a read-only file system); otherwise the first
  writable place wins, and when there is none it stops with one message that
  says what to set.

Before it runs from an extraction (and, after a first extraction, in shiv's
"preamble"), it:

- takes a shared lock on a file of the extraction, so that pruning old
  extractions never removes one a running process uses; an extraction that
  a prune removed while this process waited for the lock is never run from:
  it is extracted again;
- removes from ``sys.path`` everything that is neither the standard library
  nor the artifact: the user's site-packages, the system's site- and
  dist-packages and ``PYTHONPATH``, so the artifact runs exactly what it was
  built and tested with.
"""

import json
import os
import sys
import zipfile

#: The build record inside site-packages (written by the build, read at run time).
RECORD_NAME = "zipserve_build.json"
#: The file every running process holds a shared lock on (see hold_extraction).
LOCK_NAME = "zipserve_in_use.lock"
REFUSED_VARIABLES = (
    "SHIV_PREPEND_PYTHONPATH",
    "SHIV_EXTEND_PYTHONPATH",
    "SHIV_INTERPRETER",
    "SHIV_ENTRY_POINT",
    "SHIV_CONSOLE_SCRIPT",
    "SHIV_MODULE",
)
EXIT_USAGE = 2


def fail(message):
    name = os.path.basename(archive_path())
    sys.stderr.write(f"{name}: {message}\n")
    sys.stderr.flush()
    raise SystemExit(EXIT_USAGE)


def archive_path():
    return os.path.dirname(os.path.abspath(__file__))


def read_environment(archive):
    """shiv's build metadata. Read through the zipimporter that loaded this
    module: it has parsed the archive's directory already, and parsing it
    again (thousands of entries) would cost more than the rest of start-up."""
    loader = globals().get("__loader__")
    if hasattr(loader, "get_data"):
        try:
            return json.loads(loader.get_data(os.path.join(archive, "environment.json")).decode("utf-8"))
        except OSError:
            pass
    with zipfile.ZipFile(archive) as zipped:
        return json.loads(zipped.read("environment.json").decode("utf-8"))


def candidate_roots(environ):
    """``(description, directory)`` in order of preference."""
    candidates = []
    if environ.get("SHIV_ROOT"):
        candidates.append(("SHIV_ROOT", environ["SHIV_ROOT"]))
    if environ.get("CACHE_DIRECTORY"):
        candidates.append(("$CACHE_DIRECTORY", environ["CACHE_DIRECTORY"].split(":")[0]))
    if environ.get("XDG_CACHE_HOME"):
        candidates.append(("$XDG_CACHE_HOME/shiv", os.path.join(environ["XDG_CACHE_HOME"], "shiv")))
    home = environ.get("HOME")
    if home:
        candidates.append(("~/.cache/shiv", os.path.join(home, ".cache", "shiv")))
    return candidates


def writable(directory):
    """Can the directory be used, creating it if needed?"""
    probe = os.path.abspath(directory)
    while not os.path.exists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            return False
        probe = parent
    return os.path.isdir(probe) and os.access(probe, os.W_OK | os.X_OK)


def choose_root(environ, extraction_name):
    """The extraction root: an existing extraction of this build first,
    then the first writable candidate."""
    candidates = candidate_roots(environ)
    for _, root in candidates:
        if os.path.isdir(os.path.join(root, extraction_name, "site-packages")):
            return root
    for _, root in candidates:
        if writable(root):
            return root
    tried = ", ".join(f"{label} ({root})" for label, root in candidates) or "nothing (HOME is not set)"
    fail(
        "cannot extract the bundled packages: no writable directory among "
        f"{tried}. Set SHIV_ROOT to a writable directory (under systemd: "
        "CacheDirectory=<name> and SHIV_ROOT=%C/<name>)."
    )


def main():
    for variable in REFUSED_VARIABLES:
        if os.environ.get(variable):
            fail(
                f"{variable} is set; this artifact refuses it, because it would change what the artifact runs"
            )
    archive = archive_path()
    environment = read_environment(archive)
    extraction_name = f"{os.path.basename(os.path.realpath(archive))}_{environment['build_id']}"
    root = choose_root(os.environ, extraction_name)
    os.environ["SHIV_ROOT"] = root
    site_packages = os.path.join(root, extraction_name, "site-packages")
    # shiv renames a finished extraction into place: if it exists, it is
    # whole, and once this process holds it no prune removes it.
    if not os.environ.get("SHIV_FORCE_EXTRACT") and hold_extraction(site_packages):
        run_extracted(site_packages, environment["entry_point"])
    else:
        import _bootstrap

        _bootstrap.bootstrap()  # extracts, runs preamble() and the entry point


def run_extracted(site_packages, entry_point):
    """What shiv's bootstrap does once everything is extracted, without
    opening the archive again; the caller holds the extraction."""
    import site
    from importlib import import_module

    isolate(site_packages)
    site.addsitedir(site_packages)
    module_name, _, attribute = entry_point.partition(":")
    target = import_module(module_name)
    for name in attribute.split("."):
        target = getattr(target, name)
    sys.exit(target())


def standard_library_paths():
    import sysconfig

    paths = {sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib")}
    paths |= {os.path.join(path, "lib-dynload") for path in list(paths)}
    # An embedded or zipped standard library (pythonXY.zip) sits beside it.
    paths |= {
        path for path in sys.path if path.endswith(".zip") and os.path.basename(path).startswith("python")
    }
    return {os.path.normpath(path) for path in paths}


def isolate(site_packages):
    """Keep only the standard library, the archive and its extraction, and
    drop import hooks that ``.pth`` files of the interpreter installed
    (editable installs, setuptools' distutils shim)."""
    site_packages = os.path.normpath(str(site_packages))
    keep = standard_library_paths() | {os.path.normpath(archive_path())}
    sys.path[:] = [
        path
        for path in sys.path
        if os.path.normpath(path) in keep or os.path.normpath(path).startswith(site_packages)
    ]
    sys.meta_path[:] = [finder for finder in sys.meta_path if _standard_finder(finder)]


def _standard_finder(finder):
    module = getattr(finder, "__module__", None) or type(finder).__module__
    return module.startswith(("_frozen_importlib", "importlib", "zipimport"))


def hold_extraction(site_packages):
    """Take a shared lock on the extraction for the life of the process (and
    its forked workers), so that ``zipapp prune`` leaves it alone. True when
    the extraction is in place (and held, when it has a lock file); False
    when it is not there, or was removed while this process waited for it."""
    import fcntl

    path = os.path.join(str(site_packages), LOCK_NAME)
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        # Not extracted (yet, or any more), or made by an older build,
        # which has no lock file.
        return os.path.isdir(site_packages)
    fcntl.flock(descriptor, fcntl.LOCK_SH)
    # A prune that took the exclusive lock first renamed the extraction away
    # before letting go: the lock this process got is on a deleted file.
    if not _same_file(descriptor, path):
        os.close(descriptor)
        return False
    return True  # the descriptor stays open: the lock lasts as long as the process


def _same_file(descriptor, path):
    try:
        found = os.stat(path)
    except OSError:
        return False
    held = os.fstat(descriptor)
    return (held.st_dev, held.st_ino) == (found.st_dev, found.st_ino)


def preamble(site_packages):
    """Run by shiv's bootstrap right after it extracted (or found) the packages."""
    if not hold_extraction(site_packages):
        fail(
            f"the extraction {site_packages} was removed (zipapp prune) while this process started; "
            "start it again"
        )
    isolate(site_packages)
