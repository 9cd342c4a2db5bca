"""Serve uploaded files (media) at ``MEDIA_URL``, in Django, under any server.

Uploads to the default file storage live under ``STATE_DIR/media``
(``config.apply()`` sets ``MEDIA_ROOT``). :class:`MediaMiddleware` serves
them; ``config.apply()`` puts it right after WhiteNoise, so that a request
for an upload skips sessions, authentication, CSRF and URL resolution, and
no catch-all URL pattern of a CMS can answer it instead.

Uploads come from users, so every answer is one a browser cannot run:
``X-Content-Type-Options: nosniff`` and a ``Content-Security-Policy`` with
``sandbox`` and nothing allowed (an uploaded HTML or SVG file runs no
script, even opened directly), and ``Content-Disposition: attachment``
(downloaded, never shown on the site's origin) for everything but raster
images. Uploads keep their names when they are replaced, so they are cached
for an hour, not forever like hashed static files.

Nothing outside the storage's directory is ever served: a path with ``..``,
``.``, empty segments, backslashes or NUL (as the server decoded it; nothing
is decoded twice), or one whose real path leaves the directory through a
symbolic link, is a plain 404, the same as a missing file.

The middleware steps aside (``MiddlewareNotUsed``) when the default storage
is not a ``FileSystemStorage`` (object storage serves its own files) or its
base URL is on another host or is the site's root.

The project's own access control wins over it. Answering before URL
resolution would otherwise bypass every view that checks who asks (NetBox
routes ``media/<path:path>`` to ``django.views.static.serve`` behind its
login-required middleware). So when the project's URL configuration routes
the media prefix to a view of its own, the middleware stands aside; when it
routes only a part below the prefix (``media/private/<path:path>``), the
middleware stands aside for that part and serves the rest. A catch-all
pattern (a CMS page tree, which answers any path) is not a route for uploads:
uploads are still served here, before it. A project whose uploads must never
be served to anyone who has their URL says so with ``ZIPSERVE_MEDIA_PRIVATE
= True``, and the middleware serves none. Some applications keep uploads in a folder of
their own and serve them through a view that checks who asks (Wagtail's
documents, under ``documents/``, for its private collections): the
middleware never serves those folders (:data:`APP_PRIVATE_FOLDERS`,
``ZIPSERVE_MEDIA_PRIVATE_FOLDERS``), a request for one is a 404. This is
decided once, when the middleware loads (:func:`media_serving`); the system
checks zipserve.I001, zipserve.I002 and zipserve.W005 report the same
decision.
"""

import os
import re
import secrets
import stat
import weakref
from dataclasses import dataclass
from mimetypes import guess_type
from typing import BinaryIO
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.core.files.storage import FileSystemStorage, InvalidStorageError, storages
from django.http import FileResponse, HttpResponse, HttpResponseNotAllowed, HttpResponseNotFound
from django.urls import Resolver404, get_resolver, resolve
from django.urls.resolvers import RegexPattern, URLResolver
from django.utils.cache import get_conditional_response
from django.utils.http import content_disposition_header, http_date, parse_http_date_safe

#: Shown in the browser rather than downloaded: raster images, which pages
#: embed and which no browser runs script from. Their types are ours, by
#: extension, so the decision does not depend on the host's mime.types.
#: SVG and HTML (script), PDF (a viewer is a script engine of its own) and
#: text (a phishing page on the site's own origin) are attachments.
INLINE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
}
FALLBACK_TYPE = "application/octet-stream"
#: Uploads are not hashed: a replaced file keeps its URL, so an hour, not forever.
CACHE_CONTROL = "public, max-age=3600"
#: Nothing may run, load or submit from an upload, even one opened directly.
CONTENT_SECURITY_POLICY = "default-src 'none'; sandbox"
SAFETY_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": CONTENT_SECURITY_POLICY}
METHODS = ("GET", "HEAD")
#: What is read at a time where the server cannot sendfile() (a range, TLS):
#: Django's 4 KiB would take 25,000 reads for 100 MiB.
BLOCK_SIZE = 64 * 1024
#: The Django setting (default False) a project sets to True in settings.py
#: when no upload may be served to whoever has its URL: the middleware then
#: serves none, and a view of the project's, routed at ``MEDIA_URL``, must.
PRIVATE_SETTING = "ZIPSERVE_MEDIA_PRIVATE"
#: What the URL configuration is asked about, below the media prefix and
#: below a prefix that is not media's.
PROBE = "zipserve-probe/x.png"
#: The Django setting: folders under MEDIA_ROOT (``["documents/"]``) whose
#: uploads the middleware never serves, because a view of an application
#: serves them with its own access control. Default: those of
#: :data:`APP_PRIVATE_FOLDERS` for the applications installed.
PRIVATE_FOLDERS_SETTING = "ZIPSERVE_MEDIA_PRIVATE_FOLDERS"
#: ``application: (folder, whether it is served by the application's view,
#: from the settings)``. Wagtail's documents are always stored under
#: ``documents/`` (its AbstractDocument's upload_to) and served by its
#: ``wagtaildocs_serve`` view, which enforces private collections, unless
#: ``WAGTAILDOCS_SERVE_METHOD = "direct"`` links the files themselves.
APP_PRIVATE_FOLDERS = {
    "wagtail.documents": (
        "documents/",
        lambda settings: getattr(settings, "WAGTAILDOCS_SERVE_METHOD", None) != "direct",
    ),
}


# -- when uploads are served here ---------------------------------------------


def served_storage():
    """The default storage when this middleware serves its files: a
    ``FileSystemStorage`` (or subclass) with a directory and a local base
    URL below the site's root; else None."""
    try:
        storage = storages["default"]
    except InvalidStorageError:
        return None  # Django reports a storage it cannot import where it is used
    # An empty location would be the working directory: never served.
    if not isinstance(storage, FileSystemStorage) or not storage.base_location:
        return None
    return storage if media_prefix(storage) is not None else None


def media_prefix(storage):
    """The URL path uploads are served under (``/media/``), or None when the
    base URL is on another host (``https://cdn.example/``, ``//cdn.example/``)
    or is the site's root, which would hide every page."""
    parts = urlsplit(storage.base_url or "")
    path = parts.path.strip("/")
    if parts.scheme or parts.netloc or not path:
        return None
    return f"/{path}/"


# -- whether the project serves them itself ------------------------------------


@dataclass(frozen=True)
class ProjectRoute:
    """A URL pattern of the project's own that answers for the uploads
    under ``prefix``, with whatever access control its view has."""

    prefix: str  # the media prefix, or a part below it (/media/private/)
    pattern: str  # as written, the prefixes of its includes joined
    view: str  # the dotted path of its view


@dataclass(frozen=True)
class MediaServing:
    """Who answers for the uploads under ``prefix``."""

    prefix: str
    private: bool  # ZIPSERVE_MEDIA_PRIVATE
    routes: tuple[ProjectRoute, ...]
    #: Parts under the prefix an application's own view serves (``/media/documents/``).
    private_prefixes: tuple[str, ...] = ()

    @property
    def stands_aside(self):
        """Whether the middleware serves no upload at all."""
        return self.private or any(route.prefix == self.prefix for route in self.routes)

    @property
    def project_prefixes(self):
        """The parts of the uploads the project's own views answer for."""
        return tuple(dict.fromkeys(route.prefix for route in self.routes))


def media_serving(storage):
    """Who answers for the uploads of ``storage`` (one :func:`served_storage`
    returned), under the project's settings and ``ROOT_URLCONF``."""
    prefix = media_prefix(storage)
    return MediaServing(
        prefix,
        media_private(),
        tuple(project_routes(prefix, settings.ROOT_URLCONF)),
        tuple(prefix + folder for folder in private_folders(settings)),
    )


def media_private():
    return bool(getattr(settings, PRIVATE_SETTING, False))


def private_folders(settings):
    """The folders under MEDIA_ROOT the middleware never serves, each
    ending in ``/``: the setting's, else those of the installed
    applications that serve theirs through a view of their own."""
    folders = getattr(settings, PRIVATE_FOLDERS_SETTING, None)
    if folders is None:
        folders = [
            folder
            for app, (folder, served_by_view) in APP_PRIVATE_FOLDERS.items()
            if installed(app, settings) and served_by_view(settings)
        ]
    return [str(folder).strip("/") + "/" for folder in folders if str(folder).strip("/")]


def installed(app, settings):
    """Whether ``app`` is in INSTALLED_APPS, by name or by an AppConfig of its."""
    return any(entry == app or str(entry).startswith(app + ".apps.") for entry in settings.INSTALLED_APPS)


#: The routes found, per URL resolver and prefix. Each test client loads the
#: middleware again, and walking a large URLconf (2,000 patterns) costs
#: tens of milliseconds; Django makes a new resolver when ROOT_URLCONF
#: changes or its URL caches are cleared, and then they are found again.
_ROUTES: "weakref.WeakKeyDictionary[URLResolver, dict[str, tuple[ProjectRoute, ...]]]" = (
    weakref.WeakKeyDictionary()
)


def project_routes(prefix, urlconf):
    """The URL patterns of ``urlconf`` that answer for uploads under
    ``prefix`` (see :func:`find_project_routes`), found once per resolver."""
    found = _ROUTES.setdefault(get_resolver(urlconf), {})
    if prefix not in found:
        found[prefix] = tuple(find_project_routes(prefix, urlconf))
    return found[prefix]


def find_project_routes(prefix, urlconf):
    """Every URL pattern whose paths all start under ``prefix``
    (``media/<path:path>``, ``media/private/<path:path>``); and, unless one
    of them takes the whole prefix, the one a path under ``prefix``
    resolves to (a regular expression such as ``^(media|files)/``)."""
    routes = list(dict.fromkeys(routes_under(prefix, urlconf)))
    if not any(route.prefix == prefix for route in routes):
        probed = probed_route(prefix, urlconf)
        routes += [probed] if probed else []
    return routes


def routes_under(prefix, urlconf):
    for levels, callback in url_endpoints(get_resolver(urlconf).url_patterns):
        for start in fixed_starts(levels):
            if start.startswith(prefix):
                yield ProjectRoute(start, written(levels), view_path(callback))


def probed_route(prefix, urlconf):
    """The pattern a path under ``prefix`` resolves to, or None: none does,
    or it is a catch-all, which resolves the same path under a prefix that
    is not media's as well. A CMS page tree is one; taking it for a route
    for uploads would hand them to it (404), which is what the middleware
    answering first prevents."""
    match = resolved(prefix + PROBE, urlconf)
    if match is None:
        return None
    control = resolved(elsewhere(prefix) + PROBE, urlconf)
    if control is not None and (control.func, control.route) == (match.func, match.route):
        return None
    return ProjectRoute(prefix, match.route, view_path(match.func))


def resolved(path, urlconf):
    try:
        return resolve(path, urlconf)
    except Resolver404:
        return None


def elsewhere(prefix):
    """A prefix as deep as ``prefix`` (a pattern of ``<slug>/<slug>/…``
    must match both alike) that no upload and, by its random part, no
    project's pattern is under: ``/zipserve-not-media-3f2a1c9e/``."""
    depth = prefix.strip("/").count("/") + 1
    segment = f"zipserve-not-media-{secrets.token_hex(4)}/"
    return "/" + segment * depth


def view_path(callback):
    """The dotted path of a view, for messages: a class-based view's class,
    a partial's function; a decorated view keeps its own name."""
    view = getattr(callback, "view_class", None) or getattr(callback, "func", None) or callback
    return f"{view.__module__}.{getattr(view, '__qualname__', type(view).__qualname__)}"


def written(levels):
    """A pattern as written, the prefixes of its includes joined:
    ``media/<path:path>``."""
    return "".join(str(level).removeprefix("^") for level in levels)


# -- what a URL pattern can match ---------------------------------------------

#: The characters that are not themselves in a regular expression.
SPECIAL = frozenset(".^$*+?{}[]|()")
#: What makes the character before it optional or repeated.
OPTIONAL = ("*", "?", "{")


def url_endpoints(patterns, levels=()):
    """``(levels, callback)`` for every view the URL patterns reach:
    ``levels`` are the patterns from the outermost include down to its own."""
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from url_endpoints(entry.url_patterns, (*levels, entry.pattern))
        else:
            yield (*levels, entry.pattern), entry.callback


def fixed_starts(levels):
    """Texts every path the pattern of these ``levels`` matches starts with
    one of (one for each alternative): ``/media/`` for ``media/<path:path>``,
    ``/media/private/`` for ``path("media/", include(…))`` around
    ``path("private/<path:path>", …)``. Each level's literal text, as far as
    a level is literal throughout."""
    starts = ["/"]  # the root resolver's ^/
    for level in levels:
        found = [literal_start(alternative) for alternative in level_alternatives(level)]
        starts = [start + text for start in starts for text, _ in found]
        if not all(whole for _, whole in found):
            break
    return starts


def level_alternatives(pattern):
    """The regular expression of one level of a URL pattern, as the
    alternatives each matched at the start of what the levels above left.
    ``path()`` and a language prefix match there; Django searches a regular
    expression of ``re_path()`` anywhere, unless it starts with ``^``."""
    regex = pattern.regex.pattern
    if not isinstance(pattern, RegexPattern):
        return [regex.removeprefix("^")]
    return [
        alternative[1:] if alternative.startswith("^") else ".*" + alternative
        for alternative in top_level_alternatives(regex)
    ]


def top_level_alternatives(regex):
    """``a|b(c|d)`` → ``["a", "b(c|d)"]``: split at each ``|`` outside
    groups and character classes."""
    alternatives, start, depth, class_start, index = [], 0, 0, None, 0
    while index < len(regex):
        char = regex[index]
        if char == "\\":
            index += 2  # an escaped character is never a separator
            continue
        if class_start is not None:
            # A ] right after [ or [^ is a character of the class.
            if char == "]" and regex[class_start + 1 : index] not in ("", "^"):
                class_start = None
        elif char == "[":
            class_start = index
        elif char in "()":
            depth += 1 if char == "(" else -1
        elif char == "|" and depth == 0:
            alternatives.append(regex[start:index])
            start = index + 1
        index += 1
    return [*alternatives, regex[start:]]


def literal_start(regex):
    """``(text, whole)``: the literal text every match of ``regex`` (from
    the start) starts with, and whether that is all of it. ``media/`` of
    ``media/(?P<path>.+)\\Z``; not a character that is optional (``s?``)."""
    text, index = "", 0
    while index < len(regex):
        char, step = regex[index], 1
        if char == "\\":
            char, step = regex[index + 1 : index + 2], 2
            if not char or char.isalnum():
                break  # \d, \w, \Z, \1: a class, an anchor or a reference
        elif char in SPECIAL:
            break
        if regex[index + step : index + step + 1] in OPTIONAL:
            break
        text += char
        index += step
    return text, index == len(regex)


# -- the middleware -----------------------------------------------------------


class MediaMiddleware:
    """Answers every request under the media prefix itself, except those the
    project's own URL patterns answer for: the upload, or 404 (a missing
    file or a path it refuses), or 405 for methods other than GET and HEAD.

    Who serves what is decided once, here: resolving URLs for every request
    would cost every upload a walk through the URL patterns."""

    def __init__(self, get_response):
        storage = served_storage()
        if storage is None:
            raise MiddlewareNotUsed("the default storage serves its own files")
        serving = media_serving(storage)
        if serving.stands_aside:
            raise MiddlewareNotUsed("the project serves its uploads itself")
        self.get_response = get_response
        self.prefix = serving.prefix
        self.root = storage.location
        self.project_prefixes = serving.project_prefixes
        self.private_prefixes = serving.private_prefixes

    def __call__(self, request):
        # path_info, as WhiteNoise matches STATIC_URL: the URL below the script prefix.
        path = request.path_info
        if not path.startswith(self.prefix) or path.startswith(self.project_prefixes):
            return self.get_response(request)
        return serve_upload(
            request, self.root, path[len(self.prefix) :], path.startswith(self.private_prefixes)
        )


def serve_upload(request, root, name, private=False):
    if request.method not in METHODS:
        return safe(HttpResponseNotAllowed(METHODS))
    # A private folder answers as a missing file does: whether it holds a
    # file of that name is not told either.
    upload = None if private else open_upload(root, name)
    if upload is None:
        return safe(HttpResponseNotFound("Not Found", content_type="text/plain"))
    return safe(upload_response(request, upload))


def safe(response):
    for header, value in SAFETY_HEADERS.items():
        response[header] = value
    return response


# -- finding the file ---------------------------------------------------------


def upload_path(root, name):
    """The real path of the file ``name`` names under ``root``, or None.

    ``name`` is the URL path below the prefix as the server decoded it; it
    is not decoded again, so ``%2e%2e`` sent as ``%252e%252e`` stays a
    harmless literal name. Refused: NUL, backslashes, and ``..``, ``.`` or
    empty segments (an absolute path after the prefix is an empty first
    segment); then a path that symbolic links lead out of ``root``."""
    if not name or "\x00" in name or "\\" in name:
        return None
    segments = name.split("/")
    if any(segment in ("", ".", "..") for segment in segments):
        return None
    real_root = os.path.realpath(root)
    path = os.path.realpath(os.path.join(real_root, *segments))
    return path if path.startswith(real_root + os.sep) else None


@dataclass
class Upload:
    file: BinaryIO
    name: str  # its file name, for Content-Type and Content-Disposition
    size: int
    mtime_ns: int


def open_upload(root, name):
    """The upload ``name`` names, opened, or None when there is no regular
    file there (or the path is refused)."""
    path = upload_path(root, name)
    if path is None:
        return None
    try:
        # Not through a symbolic link swapped in since realpath(), and
        # without blocking on a FIFO: it is refused below anyway.
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    found = os.fstat(descriptor)
    if not stat.S_ISREG(found.st_mode):
        os.close(descriptor)
        return None
    return Upload(os.fdopen(descriptor, "rb"), os.path.basename(path), found.st_size, found.st_mtime_ns)


# -- the answer ---------------------------------------------------------------


def content_type(name):
    """``(type, inline)``: the allow-listed image types are shown; anything
    else is an attachment of the type ``mimetypes`` says, and a compressed
    file (``.tar.gz``) or an unknown one is ``application/octet-stream`` (a
    Content-Encoding would have the browser unpack it)."""
    extension = os.path.splitext(name)[1].lower()
    if extension in INLINE_TYPES:
        return INLINE_TYPES[extension], True
    guessed, encoding = guess_type(name, strict=False)
    return (guessed if guessed and not encoding else FALLBACK_TYPE), False


def validators(upload):
    """``(etag, last_modified)``: a strong ETag from the modification time
    (in nanoseconds) and the size, which a replaced file changes."""
    return f'"{upload.mtime_ns:x}-{upload.size:x}"', upload.mtime_ns // 1_000_000_000


def upload_response(request, upload):
    """The upload, a part of it (206), or 304, 412 or 416."""
    etag, last_modified = validators(upload)
    headers = {
        "ETag": etag,
        "Last-Modified": http_date(last_modified),
        "Cache-Control": CACHE_CONTROL,
        "Accept-Ranges": "bytes",
    }
    requested = requested_range(request, upload.size, etag, last_modified)
    answer = short_answer(request, etag, last_modified, headers, requested, upload.size)
    if answer is not None or request.method == "HEAD":
        upload.file.close()  # no body to send from it
    return answer or content_answer(request, upload, headers, requested)


def short_answer(request, etag, last_modified, headers, requested, size):
    """304 or 412 for a conditional request, 416 for a range beyond the
    file; None when the content is to be sent."""
    # Django's own evaluation of If-Match, If-Unmodified-Since,
    # If-None-Match and If-Modified-Since, in the order of RFC 9110.
    unconditional = HttpResponse(headers=headers)
    answer = get_conditional_response(request, etag, last_modified, unconditional)
    if answer is not unconditional:
        return answer
    if requested is UNSATISFIABLE:
        return HttpResponse(status=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    return None


def content_answer(request, upload, headers, requested):
    """200 with the whole file, or 206 with the one range asked for; their
    headers only, for HEAD."""
    kind, inline = content_type(upload.name)
    start, length = requested or (0, upload.size)
    headers = {
        **headers,
        "Content-Disposition": content_disposition_header(not inline, upload.name),
        "Content-Length": str(length),
    }
    if requested:
        headers["Content-Range"] = f"bytes {start}-{start + length - 1}/{upload.size}"
    status = 206 if requested else 200
    if request.method == "HEAD":
        return HttpResponse(status=status, content_type=kind, headers=headers)
    # A whole file goes as it is: the server may hand it to sendfile()
    # (wsgi.file_wrapper). A part is read from its start.
    upload.file.seek(start)
    body = FileSlice(upload.file, length) if requested else upload.file
    response = FileResponse(body, status=status, content_type=kind, headers=headers)
    response.block_size = BLOCK_SIZE
    return response


class FileSlice:
    """``length`` bytes of an open file from where it stands: the body of a
    206 answer."""

    def __init__(self, file, length):
        self.file = file
        self.remaining = length

    def read(self, size=-1):
        if size is None or size < 0 or size > self.remaining:
            size = self.remaining
        data = self.file.read(size)
        self.remaining -= len(data)
        return data

    def close(self):
        self.file.close()


# -- ranges -------------------------------------------------------------------

#: A Range header that no byte of the file satisfies: 416.
UNSATISFIABLE = "unsatisfiable"
#: One byte range: ``first-last``, ``first-`` or ``-suffix``.
ONE_RANGE = re.compile(r"bytes=(\d*)-(\d*)", re.IGNORECASE)


def requested_range(request, size, etag, last_modified):
    """``(start, length)`` of the one byte range asked for, UNSATISFIABLE,
    or None for the whole file: no Range header, or one that need not be
    honoured (several ranges, another unit, bad syntax: RFC 9110 lets a
    server send the whole file), or an If-Range that no longer matches."""
    match = ONE_RANGE.fullmatch(request.headers.get("Range", "").replace(" ", ""))
    if match is None or not any(match.groups()):
        return None
    if not if_range_matches(request.headers.get("If-Range"), etag, last_modified):
        return None
    first, last = match.groups()
    if not first:  # the last N bytes
        suffix = int(last)
        return (size - min(suffix, size), min(suffix, size)) if suffix and size else UNSATISFIABLE
    start = int(first)
    if last and int(last) < start:
        return None  # not a valid range: ignored
    if start >= size:
        return UNSATISFIABLE
    end = min(int(last), size - 1) if last else size - 1
    return start, end - start + 1


def if_range_matches(value, etag, last_modified):
    """If-Range: the range applies only to the very version the client has,
    named by a strong ETag or by its exact Last-Modified date."""
    if not value:
        return True
    value = value.strip()
    if value.startswith(('"', "W/")):
        return value == etag
    return parse_http_date_safe(value) == last_modified
