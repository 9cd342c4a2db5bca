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
- makes the extraction read-only on disk, once: every file and directory
  loses its write bits. A project that writes into its own package (an
  upload, a generated script, a SQLite file beside its code) writes into
  the extraction, which the next release replaces and ``zipapp prune``
  deletes: the data would be lost without a word. Now the write fails;
- removes from ``sys.path`` everything that is neither the standard library
  nor the artifact: the user's site-packages, the system's site- and
  dist-packages and ``PYTHONPATH``, so the artifact runs exactly what it was
  built and tested with;
- last, just before the entry point, installs an audit hook
  (``sys.addaudithook``) that refuses, with a PermissionError that says
  what to do, every write under the extraction (opening a file for
  writing, creating, renaming or removing files and directories, a SQLite
  database there): root ignores permission bits, and the write must fail
  for root too. Only Python's bytecode cache (``__pycache__``) is let
  through to the file system, which refuses it for everyone but root;
  Python then runs without it, as on any read-only directory.

The extractions on disk (listing, sizes as ``du`` counts them, pruning) are
handled here too, so that the management command ``zipapp`` and this module
share one implementation (``artifact`` re-exports it). ``zipapp info`` lists
every extraction under the root, whatever program or artifact file name it
belongs to. ``zipapp prune`` removes only this project's: those whose build
record (``site-packages/zipserve_build.json``) names the same project,
whatever the artifact's file name was (``mysite-1.3.0.pyz``, then
``mysite-1.4.0.pyz``, or a renamed copy), and, without a readable record,
those of this artifact's file name. An extraction root may be shared
(``~/.cache/shiv`` holds every shiv program of a user): the extraction of
another project, or of a program that is no django-zipserve artifact, is
never removed from here, even while nothing runs from it (a stopped site
holds no lock); its own prune, or its owner, removes it.
"""

import errno
import json
import os
import stat
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
#: The permission bits that allow writing, for owner, group and others.
WRITE_BITS = 0o222
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


#: DJANGO_SETTINGS_MODULE as this process found it, before any code of the
#: project's could set it (the entry point says when it runs other settings).
INHERITED_SETTINGS = None


def main():
    global INHERITED_SETTINGS
    INHERITED_SETTINGS = os.environ.get("DJANGO_SETTINGS_MODULE")
    refuse_injection(os.environ)
    main_file_on_disk()
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
    forced = bool(os.environ.get("SHIV_FORCE_EXTRACT"))
    if not forced and hold_extraction(site_packages):
        stamp_build_time(site_packages, build_epoch(record))
        make_read_only(site_packages)
        run_extracted(site_packages, environment["entry_point"])
    else:
        if forced:
            # shiv removes the old tree first, which its owner can do only
            # in directories that are writable again.
            restore_write_bits(os.path.dirname(site_packages))
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
        lines = info_lines(root, name, os.path.join(root, extraction_name), record.get("name"))
    elif words[:2] == ["zipapp", "prune"] and prune_arguments(words[2:]) is not None:
        keep, dry_run = prune_arguments(words[2:])
        root = choose_root(os.environ, extraction_name)
        current = os.path.join(root, extraction_name)
        lines = prune_lines(root, name, current, keep, dry_run, record.get("name"))
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


def info_lines(root, name, current, project=None):
    """What ``zipapp info`` prints: every extraction under ``root``, newest
    first, each marked when it is this build's (``current``), in use, or
    not of the artifact file ``name``: this ``project`` under another file
    name, or another program, which prune leaves alone."""
    found = extractions(root, current)
    lines = [f"extraction root: {root} ({SIZE_UNIT})"]
    for item in found:
        flags = [flag for flag, on in (("current", item.current), ("in use", item.in_use)) if on]
        flags += ownership_flags(item, name, project)
        marks = f"  ({', '.join(flags)})" if flags else ""
        lines.append(f"  {os.path.basename(item.path)}  {item.size / MIB:.1f} MiB{marks}")
    if not any(item.current for item in found):
        lines.append(f"  {os.path.basename(current)}  not extracted (this build)")
    total = sum(item.size for item in found)
    lines.append(f"{len(found)} extraction{'' if len(found) == 1 else 's'}, {total / MIB:.1f} MiB")
    return lines


def ownership_flags(item, name, project):
    """How ``zipapp info`` marks an extraction that is not of this artifact file name."""
    if item.current:
        return []
    if belongs(item, name, project):
        return [] if item.file_name == name else ["this project, another file name"]
    if item.project is not None:
        return [f"another project: {item.project}, left alone by prune"]
    return ["not a django-zipserve artifact, left alone by prune"]


def prune_lines(root, name, current, keep, dry_run, project=None):
    """Prune (see :func:`prune`) and say what was done."""
    removed, kept = prune(root, keep, name, current, dry_run=dry_run, project=project)
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
    guard_extraction(site_packages)
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
    make_read_only(str(site_packages))
    isolate(site_packages)
    add_test_sidecar()
    guard_extraction(site_packages)  # shiv's bootstrap runs the entry point next


def main_file_on_disk():
    """Point ``__main__.__file__`` at the artifact itself, a file that
    exists, instead of ``<artifact>/__main__.py`` inside it: a library that
    stats it (strawberry compares it with its modules' files) got
    NotADirectoryError. The build's steps see the same kind of path. Set
    first thing: shiv runs its preamble as a ``__main__`` of its own."""
    main = sys.modules.get("__main__")
    if main is not None:
        main.__file__ = archive_path()


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


# A read-only extraction -----------------------------------------------------
#
# The extraction is a cache of the artifact: the next release runs from
# another one, and ``zipapp prune`` deletes this one. Whatever a project
# writes into its own package lands here and is lost without a word (NetBox
# stores uploaded scripts under its package: after an upgrade the database
# still lists them, the files stay behind in the old extraction). So nothing
# may be written here, first through the permission bits, which hold for
# every process but root's, then through an audit hook, which holds for
# root too.


def make_read_only(site_packages):
    """Take the write bits off every file and directory of the extraction,
    once (execute and read bits stay). The lock file goes last: once it has
    no write bits, everything has lost them, and a start only looks at it.
    Processes that start together may both do it: they set the same modes.
    Where modes cannot be changed (another owner's extraction, a read-only
    file system) the first refusal ends it and the extraction runs as it is.
    Its owner can still give the files the build's time (``os.utime`` needs
    ownership, not write permission), and ``zipapp prune`` gives the
    directories their write bits back before removing them."""
    lock = os.path.join(site_packages, LOCK_NAME)
    try:
        if not os.stat(lock).st_mode & WRITE_BITS:
            return
        for directory, _, files in os.walk(os.path.dirname(site_packages)):
            for path in (os.path.join(directory, name) for name in files):
                if path != lock:
                    _remove_write_bits(path)
            _remove_write_bits(directory)
        _remove_write_bits(lock)
    except OSError:
        pass


def _remove_write_bits(path):
    mode = os.lstat(path).st_mode
    # A symbolic link has no mode of its own (chmod would follow it).
    if mode & WRITE_BITS and not stat.S_ISLNK(mode):
        os.chmod(path, stat.S_IMODE(mode) & ~WRITE_BITS)


def restore_write_bits(extraction):
    """Let the owner write into the extraction's directories again, so that
    it can remove their entries; what cannot be changed is left as it is
    (root needs none of it)."""
    for directory, _, _ in os.walk(extraction):
        try:
            mode = os.lstat(directory).st_mode
            if not mode & stat.S_IWUSR:
                os.chmod(directory, stat.S_IMODE(mode) | stat.S_IWUSR)
        except OSError:
            continue


#: Audit events that write to the file system (see the audit events table
#: of the Python documentation), each with what the refusal calls it and
#: where its arguments name what it writes: (index of the path, index of
#: the directory descriptor a relative path is relative to, or None). The
#: events of operations that only change metadata (chmod, chown, utime) are
#: not among them: they lose no data, and a package may legitimately make
#: its own bundled tool executable.
WRITING_EVENTS = {
    "open": ("write", ((0, None),)),  # builtins.open, io.open and os.open; only to write
    "os.truncate": ("write", ((0, None),)),
    "sqlite3.connect": ("write", ((0, None),)),  # a database file inside the package
    "os.mkdir": ("create", ((0, 2),)),
    "os.symlink": ("create", ((1, 2),)),  # the link; its target is only named
    "os.link": ("create", ((1, 3),)),
    "os.rename": ("rename", ((0, 2), (1, 3))),  # os.replace too: out of, or into, the extraction
    "os.remove": ("remove", ((0, 1),)),  # os.unlink too
    "os.rmdir": ("remove", ((0, 1),)),
    "shutil.rmtree": ("remove", ((0, 1),)),
}
#: The hook sees every audited event of the process (each import, compile,
#: exec, sys._getframe): one look in this set is all most of them cost.
WATCHED_EVENTS = frozenset(WRITING_EVENTS)
#: os.open flags that write; builtins.open passes them too, derived from its mode.
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
#: The letters of a builtins.open mode that write.
WRITE_MODES = frozenset("wax+")
#: Options of a SQLite URI under which it never writes.
SQLITE_READ_ONLY = frozenset({"mode=ro", "immutable=1", "mode=memory"})
_guarded = set()


def guard_extraction(site_packages):
    """From now on, in this process and the processes it forks, refuse every
    write under the extraction with a PermissionError that says what to do.
    The extraction is named in both its given and its resolved form: a
    project finds its files from ``__file__`` (the given form) or from
    ``Path(__file__).resolve()`` (the other)."""
    extraction = os.path.dirname(os.path.abspath(str(site_packages)))
    if extraction in _guarded:
        return  # audit hooks cannot be removed: a second one would only cost
    _guarded.add(extraction)
    places = frozenset({extraction, os.path.realpath(extraction)})
    prefixes = tuple(place + os.sep for place in places)
    watched = WATCHED_EVENTS

    def refuse_writes_into_the_extraction(event, args):
        # Most watched events are "open" to read (each import, each static
        # file served): they cost a look at the flags.
        if event in watched and (event != "open" or opens_for_writing(args)):
            refuse_if_inside(event, args, places, prefixes)

    sys.addaudithook(refuse_writes_into_the_extraction)


def refuse_if_inside(event, args, places, prefixes):
    """Raise the refusal when the audited event writes under the extraction."""
    verb, positions = WRITING_EVENTS[event]
    for path_at, directory_at in positions:
        path = written_path(event, args, path_at, directory_at)
        if path is None or not (path in places or path.startswith(prefixes)):
            continue
        if "__pycache__" in path.split(os.sep):
            continue  # Python's bytecode cache: the file system decides, Python copes
        raise PermissionError(errno.EACCES, refusal(verb, path))


def refusal(verb, path):
    return (
        f"django-zipserve: refused to {verb} {path}: it is inside the artifact's extraction, "
        "which is read-only and replaced by every release; point the setting that names this "
        "path at the state directory (STATE_DIR)"
    )


def opens_for_writing(args):
    """``open`` is audited as (path, mode, flags): os.open gives its flags,
    builtins.open its mode and the flags it derived from it."""
    flags = args[2]
    if isinstance(flags, int):
        return bool(flags & WRITE_FLAGS)
    mode = args[1]
    return isinstance(mode, str) and not WRITE_MODES.isdisjoint(mode)


def written_path(event, args, path_at, directory_at):
    """The absolute, normalised path an event's argument names; None for a
    file descriptor, a database that is no file, or what cannot be told."""
    if len(args) <= path_at:
        return None
    path = args[path_at]
    if event == "sqlite3.connect":
        path = sqlite_file(path)
    if path is None or isinstance(path, int):
        return None  # an open descriptor: it was refused, or not, when opened
    try:
        path = os.fsdecode(path)
        if not os.path.isabs(path):
            directory = args[directory_at] if directory_at is not None and len(args) > directory_at else None
            path = os.path.join(descriptor_directory(directory), path)
    except (TypeError, ValueError, OSError):
        return None
    return os.path.normpath(path)


def descriptor_directory(directory):
    """The directory a relative path is relative to: the working directory
    (no ``dir_fd``: None, or a negative number), or the one an open
    directory descriptor stands for."""
    if not isinstance(directory, int) or directory < 0:
        return os.getcwd()
    return os.readlink(f"/proc/self/fd/{directory}")


def sqlite_file(database):
    """The file a ``sqlite3.connect`` argument opens; None for an in-memory
    or temporary database and for a URI opened read-only."""
    try:
        name = os.fsdecode(database)
    except TypeError:
        return None
    if name.startswith("file:"):
        from urllib.parse import unquote

        name, _, query = name[len("file:") :].partition("?")
        if SQLITE_READ_ONLY & set(query.split("&")):
            return None
        if name.startswith("//"):  # file://host/path: the host is empty or localhost
            name = "/" + name[2:].partition("/")[2]
        name = unquote(name)
    return None if name in ("", ":memory:") else name


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
#
# Listing shows every extraction under the root. Pruning considers only this
# project's (see belongs): a root may be shared by several programs, and
# the extraction of a site that is stopped right now holds no lock.


class Extraction:
    """One extraction directory: its path (a string), modification time,
    disk usage in bytes, whether it is this build's and in use, and the
    project its build record names (None: no django-zipserve artifact, or
    an unreadable record)."""

    __slots__ = ("path", "modified", "size", "current", "in_use", "project")

    def __init__(self, path, modified, size, current, in_use, project=None):
        self.path, self.modified, self.size, self.current, self.in_use = path, modified, size, current, in_use
        self.project = project

    @property
    def file_name(self):
        """The file name of the artifact it was extracted from."""
        return os.path.basename(self.path).rpartition("_")[0]

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


def extractions(root, current=None):
    """Every extraction under ``root``, whatever program or artifact file
    name it belongs to, newest first; ``current`` is the path of this build's."""
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
        is_current = current is not None and os.path.realpath(path) == current
        found.append(
            Extraction(
                path, os.stat(path).st_mtime, disk_usage(path), is_current, in_use(path), project_of(path)
            )
        )
    return sorted(found, key=lambda item: item.modified, reverse=True)


def project_of(extraction):
    """The project an extraction's build record names, or None."""
    try:
        with open(os.path.join(extraction, RECORD_MEMBER), encoding="utf-8") as stream:
            name = json.load(stream).get("name")
    except (OSError, ValueError, AttributeError):
        return None
    return name if isinstance(name, str) and name else None


def belongs(extraction, name, project):
    """Is it one of this site's extractions, which its prune may remove? A
    build record decides: a build of the same ``project``, whatever its
    artifact file name was (versioned file names, a renamed artifact), and
    never another project's, even under the same file name. Without a
    record (an older build, another program), the artifact file name
    ``name`` decides. Without ``name`` and ``project``, every extraction is."""
    if name is None and project is None:
        return True
    if project is not None and extraction.project is not None:
        return extraction.project == project
    return extraction.file_name == name


def prune(root, keep, name=None, current=None, dry_run=False, project=None):
    """Remove all but the current and the ``keep`` most recent of this
    site's extractions (see :func:`belongs`), skipping any in use; those of
    other programs are left alone. Returns ``(removed, kept)``: this site's."""
    found = [extraction for extraction in extractions(root, current) if belongs(extraction, name, project)]
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
    # Read-only directories (make_read_only): only root could empty them.
    restore_write_bits(doomed)
    shutil.rmtree(doomed)
    shiv_lock = os.path.join(parent, f".{name}_lock")
    if os.path.exists(shiv_lock):
        os.unlink(shiv_lock)
