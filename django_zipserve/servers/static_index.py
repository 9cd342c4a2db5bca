"""WhiteNoise's middleware, with its file index built once per process.

Django builds the middleware anew for every request handler, and the test
client makes a handler for every ``Client``. Each time, WhiteNoise's
middleware walks ``STATIC_ROOT`` and builds a response for every file in it
(the stat of each compressed variant, the headers, the immutable test
against the manifest). Run from source, STATIC_ROOT is mostly empty; from
the artifact it holds every collected file, so a project's tests paid that
walk for each client: about 0.45 s for 850 collected files (3,969 with hashed
copies and compressed variants), against 1.2-1.6 ms for the rest of a request.

:class:`SharedIndexWhiteNoiseMiddleware` keeps the entries WhiteNoise's
``add_files`` built for a directory and hands the same entries to the next
middleware built with the same key: the directory, its URL prefix, the
directory's own identity and modification time, and every setting that
shapes WhiteNoise's responses. The entries (``StaticFile`` and ``Redirect``
objects) never change once built; the static front already shares them
between threads. A changed setting (``override_settings`` in a test) makes
another key, so a new index. Nothing is shared while WhiteNoise looks for
files at each request (``WHITENOISE_AUTOREFRESH``, ``DEBUG``).

Like one WhiteNoise middleware over its lifetime, a shared index does not
see a file changed in place below the directory; a new ``collectstatic``
does change the directory's modification time (the manifest is written
there), so it gets a new index.

A request under the static prefix that is not in the table may name a hashed
file of another release of the site extracted beside this one (a rolling
deploy, see :mod:`.release_static`): the middleware serves it with
WhiteNoise's own response, so the static front, which hands every request it
cannot answer to Django, serves it too.
"""

import os
import stat
import threading
from collections.abc import Mapping, Set
from typing import Any

from django.conf import settings
from whitenoise.middleware import WhiteNoiseMiddleware
from whitenoise.responders import NotARegularFileError

from . import release_static

#: Indexes a process keeps, the oldest dropped first: a server uses one; a
#: test suite that overrides static settings a few.
KEPT_INDEXES = 8
#: Files of other releases a middleware keeps (WhiteNoise's ``StaticFile``
#: objects), the oldest dropped first.
KEPT_SIBLING_FILES = 1024

_indexes: dict = {}
_lock = threading.Lock()


class Unshareable(Exception):
    """A setting's value cannot be part of a key (it is not hashable)."""


class SharedIndexWhiteNoiseMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise's middleware, reusing the file index another one built in
    this process under the same settings.

    Checked against WhiteNoise 6.12.0: ``WhiteNoiseMiddleware.__init__``
    sets every attribute a response depends on (``max_age``, ``charset``,
    ``media_types``, ``static_prefix``...) before it calls ``add_files`` for
    ``STATIC_ROOT`` and ``WHITENOISE_ROOT``, and ``add_files`` only adds
    entries to ``self.files`` (through ``add_file_to_dictionary``). The
    files found through finders (``WHITENOISE_USE_FINDERS``) are added
    after, by WhiteNoise itself, as before. Each of these is tested by name
    in ``tests/test_internals.py``."""

    #: WhiteNoise's file table (set by its ``__init__``): URL path -> its
    #: ``StaticFile`` or ``Redirect``.
    files: dict[str, Any]

    def __init__(self, get_response=None, settings=settings):
        super().__init__(get_response, settings)
        #: Finds the hashed files of sibling releases (None: not looked up).
        self.siblings = release_static.sibling_static(self.static_root, self.static_prefix)
        #: URL path -> (file path, its ``StaticFile``), built on first request.
        self.sibling_files: dict[str, tuple[str, Any]] = {}
        self.sibling_lock = threading.Lock()

    def __call__(self, request):
        """WhiteNoise's answer; for a path not in its table, the file a
        sibling release serves under it, if any; else the next handler."""
        if self.siblings is not None and request.path_info not in self.files:
            static_file = self.sibling_file(request.path_info)
            if static_file is not None:
                try:
                    return self.serve(static_file, request)
                except OSError:
                    pass  # pruned since it was found: as if never found
        return super().__call__(request)

    def sibling_file(self, url):
        """WhiteNoise's ``StaticFile`` for the file a sibling release serves
        at ``url``, or None. The finder is asked each time (one ``stat``
        when nothing changed): a pruned sibling is no longer served."""
        path = self.siblings.find(url)
        if path is None:
            return None
        kept = self.sibling_files.get(url)
        if kept is not None and kept[0] == path:
            return kept[1]
        try:
            static_file = self.get_static_file(path, url)
        except (OSError, NotARegularFileError):
            return None
        with self.sibling_lock:
            self.sibling_files.pop(url, None)
            self.sibling_files[url] = (path, static_file)
            while len(self.sibling_files) > KEPT_SIBLING_FILES:
                del self.sibling_files[next(iter(self.sibling_files))]
        return static_file

    def immutable_file_test(self, path, url):
        """WhiteNoise's test (this release's manifest maps the name without
        its hash back to ``url``), or a sibling's file: its name is a hashed
        one of its own release's manifest, or it would not be served. A
        WHITENOISE_IMMUTABLE_FILE_TEST setting replaces both, as it does
        WhiteNoise's."""
        if super().immutable_file_test(path, url):
            return True
        siblings = getattr(self, "siblings", None)  # None while the table is built
        return siblings is not None and siblings.find(url) == path

    def add_files(self, root, prefix=None):
        key = self.index_key(root, prefix)
        if key is None:
            super().add_files(root, prefix)
            return
        entries = kept_index(key)
        if entries is None:
            entries = self.index_of(root, prefix)
            keep_index(key, entries)
        # Later directories override earlier ones, as WhiteNoise's add_files does.
        self.files.update(entries)

    def index_of(self, root, prefix):
        """The entries WhiteNoise's ``add_files`` makes for ``root`` alone."""
        outer, self.files = self.files, {}
        try:
            super().add_files(root, prefix)
            entries = self.files
        finally:
            self.files = outer
        return entries

    def index_key(self, root, prefix):
        """Everything the entries for ``root`` depend on, or None when they
        are not to be shared."""
        if self.autorefresh or settings.DEBUG:
            return None
        root = os.path.abspath(root)
        try:
            state = os.stat(root)
        except OSError:
            return None  # WhiteNoise warns about the missing directory
        if not stat.S_ISDIR(state.st_mode):
            return None
        try:
            return frozen(
                (
                    type(self),  # a subclass may build entries its own way
                    root,
                    prefix,
                    (state.st_dev, state.st_ino, state.st_mtime_ns),
                    self.response_settings(),
                )
            )
        except Unshareable:
            return None

    def response_settings(self):
        """What shapes a file's response, as WhiteNoise resolved it."""
        return (
            self.static_prefix,
            self.max_age,
            self.allow_all_origins,
            self.charset,
            self.index_file,
            self.media_types.types_map,
            self.add_headers_function,
            # The setting, not the attribute: WhiteNoise wraps a regular
            # expression in a new function for every middleware.
            getattr(settings, "WHITENOISE_IMMUTABLE_FILE_TEST", None),
            # What the default immutable test asks: the manifest's URLs.
            settings.STATIC_URL,
            getattr(settings, "STORAGES", {}).get("staticfiles"),
        )


def frozen(value):
    """``value`` as part of a key: mappings, sequences and sets by their
    contents, anything else as itself (a function by its identity, which the
    key keeps alive, so no other function takes its place)."""
    if isinstance(value, Mapping):
        return tuple(
            sorted(((key, frozen(item)) for key, item in value.items()), key=lambda pair: repr(pair[0]))
        )
    if isinstance(value, (list, tuple)):
        return tuple(frozen(item) for item in value)
    if isinstance(value, Set):
        return frozenset(frozen(item) for item in value)
    try:
        hash(value)
    except TypeError:
        raise Unshareable(repr(value)) from None
    return value


def kept_index(key):
    with _lock:
        return _indexes.get(key)


def keep_index(key, entries):
    with _lock:
        _indexes[key] = entries
        while len(_indexes) > KEPT_INDEXES:
            del _indexes[next(iter(_indexes))]
