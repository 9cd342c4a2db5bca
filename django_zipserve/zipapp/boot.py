"""Start-up of a django-zipserve zipapp, run before and just after shiv's bootstrap.

The build copies this file to the root of the archive as ``_zipserve_boot.py``
and makes ``__main__.py`` call :func:`main`; it uses the standard library
only, since nothing else is importable yet. So do the two modules it imports,
which the build ships beside it: ``extractions`` (the extractions on disk:
the in-use lock, their permission bits, listing, sizes and pruning) as
``_zipserve_extractions``, ``store`` (the content-addressed store they are
made of) as ``_zipserve_store`` and ``guard`` (the audit hook) as
``_zipserve_guard``.

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
- makes a missing extraction itself, of hard links to the content-addressed
  store under the extraction root (``store``, shipped as ``_zipserve_store``):
  a new release writes only the files that changed. shiv's bootstrap
  extracts only for ``SHIV_FORCE_EXTRACT``;
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
  what to do, every write under the extraction: root ignores permission
  bits, and the write must fail for root too.
"""

import json
import os
import sys
import zipfile
import zipimport

if __package__:  # django_zipserve.zipapp.boot: imported by the build, the tests, a running project
    from . import extractions, guard, store
else:  # _zipserve_boot, at the root of the artifact: its companions are beside it
    # The same files under the names the build gives them at the root;
    # mypy checks them as the package's modules above, and sees one name
    # bound twice.
    import _zipserve_extractions as extractions  # type: ignore[no-redef]
    import _zipserve_guard as guard  # type: ignore[no-redef]
    import _zipserve_store as store  # type: ignore[no-redef]

#: The build record and the in-use lock file (their home is ``extractions``):
#: the build, the deployment and the tests name them from here.
RECORD_NAME = extractions.RECORD_NAME
RECORD_MEMBER = extractions.RECORD_MEMBER
LOCK_NAME = extractions.LOCK_NAME
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
    if isinstance(loader, zipimport.zipimporter) and os.path.abspath(loader.archive) == archive:
        try:
            # By its name in the archive: the loader's path of the archive may
            # be spelled otherwise (``./site.pyz`` gives ``/srv/./site.pyz``).
            return loader.get_data(member)
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
    except (KeyError, OSError, ValueError, zipfile.BadZipFile):
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
    if not forced and (
        extractions.hold_extraction(site_packages)
        or (extract_from_store(archive, root, extraction_name, record) and held(site_packages))
    ):
        stamp_build_time(site_packages, build_epoch(record))
        extractions.make_read_only(site_packages)
        run_extracted(site_packages, environment["entry_point"])
    else:
        if forced:
            # shiv removes the old tree first, which its owner can do only
            # in directories that are writable again.
            extractions.restore_write_bits(os.path.dirname(site_packages))
        import _bootstrap

        _bootstrap.bootstrap()  # extracts, runs preamble() and the entry point


def extract_from_store(archive, root, extraction_name, record):
    """Make the extraction of links to the content-addressed store (see
    ``store``); False for an archive without the build's manifest of files,
    which shiv's bootstrap then extracts as it always did."""
    try:
        manifest = read_member(archive, store.MANIFEST_MEMBER)
    except KeyError:
        return False
    try:
        store.extract(
            archive,
            manifest,
            root,
            extraction_name,
            LOCK_NAME,
            build_epoch(record),
            read=lambda member: read_member(archive, member),
        )
    except OSError as exc:
        fail(f"cannot extract the bundled packages into {root}: {exc.strerror or exc}")
    return True


def held(site_packages):
    if not extractions.hold_extraction(site_packages):
        fail(
            f"the extraction {site_packages} was removed (zipapp prune) while this process started; "
            "start it again"
        )
    return True


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
        lines = extractions.info_lines(root, name, os.path.join(root, extraction_name), record.get("name"))
    elif words[:2] == ["zipapp", "prune"] and prune_arguments(words[2:]) is not None:
        keep, dry_run = prune_arguments(words[2:])
        root = choose_root(os.environ, extraction_name)
        current = os.path.join(root, extraction_name)
        lines = extractions.prune_lines(root, name, current, keep, dry_run, record.get("name"))
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
    from operator import attrgetter

    isolate(site_packages)
    site.addsitedir(site_packages)
    add_test_sidecar()
    guard.guard_extraction(site_packages)
    module_name, _, attribute = entry_point.partition(":")
    # attrgetter follows a dotted attribute ("Class.method") as getattr would, one name at a time.
    target = attrgetter(attribute)(import_module(module_name))
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


def preamble(site_packages):
    """Run by shiv's bootstrap right after it extracted (or found) the packages."""
    if not extractions.hold_extraction(site_packages):
        fail(
            f"the extraction {site_packages} was removed (zipapp prune) while this process started; "
            "start it again"
        )
    stamp_build_time(str(site_packages), build_epoch(read_build_record(archive_path())))
    extractions.make_read_only(str(site_packages))
    isolate(site_packages)
    add_test_sidecar()
    guard.guard_extraction(site_packages)  # shiv's bootstrap runs the entry point next


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
