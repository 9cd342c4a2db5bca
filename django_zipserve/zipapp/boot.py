"""Start-up of a django-zipserve zipapp, run before and just after shiv's bootstrap.

The build copies this file to the root of the archive as ``_zipserve_boot.py``
and makes ``__main__.py`` call :func:`main`; it uses the standard library
only, since nothing else is importable yet.

Before shiv extracts anything it:

- refuses the ``SHIV_*`` variables that let whoever sets the environment
  change what the artifact runs (prepend paths, another entry point, an
  interactive interpreter);
- refuses, in one line, an interpreter of another minor version than the
  build's (its compiled extensions would not load): the build record says
  which one it needs;
- answers ``version``, ``zipapp version``, ``zipapp info`` and ``zipapp
  prune`` itself, from the build record and the extraction root: describing
  or pruning the artifact needs neither its configuration nor an extraction;
- chooses where the bundled packages are extracted: ``SHIV_ROOT``, else
  systemd's ``$CACHE_DIRECTORY``, else ``$XDG_CACHE_HOME/shiv`` or
  ``~/.cache/shiv``. An existing extraction of this very build is used even
  where nothing may be written (a read-only file system); otherwise the first
  writable place wins, and when there is none it stops with one message that
  says what to set;
- for ``test`` only: finds the test sidecar built with this artifact
  (``<name>-<version>.tests.zip`` beside it), refuses one of another build,
  and extracts it into a temporary directory that goes on ``sys.path`` after
  the artifact's own packages.

Before it runs from an extraction (and, after a first extraction, in shiv's
"preamble"), it:

- takes a shared lock on a file of the extraction, so that pruning old
  extractions never removes one a running process uses; an extraction that
  a prune removed while this process waited for the lock is never run from:
  it is extracted again;
- gives the extracted files the build's time (``SOURCE_DATE_EPOCH``) as
  their modification time, once, before anything is served from them:
  shiv's extraction leaves each file the time it was extracted, and
  WhiteNoise derives the ``Last-Modified`` and ``ETag`` of static files
  from it, which would then differ between hosts and extractions of the
  very same artifact;
- removes from ``sys.path`` everything that is neither the standard library
  nor the artifact: the user's site-packages, the system's site- and
  dist-packages and ``PYTHONPATH``, so the artifact runs exactly what it was
  built and tested with.

The extractions on disk (listing, sizes as ``du`` counts them, pruning) are
handled here too, so that the management command ``zipapp`` and this module
share one implementation (``artifact`` re-exports it).
"""

import json
import os
import sys
import zipfile

#: The build record inside site-packages (written by the build, read at run time).
RECORD_NAME = "zipserve_build.json"
RECORD_MEMBER = f"site-packages/{RECORD_NAME}"
#: The file every running process holds a shared lock on (see hold_extraction).
LOCK_NAME = "zipserve_in_use.lock"
#: The test sidecar: ``<artifact file name without .pyz>`` + this, beside the artifact.
TESTS_SUFFIX = ".tests.zip"
#: The record inside the sidecar: the build id of the artifact it belongs to.
TESTS_RECORD_NAME = "zipserve_tests.json"
REFUSED_VARIABLES = (
    "SHIV_PREPEND_PYTHONPATH",
    "SHIV_EXTEND_PYTHONPATH",
    "SHIV_INTERPRETER",
    "SHIV_ENTRY_POINT",
    "SHIV_CONSOLE_SCRIPT",
    "SHIV_MODULE",
)
EXIT_USAGE = 2
MIB = 1 << 20
SIZE_UNIT = "sizes: MiB of disk usage, as `du -s` counts it"

#: For ``test``: the extracted sidecar, appended to sys.path after the artifact's packages.
_tests_path = None


def fail(message):
    name = os.path.basename(archive_path())
    sys.stderr.write(f"{name}: {message}\n")
    sys.stderr.flush()
    raise SystemExit(EXIT_USAGE)


def archive_path():
    return os.path.dirname(os.path.abspath(__file__))


def read_member(archive, member):
    """One file of the archive. Read through the zipimporter that loaded
    this module: it has parsed the archive's directory already, and parsing
    it again (thousands of entries) would cost more than the rest of
    start-up. KeyError when the archive has no such member."""
    loader = globals().get("__loader__")
    if hasattr(loader, "get_data"):
        try:
            return loader.get_data(os.path.join(archive, member))
        except OSError:
            pass
    with zipfile.ZipFile(archive) as zipped:
        return zipped.read(member)


def read_environment(archive):
    """shiv's build metadata."""
    return json.loads(read_member(archive, "environment.json").decode("utf-8"))


def read_build_record(archive):
    """The build record (``site-packages/zipserve_build.json``), or None."""
    try:
        return json.loads(read_member(archive, RECORD_MEMBER).decode("utf-8"))
    except (KeyError, OSError, ValueError):
        return None


def python_version():
    return f"{sys.version_info[0]}.{sys.version_info[1]}"


def check_python(record, invoked):
    """Stop, in one line, when this interpreter is not the build's minor
    version: the bundled compiled extensions would fail to import, deep in a
    traceback, after extracting everything."""
    built = (record or {}).get("python")
    if built and built != python_version():
        fail(
            f"built for Python {built}, but this is Python {python_version()} "
            f"({sys.executable or 'unknown interpreter'}); run it with python{built} {invoked}"
        )


def refuse_injection(environ):
    for variable in REFUSED_VARIABLES:
        if environ.get(variable):
            fail(
                f"{variable} is set; this artifact refuses it, because it would change what the artifact runs"
            )


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
    refuse_injection(os.environ)
    archive = archive_path()
    record = read_build_record(archive)
    check_python(record, sys.argv[0] or os.path.basename(archive))
    environment = read_environment(archive)
    name = os.path.basename(os.path.realpath(archive))
    extraction_name = f"{name}_{environment['build_id']}"
    words = command_words(sys.argv[1:])
    if record is not None and answer_early(words, record, name, extraction_name):
        return
    root = choose_root(os.environ, extraction_name)
    if words[:1] == ["test"]:
        use_test_sidecar(archive, record, environment["build_id"])
    os.environ["SHIV_ROOT"] = root
    site_packages = os.path.join(root, extraction_name, "site-packages")
    # shiv renames a finished extraction into place: if it exists, it is
    # whole, and once this process holds it no prune removes it.
    if not os.environ.get("SHIV_FORCE_EXTRACT") and hold_extraction(site_packages):
        stamp_build_time(site_packages, build_epoch(record))
        run_extracted(site_packages, environment["entry_point"])
    else:
        import _bootstrap

        _bootstrap.bootstrap()  # extracts, runs preamble() and the entry point


# Commands answered before extracting -------------------------------------


def command_words(argv):
    """The command line after the entry point's global options (``--config FILE``)."""
    words = list(argv)
    while words and words[0].startswith("--config"):
        words = words[2:] if words[0] == "--config" else words[1:]
    return words


def answer_early(words, record, name, extraction_name):
    """Answer ``version``, ``zipapp version [--json]``, ``zipapp info`` and
    ``zipapp prune [--keep N] [--dry-run]`` from the record and the
    extraction root; False for any other command line (``--help`` included),
    which the project's entry point then runs."""
    if words in (["version"], ["--version"], ["zipapp", "version"]):
        lines = version_lines(record, record.get("packages", {}).get("Django", "unknown"))
    elif words == ["zipapp", "version", "--json"]:
        lines = [json.dumps(record, indent=2, sort_keys=True)]
    elif words == ["zipapp", "info"]:
        root = choose_root(os.environ, extraction_name)
        lines = info_lines(root, name, os.path.join(root, extraction_name))
    elif words[:2] == ["zipapp", "prune"] and prune_arguments(words[2:]) is not None:
        keep, dry_run = prune_arguments(words[2:])
        root = choose_root(os.environ, extraction_name)
        lines = prune_lines(root, name, os.path.join(root, extraction_name), keep, dry_run)
    else:
        return False
    sys.stdout.write("".join(f"{line}\n" for line in lines))
    sys.stdout.flush()
    return True


def prune_arguments(args):
    """``(keep, dry_run)`` from ``--keep N``, ``--keep=N``, ``--dry-run``;
    None for anything else, which the management command then reports."""
    keep, dry_run, rest = 2, False, list(args)
    while rest:
        word = rest.pop(0)
        if word == "--dry-run":
            dry_run = True
            continue
        if word == "--keep" and rest:
            word = f"--keep={rest.pop(0)}"
        value = word.partition("=")[2]
        if not word.startswith("--keep=") or not value.isdigit():
            return None
        keep = int(value)
    return keep, dry_run


def version_lines(record, django_version):
    """What ``version`` prints: the build, then the versions that run it."""
    return [
        f"{record['name']} {record['version']} (build {record['build_id']}, "
        f"commit {record.get('commit') or 'unknown'}, built for Python {record['python']})",
        runtime_line(django_version),
    ]


def runtime_line(django_version):
    return f"Django {django_version}, Python {sys.version.split()[0]}"


def info_lines(root, name, current):
    """What ``zipapp info`` prints: the extractions of the artifact file
    ``name`` under ``root``, newest first; ``current`` is this build's."""
    found = extractions(root, name, current)
    lines = [f"extraction root: {root} ({SIZE_UNIT})"]
    for item in found:
        flags = ", ".join(flag for flag, on in (("current", item.current), ("in use", item.in_use)) if on)
        flags = f"  ({flags})" if flags else ""
        lines.append(f"  {os.path.basename(item.path)}  {item.size / MIB:.1f} MiB{flags}")
    if not any(item.current for item in found):
        lines.append(f"  {os.path.basename(current)}  not extracted (this build)")
    total = sum(item.size for item in found)
    lines.append(f"{len(found)} extraction{'' if len(found) == 1 else 's'}, {total / MIB:.1f} MiB")
    return lines


def prune_lines(root, name, current, keep, dry_run):
    """Prune (see :func:`prune`) and say what was done."""
    removed, kept = prune(root, keep, name, current, dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    lines = [f"{verb} {item.path} ({item.size / MIB:.1f} MiB)" for item in removed]
    return [*lines, f"{len(removed)} {verb}, {len(kept)} kept"]


# The test sidecar ---------------------------------------------------------


def find_test_sidecar(archive, record):
    """The sidecar beside the artifact: ``<stem>.tests.zip``, or the file
    name the build recorded (the artifact may have been copied to another
    name); None when there is none."""
    folder, file_name = os.path.split(archive)
    names = [file_name[: -len(".pyz")] + TESTS_SUFFIX if file_name.endswith(".pyz") else None]
    names.append((record or {}).get("tests", {}).get("file"))
    found = (os.path.join(folder, name) for name in names if name)
    return next((path for path in found if os.path.isfile(path)), None)


def use_test_sidecar(archive, record, build_id):
    """For ``test``: extract the sidecar built with this artifact into a
    temporary directory (removed at exit), to go on ``sys.path`` after the
    artifact's own packages. A sidecar of another build is refused. Without
    a sidecar, nothing changes."""
    global _tests_path
    path = find_test_sidecar(archive, record)
    if path is None:
        return
    try:
        with zipfile.ZipFile(path) as sidecar:
            belongs = json.loads(sidecar.read(TESTS_RECORD_NAME).decode("utf-8")).get("build_id")
            if belongs != build_id:
                fail(
                    f"{os.path.basename(path)} holds the test packages of build {belongs}, not of this "
                    f"artifact's build {build_id}; use the .tests.zip built with this artifact"
                )
            import atexit
            import shutil
            import tempfile

            target = tempfile.mkdtemp(prefix="zipserve-tests-")
            atexit.register(shutil.rmtree, target, True)
            sidecar.extractall(target)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        fail(f"{os.path.basename(path)} is not a test sidecar of this artifact: {exc}")
    _tests_path = target


# Running from an extraction ----------------------------------------------


def run_extracted(site_packages, entry_point):
    """What shiv's bootstrap does once everything is extracted, without
    opening the archive again; the caller holds the extraction."""
    import site
    from importlib import import_module

    isolate(site_packages)
    site.addsitedir(site_packages)
    add_test_sidecar()
    module_name, _, attribute = entry_point.partition(":")
    target = import_module(module_name)
    for name in attribute.split("."):
        target = getattr(target, name)
    sys.exit(target())


def add_test_sidecar():
    """The test packages go last: the artifact's own always win."""
    if _tests_path and _tests_path not in sys.path:
        sys.path.append(_tests_path)


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
    stamp_build_time(str(site_packages), build_epoch(read_build_record(archive_path())))
    isolate(site_packages)
    add_test_sidecar()


def build_epoch(record):
    """The build's time (its SOURCE_DATE_EPOCH), or None."""
    epoch = (record or {}).get("source_date_epoch")
    return epoch if isinstance(epoch, int) and epoch > 0 else None


def stamp_build_time(site_packages, epoch):
    """Give every extracted file the build's time as its modification time.

    The same artifact then has the same file times on every host and in
    every extraction, so validators derived from them (WhiteNoise's ETag
    and Last-Modified) are the same too. The lock file goes last: once it
    carries the build's time every file does, and a start only looks at it.
    Processes that start together may both stamp: they write the same
    times. Where nothing may be written (another owner's or a read-only
    extraction), the files keep their times.
    """
    if epoch is None:
        return
    lock = os.path.join(site_packages, LOCK_NAME)
    try:
        if os.stat(lock).st_mtime == epoch:
            return
        for directory, _, files in os.walk(site_packages):
            for path in (os.path.join(directory, name) for name in files):
                if path != lock:
                    os.utime(path, (epoch, epoch), follow_symlinks=False)
        os.utime(lock, (epoch, epoch))
    except OSError:
        pass


# Extractions on disk ------------------------------------------------------
#
# shiv extracts an artifact's packages once, into
# ``<root>/<file name>_<build id>/``, and never removes anything; a server
# that is upgraded daily collects a copy per release. Pruning keeps the
# current extraction and the N most recent others, and never removes one
# that a running process uses: each process holds a shared lock on a file
# inside its extraction (hold_extraction), and pruning takes that lock
# exclusively or leaves the directory alone. It keeps the exclusive lock
# until the directory is gone, and renames it away first, in one step: a
# process that starts meanwhile either finds no extraction, or gets its lock
# only once the directory has moved, notices, and extracts again.


class Extraction:
    """One extraction directory: its path (a string), modification time,
    disk usage in bytes, and whether it is this build's and in use."""

    __slots__ = ("path", "modified", "size", "current", "in_use")

    def __init__(self, path, modified, size, current, in_use):
        self.path, self.modified, self.size, self.current, self.in_use = path, modified, size, current, in_use

    def __repr__(self):
        return f"Extraction({self.path!r}, current={self.current}, in_use={self.in_use})"


def disk_usage(path):
    """Bytes allocated on disk under ``path``, as ``du -s`` counts them:
    512-byte blocks of every file, directory and link, each inode once."""
    seen = set()
    total = 0
    entries = [str(path)]
    for root, directories, files in os.walk(path):
        entries += [os.path.join(root, name) for name in (*directories, *files)]
    for entry in entries:
        try:
            found = os.lstat(entry)
        except OSError:
            continue
        if found.st_nlink > 1:
            if (found.st_dev, found.st_ino) in seen:
                continue
            seen.add((found.st_dev, found.st_ino))
        total += found.st_blocks * 512
    return total


def extractions(root, name=None, current=None):
    """Extractions under ``root``, newest first; ``name`` limits them to
    one artifact's file name; ``current`` is the path of this build's."""
    root = str(root)
    if not os.path.isdir(root):
        return []
    current = os.path.realpath(current) if current else None
    found = []
    for entry in os.listdir(root):
        path = os.path.join(root, entry)
        # shiv extracts into NAME.tmp; a prune removes from .NAME.removing-PID.
        unfinished = entry.endswith(".tmp") or entry.startswith(".")
        if unfinished or "_" not in entry or not os.path.isdir(os.path.join(path, "site-packages")):
            continue
        if name and not entry.startswith(f"{name}_"):
            continue
        is_current = current is not None and os.path.realpath(path) == current
        found.append(Extraction(path, os.stat(path).st_mtime, disk_usage(path), is_current, in_use(path)))
    return sorted(found, key=lambda item: item.modified, reverse=True)


def prune(root, keep, name=None, current=None, dry_run=False):
    """Remove all but the current and the ``keep`` most recent extractions,
    skipping any in use. Returns ``(removed, kept)``."""
    found = extractions(root, name, current)
    kept = [extraction for extraction in found if extraction.current]
    others = [extraction for extraction in found if not extraction.current]
    kept += others[:keep]
    removed = []
    for extraction in others[keep:]:
        # The listing's in_use is a moment's look; the removal decides again
        # under the exclusive lock.
        gone = not extraction.in_use if dry_run else remove_unless_in_use(extraction.path)
        (removed if gone else kept).append(extraction)
    return removed, kept


def lock_exclusively(extraction):
    """``(free, descriptor)``: free when no process uses the extraction, and
    then ``descriptor`` (to be closed by the caller) holds its lock
    exclusively. An extraction without a lock file (made by an older build)
    is in use while a process maps one of its files."""
    import fcntl

    lock = os.path.join(str(extraction), "site-packages", LOCK_NAME)
    if not os.path.isfile(lock):
        return not mapped_by_a_process(extraction), None
    try:
        descriptor = os.open(lock, os.O_RDONLY)
    except OSError:
        return False, None  # cannot tell: keep it
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        return False, None
    return True, descriptor


def in_use(extraction):
    """True when a process uses the extraction (a moment's look)."""
    free, descriptor = lock_exclusively(extraction)
    if descriptor is not None:
        os.close(descriptor)
    return not free


def mapped_by_a_process(extraction):
    prefix = str(extraction) + "/"
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/maps", errors="replace") as maps:
                if prefix in maps.read():
                    return True
        except OSError:
            continue
    return False


def remove_unless_in_use(extraction):
    """Remove an extraction unless a process uses it; True when removed.
    The exclusive lock is held until the directory is gone, so no process
    starts using it in between."""
    free, descriptor = lock_exclusively(extraction)
    try:
        if free:
            _remove(str(extraction))
        return free
    finally:
        if descriptor is not None:
            os.close(descriptor)


def _remove(extraction):
    import shutil

    # Renamed in one step first: from then on no process finds it in its
    # place, and one that opened its lock file before will see it moved.
    parent, name = os.path.split(extraction)
    doomed = os.path.join(parent, f".{name}.removing-{os.getpid()}")
    os.rename(extraction, doomed)
    shutil.rmtree(doomed)
    shiv_lock = os.path.join(parent, f".{name}_lock")
    if os.path.exists(shiv_lock):
        os.unlink(shiv_lock)
