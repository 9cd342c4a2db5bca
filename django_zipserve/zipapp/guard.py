"""The audit hook that refuses every write into the artifact's extraction.

Standard library only, like the start-up module (``boot``) that installs it
just before the entry point runs: the build ships it at the root of the
archive as ``_zipserve_guard``, beside ``_zipserve_boot``.

The extraction is a cache of the artifact: the next release runs from
another one, and ``zipapp prune`` deletes this one. Whatever a project
writes into its own package lands there and is lost without a word. Its
files lose their write bits (``extractions.make_read_only``), which holds
for every process but root's; the audit hook (``sys.addaudithook``) holds for
root too. It refuses, with a PermissionError that says what to do, opening
a file there for writing, creating, renaming or removing files and
directories, a SQLite database there. Only Python's bytecode cache
(``__pycache__``) is let through to the file system, which refuses it for
everyone but root; Python then runs without it, as on any read-only
directory.
"""

import errno
import os
import sys

if __package__:  # django_zipserve.zipapp.guard
    from .store import STORE_NAME
else:  # _zipserve_guard, at the root of the artifact, beside _zipserve_store
    from _zipserve_store import STORE_NAME  # type: ignore[no-redef]

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
_guarded: set[str] = set()


def guard_extraction(site_packages):
    """From now on, in this process and the processes it forks, refuse every
    write under the extraction with a PermissionError that says what to do.
    The extraction is named in both its given and its resolved form: a
    project finds its files from ``__file__`` (the given form) or from
    ``Path(__file__).resolve()`` (the other); the latter leads the shared
    entries into the store, which is guarded as well."""
    extraction = os.path.dirname(os.path.abspath(str(site_packages)))
    if extraction in _guarded:
        return  # audit hooks cannot be removed: a second one would only cost
    _guarded.add(extraction)
    store = os.path.join(os.path.dirname(extraction), STORE_NAME)
    places = frozenset(os.path.realpath(place) for place in (extraction, store)) | {extraction, store}
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
