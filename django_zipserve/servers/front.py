"""Static files answered before Django's request handling: the front.

WhiteNoise's middleware answers a static file from inside Django's request
handling: a request object, the request signals, the middleware above it,
a response object, all for a file whose answer never changes. The front
answers the same requests before the application is called, from
WhiteNoise's own file table and WhiteNoise's own responses
(``StaticFile.get_response``: the compressed variant the client accepts,
304, ranges, 405), so its headers are WhiteNoise's by construction. Under
``gunicorn --asgi`` it answers on the event loop, without a thread.

What the middleware above WhiteNoise adds is learnt, not re-implemented:
at start the front sends one request for a static file through the real
application for each scheme (http and https, as Django judges it) and keeps
the headers that Django's answer has beyond WhiteNoise's. The front stands
aside (Django answers every request, as before) when:

- ``STATIC_FRONT`` is off;
- some middleware other than SecurityMiddleware comes before WhiteNoise:
  it might do anything for a static request (CORS, metrics), so it must see
  it;
- WhiteNoise looks for files at each request (``DEBUG`` or
  ``WHITENOISE_AUTOREFRESH``), or has no file to serve;
- the probe's answer is not WhiteNoise's plus headers (for one scheme: the
  front then answers only the other);
- ``SECURE_SSL_REDIRECT`` is on, for requests Django judges insecure: they
  get Django's redirect.

WhiteNoise exports its middleware only: the file table (``files``),
``StaticFile.get_response``, the request headers it reads and the path it
looks up are its internals, each tested by name in
``tests/test_internals.py`` (checked against WhiteNoise 6.12.0).
"""

import asyncio
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from wsgiref.util import FileWrapper

from django.conf import settings

from ..conf import setting
from ..conf.django_settings import SECURITY_MIDDLEWARE, WHITENOISE_MIDDLEWARE, whitenoise_position

#: The only middleware that may come before WhiteNoise: its effect on a
#: static file (headers, the HTTPS redirect) depends on the scheme alone.
ALLOWED_ABOVE = frozenset({SECURITY_MIDDLEWARE})

#: Request headers WhiteNoise's responses read, by their ASGI name.
WHITENOISE_REQUEST_HEADERS = {
    b"accept-encoding": "HTTP_ACCEPT_ENCODING",
    b"if-none-match": "HTTP_IF_NONE_MATCH",
    b"if-modified-since": "HTTP_IF_MODIFIED_SINCE",
    b"range": "HTTP_RANGE",
}
#: Headers of Django's answer that are not the middleware's to add.
SERVER_HEADERS = frozenset({"date", "server", "connection"})
#: A file up to this size is read in one go on the event loop; a larger one
#: in chunks of this size, each read in a thread.
CHUNK = 64 * 1024
#: Request headers that make WhiteNoise's answer other than the plain one.
CONDITIONS = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_RANGE")
#: A worker keeps WhiteNoise's plain answer (200, the whole file) for a file
#: up to KEEP_SIZE after its first GET, up to KEEP_TOTAL bytes of them: most
#: requests are answered without opening a file.
KEEP_SIZE = 64 * 1024
KEEP_TOTAL = 16 * 1024 * 1024


@dataclass
class StaticAnswer:
    """WhiteNoise's response: its status and headers, and its body as an
    open file or as bytes (a kept answer)."""

    status: HTTPStatus
    headers: list
    file: object = None
    body: bytes = b""


@dataclass
class Front:
    """WhiteNoise's file table and the headers the middleware above it adds
    for each scheme the front answers (``{"http": [...], "https": [...]}``)."""

    files: dict
    added_headers: dict = field(default_factory=dict)
    proxy_ssl_header: tuple | None = None
    #: Kept answers by (path, Accept-Encoding), and their size in all.
    kept: dict = field(default_factory=dict)
    kept_size: int = 0

    def scheme_of(self, url_scheme, header_value):
        """Django's ``request.scheme``: the proxy's header when
        SECURE_PROXY_SSL_HEADER names one and it is present, else the
        server's scheme."""
        if self.proxy_ssl_header is not None and header_value is not None:
            value = header_value.split(",", 1)[0].strip()
            return "https" if value == self.proxy_ssl_header[1] else "http"
        return url_scheme

    def answer(self, method, path, request_headers, scheme):
        """WhiteNoise's response to the request, or None when the front
        leaves the request to the application."""
        static_file = self.files.get(path)
        if static_file is None or scheme not in self.added_headers:
            return None
        if method != "GET" or any(key in request_headers for key in CONDITIONS):
            response = static_file.get_response(method, request_headers)
            return StaticAnswer(response.status, response.headers, response.file)
        key = (path, request_headers.get("HTTP_ACCEPT_ENCODING", ""))
        answer = self.kept.get(key)
        if answer is None:
            response = static_file.get_response(method, request_headers)
            kept = self.keep(key, response)
            answer = kept or StaticAnswer(response.status, response.headers, response.file)
        return answer

    def keep(self, key, response):
        """The plain answer, read and kept; None for one too large to keep."""
        size = int(dict(response.headers).get("Content-Length", KEEP_SIZE + 1))
        if response.status != HTTPStatus.OK or size > KEEP_SIZE or self.kept_size + size > KEEP_TOTAL:
            return None
        with response.file:
            body = response.file.read()
        answer = self.kept[key] = StaticAnswer(response.status, response.headers, body=body)
        self.kept_size += len(body)
        return answer

    # -- WSGI ---------------------------------------------------------------

    def wsgi(self, application):
        """``application`` with the front before it."""
        header_key = self.proxy_ssl_header[0] if self.proxy_ssl_header else None

        def front(environ, start_response):
            scheme = self.scheme_of(
                environ.get("wsgi.url_scheme", "http"), environ.get(header_key) if header_key else None
            )
            response = self.answer(environ["REQUEST_METHOD"], wsgi_path(environ), environ, scheme)
            if response is None:
                return application(environ, start_response)
            headers = [*response.headers, *self.added_headers[scheme]]
            start_response(f"{response.status.value} {response.status.phrase}", headers)
            if response.file is None:
                return [response.body]
            return environ.get("wsgi.file_wrapper", FileWrapper)(response.file)

        return front

    # -- ASGI ---------------------------------------------------------------

    def asgi(self, application):
        """``application`` with the front before it; a file is answered on
        the event loop (a large one read in a thread, chunk by chunk)."""
        header_name = asgi_header_name(self.proxy_ssl_header[0]) if self.proxy_ssl_header else None
        encode = AsgiHeaders(self.added_headers)

        async def front(scope, receive, send):
            if scope["type"] != "http":
                return await application(scope, receive, send)
            request_headers, proxy_value = asgi_request_headers(scope["headers"], header_name)
            scheme = self.scheme_of(scope.get("scheme", "http"), proxy_value)
            response = self.answer(scope["method"], asgi_path(scope), request_headers, scheme)
            if response is None:
                return await application(scope, receive, send)
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status.value,
                    "headers": encode(response, scheme),
                }
            )
            if response.file is None:
                await send({"type": "http.response.body", "body": response.body})
            else:
                await send_file(send, response.file)

        return front


class AsgiHeaders:
    """A response's headers as ASGI sends them, the added ones after
    WhiteNoise's. WhiteNoise answers a 200, 304 or 405 with the same header
    list every time: those are encoded once."""

    #: Statuses whose header list WhiteNoise builds anew for each request.
    PER_REQUEST = frozenset({HTTPStatus.PARTIAL_CONTENT, HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE})

    def __init__(self, added_headers):
        self.added = {scheme: encoded(headers) for scheme, headers in added_headers.items()}
        self.cache = {}

    def __call__(self, response, scheme):
        if response.status in self.PER_REQUEST:
            return encoded(response.headers) + self.added[scheme]
        key = (id(response.headers), scheme)
        cached = self.cache.get(key)
        # The list is kept with its encoding, so its id cannot be reused.
        if cached is None or cached[0] is not response.headers:
            cached = self.cache[key] = (response.headers, encoded(response.headers) + self.added[scheme])
        return cached[1]


def encoded(headers):
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]


def wsgi_path(environ):
    """The path WhiteNoise's middleware looks up: Django's ``path_info``."""
    return environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace") or "/"


def asgi_path(scope):
    """Django's ``path_info`` of an ASGI request."""
    path, root = scope["path"], scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    return path or "/"


def asgi_header_name(meta_key):
    """``HTTP_X_FORWARDED_PROTO`` -> ``b"x-forwarded-proto"``."""
    return meta_key.removeprefix("HTTP_").lower().replace("_", "-").encode("latin-1")


def asgi_request_headers(headers, proxy_header):
    """The request headers WhiteNoise reads, under their WSGI names, and the
    value of the proxy's scheme header (None when absent)."""
    found: dict[str, str] = {}
    proxy_value = None
    for name, value in headers:
        key = WHITENOISE_REQUEST_HEADERS.get(name)
        if key is not None:
            # A repeated header reads as one, its values joined, as Django's META has it.
            value = value.decode("latin-1")
            found[key] = f"{found[key]},{value}" if key in found else value
        elif name == proxy_header:
            proxy_value = value.decode("latin-1")
    return found, proxy_value


async def send_file(send, file):
    """The body from an open file: in one piece, or in chunks."""
    try:
        body = file.read(CHUNK + 1)
        if len(body) <= CHUNK:
            await send({"type": "http.response.body", "body": body})
            return
        await send({"type": "http.response.body", "body": body, "more_body": True})
        while True:
            body = await asyncio.to_thread(file.read, CHUNK)
            await send({"type": "http.response.body", "body": body, "more_body": bool(body)})
            if not body:
                return
    finally:
        file.close()


# -- building the front -------------------------------------------------------


def why_not(middleware):
    """Why the front must stand aside for this MIDDLEWARE, or None."""
    if not setting("STATIC_FRONT"):
        return "STATIC_FRONT is off"
    # Ours or WhiteNoise's own class: both answer from the same file table.
    position = whitenoise_position(middleware)
    if position is None:
        return f"{WHITENOISE_MIDDLEWARE} is not in MIDDLEWARE"
    above = [entry for entry in middleware[:position] if entry not in ALLOWED_ABOVE]
    if above:
        return f"middleware before WhiteNoise sees every static request: {', '.join(above)}"
    return None


def whitenoise_files():
    """WhiteNoise's file table, as its middleware builds it; None when it
    looks for files at each request instead. Built by our middleware, so
    that the application's own, built in the same process, takes the same
    index rather than walking STATIC_ROOT again."""
    from .static_index import SharedIndexWhiteNoiseMiddleware

    whitenoise = SharedIndexWhiteNoiseMiddleware(get_response=lambda request: None)
    if whitenoise.autorefresh:
        return None
    return whitenoise.files


def probe_static_file(application, path, scheme, static_file):
    """The headers Django's answer to ``GET path`` (over ``scheme``) has
    beyond WhiteNoise's own response; None when Django's answer is not
    WhiteNoise's response plus headers."""
    from . import warmup

    environ = warmup.build_environ(path, warmup.accepted_host(), scheme)
    if settings.SECURE_PROXY_SSL_HEADER:
        header, secure_value = settings.SECURE_PROXY_SSL_HEADER
        environ[header] = secure_value if scheme == "https" else "http"
    answer: dict[str, Any] = {}

    def start_response(status, headers, exc_info=None):
        answer.update(status=status, headers=headers)

    body = application(environ, start_response)
    try:
        for _ in body:
            pass
    finally:
        if hasattr(body, "close"):
            body.close()
    own = static_file.get_response("GET", environ)
    if own.file is not None:
        own.file.close()
    if int(answer.get("status", "0").split()[0]) != own.status.value:
        return None
    django = [(name, value) for name, value in answer["headers"] if name.lower() not in SERVER_HEADERS]
    whitenoise = {(name.lower(), value) for name, value in own.headers}
    if not whitenoise <= {(name.lower(), value) for name, value in django}:
        return None
    names = {name for name, _ in whitenoise}
    return [(name, value) for name, value in django if name.lower() not in names]


def build(application):
    """``(front, None)`` for this site's WSGI ``application``, or ``(None,
    reason)`` when the front stands aside."""
    reason = why_not(list(settings.MIDDLEWARE))
    if reason is not None:
        return None, reason
    files = whitenoise_files()
    if files is None:
        return None, "WhiteNoise looks for files at each request (DEBUG)"
    if not files:
        return None, "no static files"
    path, static_file = next(iter(files.items()))
    added = {}
    for scheme in ("http", "https"):
        if scheme == "http" and settings.SECURE_SSL_REDIRECT:
            continue
        headers = probe_static_file(application, path, scheme, static_file)
        if headers is not None:
            added[scheme] = headers
    if not added:
        return None, f"Django's answer to {path} is not WhiteNoise's"
    return Front(files, added, settings.SECURE_PROXY_SSL_HEADER or None), None
