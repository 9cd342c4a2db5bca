"""What a running zipapp knows about itself: its build record and its
extractions on disk, and how to prune old ones safely.

shiv extracts an artifact's packages once, into
``<root>/<file name>_<build id>/``, and never removes anything; a server that
is upgraded daily collects a copy per release. Pruning keeps the current
extraction and the N most recent others, and never removes one that a
running process uses: each process holds a shared lock on a file inside its
extraction (see ``boot``), and pruning takes that lock exclusively or
leaves the directory alone. It keeps the exclusive lock until the directory
is gone, and renames it away first, in one step: a process that starts
meanwhile either finds no extraction, or gets its lock only once the
directory has moved, notices, and extracts again (``boot.hold_extraction``).
"""

import contextlib
import fcntl
import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from .boot import LOCK_NAME, RECORD_NAME


def build_record():
    """The record written at build time, or None outside a built artifact."""
    for entry in sys.path:
        path = Path(entry) / RECORD_NAME
        if path.is_file():
            try:
                return json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return None
    return None


def current_extraction():
    """The extraction directory this process runs from, or None."""
    for entry in sys.path:
        path = Path(entry)
        if path.name == "site-packages" and (path / RECORD_NAME).is_file():
            return path.parent
    return None


@dataclass
class Extraction:
    path: Path
    modified: float
    size: int
    current: bool
    in_use: bool


def directory_size(path):
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


@contextlib.contextmanager
def exclusively(extraction):
    """Yields True, with the extraction's lock held exclusively until the
    block ends, when no process uses the extraction; False when one holds
    its lock or it cannot be told. An extraction without a lock file (made
    by an older build) is in use while a process maps one of its files."""
    lock = extraction / "site-packages" / LOCK_NAME
    if not lock.is_file():
        yield not mapped_by_a_process(extraction)
        return
    try:
        descriptor = os.open(lock, os.O_RDONLY)
    except OSError:
        yield False  # cannot tell: keep it
        return
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        free = True
    except BlockingIOError:
        free = False
    try:
        yield free
    finally:
        os.close(descriptor)


def in_use(extraction):
    """True when a process uses the extraction (a moment's look)."""
    with exclusively(extraction) as free:
        return not free


def mapped_by_a_process(extraction):
    prefix = str(extraction) + "/"
    for maps in Path("/proc").glob("[0-9]*/maps"):
        try:
            if prefix in maps.read_text(errors="replace"):
                return True
        except OSError:
            continue
    return False


def extractions(root, name=None):
    """Extractions under ``root``, newest first; ``name`` limits them to
    one artifact's file name."""
    root = Path(root)
    current = current_extraction()
    found = []
    if not root.is_dir():
        return found
    for path in root.iterdir():
        # shiv extracts into NAME.tmp; a prune removes from .NAME.removing-PID.
        unfinished = path.name.endswith(".tmp") or path.name.startswith(".")
        if not path.is_dir() or unfinished or "_" not in path.name:
            continue
        if name and not path.name.startswith(f"{name}_"):
            continue
        if not (path / "site-packages").is_dir():
            continue
        is_current = current is not None and path.resolve() == current.resolve()
        found.append(
            Extraction(
                path, path.stat().st_mtime, directory_size(path), is_current, is_current or in_use(path)
            )
        )
    return sorted(found, key=lambda item: item.modified, reverse=True)


def prune(root, keep, name=None, dry_run=False):
    """Remove all but the current and the ``keep`` most recent extractions,
    skipping any in use. Returns ``(removed, kept)``."""
    found = extractions(root, name)
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


def remove_unless_in_use(extraction):
    """Remove an extraction unless a process uses it; True when removed.
    The exclusive lock is held until the directory is gone, so no process
    starts using it in between."""
    with exclusively(extraction) as free:
        if free:
            _remove(extraction)
        return free


def _remove(extraction):
    # Renamed in one step first: from then on no process finds it in its
    # place, and one that opened its lock file before will see it moved.
    doomed = extraction.with_name(f".{extraction.name}.removing-{os.getpid()}")
    os.rename(extraction, doomed)
    shutil.rmtree(doomed)
    shiv_lock = extraction.parent / f".{extraction.name}_lock"
    if shiv_lock.exists():
        shiv_lock.unlink()
