"""The extractions of an artifact on disk: where shiv puts them, the lock
that marks one in use, their permission bits, their sizes, and pruning.

Standard library only, like the start-up module (``boot``) that imports it:
the build ships it at the root of the archive as ``_zipserve_extractions``,
beside ``_zipserve_boot``, which answers ``zipapp info`` and ``zipapp prune``
with it before extracting anything. The management command ``zipapp`` and
code that runs inside the project use the same implementation (``artifact``
re-exports it).

An artifact's packages are extracted once, into
``<root>/<file name>_<build id>/``, made of hard links to the store of
files they share with the other releases (``store``); nothing removes
them by itself, so a server that is upgraded daily collects one per
release. Pruning keeps the
current extraction and the N most recent others, and never removes one
that a running process uses: each process holds a shared lock on a file
inside its extraction (:func:`hold_extraction`), and pruning takes that lock
exclusively or leaves the directory alone. It keeps the exclusive lock
until the directory is gone, and renames it away first, in one step: a
process that starts meanwhile either finds no extraction, or gets its lock
only once the directory has moved, notices, and extracts again. Then the
stored files no extraction links to any more are removed.

``zipapp info`` lists every extraction under the root, whatever program or
artifact file name it belongs to. ``zipapp prune`` removes only this
project's: those whose build record (``site-packages/zipserve_build.json``)
names the same project, whatever the artifact's file name was
(``mysite-1.3.0.pyz``, then ``mysite-1.4.0.pyz``, or a renamed copy), and,
without a readable record, those of this artifact's file name. An
extraction root may be shared (``~/.cache/shiv`` holds every shiv program of
a user): the extraction of another project, or of a program that is no
django-zipserve artifact, is never removed from here, even while nothing
runs from it (a stopped site holds no lock); its own prune, or its owner,
removes it.
"""

import json
import os
import stat

if __package__:  # django_zipserve.zipapp.extractions
    from . import store
else:  # _zipserve_extractions, at the root of the artifact, beside _zipserve_store
    import _zipserve_store as store  # type: ignore[no-redef]

#: The build record inside site-packages (written by the build, read at run time).
RECORD_NAME = "zipserve_build.json"
RECORD_MEMBER = f"site-packages/{RECORD_NAME}"
#: The file every running process holds a shared lock on (see hold_extraction).
LOCK_NAME = "zipserve_in_use.lock"
#: The permission bits that allow writing, for owner, group and others.
WRITE_BITS = 0o222
MIB = 1 << 20
SIZE_UNIT = "sizes: MiB of disk usage, as `du -sL` counts it"


# In use -------------------------------------------------------------------


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


# A read-only extraction -----------------------------------------------------
#
# The extraction is a cache of the artifact: the next release runs from
# another one, and ``zipapp prune`` deletes this one. Whatever a project
# writes into its own package lands here and is lost without a word (NetBox
# stores uploaded scripts under its package: after an upgrade the database
# still lists them, the files stay behind in the old extraction). So nothing
# may be written here: first through the permission bits, which hold for
# every process but root's; then through an audit hook (``guard``), which
# holds for root too.


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


# Listing and pruning --------------------------------------------------------
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


def disk_usage(path, shared=None):
    """Bytes allocated on disk under ``path``, as ``du -s`` counts them:
    512-byte blocks of every file, directory and link, each inode once.
    Symbolic links into the directory ``shared`` (the store) are followed,
    as ``du -sL`` would: an extraction counts the shared tree it links to."""
    seen = set()
    total = 0
    shared = os.path.realpath(shared) + os.sep if shared else None
    pending = [str(path)]
    while pending:
        entry = pending.pop()
        try:
            found = os.lstat(entry)
            if shared and stat.S_ISLNK(found.st_mode) and os.path.realpath(entry).startswith(shared):
                found = os.stat(entry)
        except OSError:
            continue
        if (found.st_dev, found.st_ino) in seen:
            continue
        seen.add((found.st_dev, found.st_ino))
        total += found.st_blocks * 512
        if stat.S_ISDIR(found.st_mode):
            try:
                pending += [os.path.join(entry, name) for name in os.listdir(entry)]
            except OSError:
                continue
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
                path,
                os.stat(path).st_mtime,
                disk_usage(path, store.store_path(root)),
                is_current,
                in_use(path),
                project_of(path),
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
    removed: list[Extraction] = []
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


# What ``zipapp info`` and ``zipapp prune`` print ----------------------------


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
    # Extractions share their unchanged files (hard links into the store):
    # each counts them, the root holds them once.
    total = disk_usage(root) if found else 0
    lines.append(
        f"{len(found)} extraction{'' if len(found) == 1 else 's'}, {total / MIB:.1f} MiB on disk "
        "(files the extractions share counted once)"
    )
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
    if not dry_run:
        files, freed = store.collect(root)
        if files:
            noun = "file" if files == 1 else "files"
            lines.append(f"removed {files} stored {noun} no kept extraction uses ({freed / MIB:.1f} MiB)")
    return [*lines, f"{len(removed)} {verb}, {len(kept)} kept"]
