"""What a running zipapp knows about itself: its build record and its
extractions on disk, and how to prune old ones safely.

shiv extracts an artifact's packages once, into
``<root>/<file name>_<build id>/``, and never removes anything; a server that
is upgraded daily collects a copy per release. Pruning keeps the current
extraction and the N most recent others, and never removes one that a
running process uses: each process holds a shared lock on a file inside its
extraction (see ``boot``), and pruning takes that lock exclusively or
leaves the directory alone.
"""

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


def in_use(extraction):
    """True when a process holds the extraction's lock (or, for an
    extraction without a lock file, maps one of its files)."""
    lock = extraction / "site-packages" / LOCK_NAME
    if lock.is_file():
        try:
            descriptor = os.open(lock, os.O_RDONLY)
        except OSError:
            return True  # cannot tell: keep it
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(descriptor)
        return False
    return mapped_by_a_process(extraction)


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
        if not path.is_dir() or path.name.endswith(".tmp") or "_" not in path.name:
            continue
        if name and not path.name.startswith(f"{name}_"):
            continue
        if not (path / "site-packages").is_dir():
            continue
        is_current = current is not None and path.resolve() == current.resolve()
        found.append(Extraction(path, path.stat().st_mtime, directory_size(path), is_current,
                                is_current or in_use(path)))
    return sorted(found, key=lambda item: item.modified, reverse=True)


def prune(root, keep, name=None, dry_run=False):
    """Remove all but the current and the ``keep`` most recent extractions,
    skipping any in use. Returns ``(removed, kept)``."""
    removed, kept = [], []
    recent = 0
    for extraction in extractions(root, name):
        if not extraction.current and recent < keep:
            recent += 1
            kept.append(extraction)
            continue
        if extraction.current or extraction.in_use:
            kept.append(extraction)
            continue
        if not dry_run:
            shutil.rmtree(extraction.path)
            lock = extraction.path.parent / f".{extraction.path.name}_lock"
            if lock.exists():
                lock.unlink()
        removed.append(extraction)
    return removed, kept
