"""Hashed static files of the other releases extracted beside this one.

During a rolling deploy, hosts behind one load balancer run two releases of
the site for a while. A page rendered by the new release names
``app.<new hash>.css``; the balancer may send that request to a host still
on the old release, which has no such file: a 404, which a CDN may cache.
The same happens the other way round. The rollout stages (extracts) the new
release on every host before any host switches, so on each host both
releases' extractions lie side by side in the extraction root
(``<root>/<artifact name>_<build id>/``). Each running release therefore
also serves the hashed static files of its siblings: the other extractions
of the same project under the same root.

A request under the static prefix that is not in WhiteNoise's own table is
looked up here (:meth:`SiblingStatic.find`). It is answered from a sibling
only when all of these hold:

- the sibling's build record (``site-packages/zipserve_build.json``) names
  this project (another project's extraction, one without a record, and
  unfinished ones, ``*.tmp`` or ``.*``, are never looked at);
- the name is a hashed name, a value of ``paths`` in the sibling's manifest
  (``staticfiles.json`` in its STATIC_ROOT, the same path inside its
  extraction as this process's STATIC_ROOT inside its own). An unhashed
  name (``css/app.css``) differs between releases: it is only ever answered
  from this release's own files;
- it is a regular file inside the sibling's STATIC_ROOT once resolved (no
  ``..``, no symbolic link leading out), and so are its compressed variants
  (``.gz``, ``.br``), which WhiteNoise serves beside it.

The newest sibling (by the extraction's modification time) that has the file
wins. Nothing is looked up outside an artifact (no current extraction),
under ``DEBUG`` or ``WHITENOISE_AUTOREFRESH``, when STATIC_ROOT is not
inside the extraction, or when the Django setting
``ZIPSERVE_SIBLING_STATIC = False`` turns it off (on by default).

Cost: the siblings and their manifests are read once, and again only when
the extraction root's modification time changes (an extraction appears, is
renamed into place or pruned); each lookup then costs one ``stat`` of the
root and dictionary lookups. A listed name whose file turned out missing
or refused is remembered as a miss for :data:`MISS_SECONDS`, at most
:data:`KEPT_MISSES` of them, so that a flood of such requests costs no file
system walk per request. A root changed in the last :data:`RACY_SECONDS`
before it was read may change again within the same timestamp tick; its
listing is read again at most every :data:`RECHECK_SECONDS` until it is
older than that.
"""

import json
import math
import os
import stat
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlparse

from django.conf import settings
from django.contrib.staticfiles.storage import ManifestFilesMixin

from ..zipapp.artifact import current_extraction
from ..zipapp.extractions import project_of

#: The Django setting that turns serving siblings' files off (``False``).
SETTING = "ZIPSERVE_SIBLING_STATIC"
#: The manifest ``collectstatic`` writes at the top of STATIC_ROOT (Django's
#: default name, which ``ZipserveStaticFilesStorage`` keeps).
MANIFEST_NAME = ManifestFilesMixin.manifest_name
#: What WhiteNoise serves beside a file when the client accepts it.
COMPRESSED_SUFFIXES = (".gz", ".br")
#: Misses remembered, and for how long (seconds).
KEPT_MISSES = 1024
MISS_SECONDS = 10.0
#: A root modified less than this before it was read (seconds) may have
#: changed again within the same timestamp tick; it is read again at most
#: every RECHECK_SECONDS meanwhile.
RACY_SECONDS = 2.0
RECHECK_SECONDS = 1.0
#: Finders a process keeps (a server uses one; tests a few).
KEPT_FINDERS = 8

_finders: dict = {}
_finders_lock = threading.Lock()


def sibling_static(static_root, static_prefix=None):
    """The finder for this process's extraction and ``static_root`` (served
    under ``static_prefix``, by default STATIC_URL's path), or None when
    nothing is to be looked up (see the module's docstring)."""
    if not getattr(settings, SETTING, True) or settings.DEBUG:
        return None
    if getattr(settings, "WHITENOISE_AUTOREFRESH", settings.DEBUG):
        return None
    extraction = current_extraction()
    if extraction is None or not static_root:
        return None
    extraction = os.path.realpath(extraction)
    static_root = os.path.realpath(static_root)
    if not inside(static_root, extraction):
        return None
    relative = os.path.relpath(static_root, extraction)
    project = project_of(extraction)
    if project is None:
        return None
    if static_prefix is None:
        static_prefix = urlparse(settings.STATIC_URL or "").path
    static_prefix = "/" + static_prefix.strip("/") + "/"
    key = (extraction, relative, project, static_prefix)
    with _finders_lock:
        finder = _finders.get(key)
        if finder is None:
            finder = _finders[key] = SiblingStatic(extraction, relative, project, static_prefix)
            while len(_finders) > KEPT_FINDERS:
                del _finders[next(iter(_finders))]
    return finder


@dataclass
class Siblings:
    """What was read of the siblings at one modification time of the root:
    each hashed name with the sibling STATIC_ROOTs that list it, newest
    first; the files found and the misses since."""

    modified: int
    recheck_at: float
    names: dict
    hits: dict = field(default_factory=dict)
    misses: dict = field(default_factory=dict)


class SiblingStatic:
    """Finds a request path's file in the STATIC_ROOT of a sibling
    extraction (``relative`` inside each extraction) of ``project``."""

    def __init__(self, extraction, relative, project, static_prefix):
        self.extraction = os.path.realpath(extraction)
        self.root = os.path.dirname(self.extraction)
        self.relative = relative
        self.project = project
        self.static_prefix = static_prefix
        self.siblings: Siblings | None = None
        self.lock = threading.Lock()

    def find(self, path):
        """The file a sibling serves for the request ``path``, or None."""
        if not path.startswith(self.static_prefix):
            return None
        name = path[len(self.static_prefix) :]
        siblings = self.current()
        if siblings is None:
            return None
        roots = siblings.names.get(name)
        if roots is None:
            return None  # as cheap as a remembered miss: not remembered
        found = siblings.hits.get(name)
        if found is not None:
            return found
        now = time.monotonic()
        if siblings.misses.get(name, 0.0) > now:
            return None
        found = locate(name, roots)
        with self.lock:
            if found is not None:
                siblings.hits[name] = found
            else:
                siblings.misses.pop(name, None)
                siblings.misses[name] = now + MISS_SECONDS
                while len(siblings.misses) > KEPT_MISSES:
                    del siblings.misses[next(iter(siblings.misses))]
        return found

    def current(self):
        """What is known of the siblings, read again when the root changed."""
        try:
            modified = os.stat(self.root).st_mtime_ns
        except OSError:
            return None
        siblings = self.siblings
        if siblings is not None and siblings.modified == modified and time.monotonic() < siblings.recheck_at:
            return siblings
        with self.lock:
            siblings = self.siblings
            now = time.monotonic()
            if siblings is None or siblings.modified != modified or now >= siblings.recheck_at:
                racy = time.time_ns() - modified < RACY_SECONDS * 1e9
                siblings = Siblings(modified, now + RECHECK_SECONDS if racy else math.inf, self.read())
                self.siblings = siblings
        return siblings

    def read(self):
        """Every hashed name of the siblings' manifests, with the sibling
        STATIC_ROOTs that list it, newest sibling first."""
        found = []
        for extraction in self.sibling_extractions():
            static_root = os.path.realpath(os.path.join(extraction, self.relative))
            if not inside(static_root, os.path.realpath(extraction)):
                continue
            hashed = hashed_names(os.path.join(static_root, MANIFEST_NAME))
            try:
                modified = os.stat(extraction).st_mtime_ns
            except OSError:
                continue  # pruned meanwhile
            if hashed:
                found.append((modified, static_root, hashed))
        found.sort(key=lambda item: item[0], reverse=True)
        names: dict[str, tuple] = {}
        for _, static_root, hashed in found:
            for name in hashed:
                names[name] = (*names.get(name, ()), static_root)
        return names

    def sibling_extractions(self):
        """The other finished extractions of this project under the root
        (the rules of ``extractions.extractions``, without its sizes and
        locks, which a request has no use for)."""
        try:
            entries = os.listdir(self.root)
        except OSError:
            return []
        found = []
        for entry in entries:
            # shiv extracts into NAME.tmp; a prune removes from .NAME.removing-PID.
            if entry.endswith(".tmp") or entry.startswith(".") or "_" not in entry:
                continue
            path = os.path.join(self.root, entry)
            try:
                if os.path.realpath(path) == self.extraction or not os.path.isdir(
                    os.path.join(path, "site-packages")
                ):
                    continue
            except OSError:
                continue
            if project_of(path) == self.project:
                found.append(path)
        return found


def hashed_names(manifest):
    """The hashed names a manifest lists: the values of its ``paths`` that
    are not also an unhashed name."""
    try:
        with open(manifest, encoding="utf-8") as stream:
            paths = json.load(stream).get("paths")
    except (OSError, ValueError, AttributeError):
        return frozenset()
    if not isinstance(paths, dict):
        return frozenset()
    return frozenset(
        hashed
        for name, hashed in paths.items()
        if isinstance(hashed, str) and hashed != name and hashed not in paths
    )


def locate(name, static_roots):
    """The first of ``static_roots`` that holds ``name`` as a regular file
    inside it, compressed variants included; its resolved path."""
    for static_root in static_roots:
        path = os.path.realpath(os.path.join(static_root, name))
        if not regular_file_inside(path, static_root):
            continue
        variants = (path + suffix for suffix in COMPRESSED_SUFFIXES)
        if all(
            regular_file_inside(os.path.realpath(variant), static_root)
            for variant in variants
            if os.path.lexists(variant)
        ):
            return path
    return None


def regular_file_inside(path, directory):
    """``path`` (resolved) is a regular file below ``directory`` (resolved)."""
    if not inside(path, directory):
        return False
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def inside(path, directory):
    """``path`` lies below ``directory`` (both resolved, or both not)."""
    return path.startswith(directory.rstrip(os.sep) + os.sep)
