"""The static front (``django_zipserve.servers.front``): its answers are those of
Django's WhiteNoise middleware, header for header and byte for byte, for
every kind of request, under WSGI and ASGI; it stands aside when it must.

Every comparison sends the same request to the test project's real WSGI
application (Django, its middleware, WhiteNoise's middleware) and to the
front, whose application behind records whether it was called.
"""

import asyncio
import gzip
import io
import sys

import brotli
import pytest
from django.core.wsgi import get_wsgi_application
from django.test import override_settings

from django_zipserve.conf import django_settings as ds
from django_zipserve.servers import front

CSS = b"body { color: #123456; }\n" * 40
BIG = bytes(range(256)) * 1024  # 256 KiB: sent in chunks under ASGI
ENCODINGS = ("", "gzip", "br", "gzip, deflate, br", "identity", "*")


@pytest.fixture
def static_root(tmp_path):
    root = tmp_path / "static"
    (root / "site").mkdir(parents=True)
    (root / "site" / "app.css").write_bytes(CSS)
    (root / "site" / "app.css.gz").write_bytes(gzip.compress(CSS, mtime=0))
    (root / "site" / "app.css.br").write_bytes(brotli.compress(CSS))
    (root / "big.bin").write_bytes(BIG)
    return root


@pytest.fixture
def site(django_project, static_root):
    """The test project serving ``static_root`` at /static/, as in production."""
    with override_settings(DEBUG=False, STATIC_ROOT=str(static_root), STATIC_URL="/static/"):
        yield


class Behind:
    """The application behind the front: Django's, counting its calls."""

    def __init__(self):
        self.django = get_wsgi_application()
        self.calls = 0

    def __call__(self, environ, start_response):
        self.calls += 1
        return self.django(environ, start_response)


def environ_for(path, method="GET", scheme="http", **headers):
    environ = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "443" if scheme == "https" else "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "localhost",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    environ.update({f"HTTP_{name.upper()}": value for name, value in headers.items()})
    return environ


def call_wsgi(application, environ):
    """``(status code, sorted (lower-case name, value) headers, body)``."""
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer.update(status=int(status.split()[0]), headers=headers)

    body = application(environ, start_response)
    try:
        content = b"".join(body)
    finally:
        if hasattr(body, "close"):
            body.close()
    return answer["status"], sorted((name.lower(), value) for name, value in answer["headers"]), content


def call_asgi(application, environ):
    """The same request through an ASGI application: the same triple."""
    scope = {
        "type": "http",
        "method": environ["REQUEST_METHOD"],
        "path": environ["PATH_INFO"],
        "root_path": "",
        "scheme": environ["wsgi.url_scheme"],
        "headers": [
            (key[5:].lower().replace("_", "-").encode(), value.encode())
            for key, value in environ.items()
            if key.startswith("HTTP_")
        ],
    }
    messages = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        messages.append(message)

    asyncio.run(application(scope, receive, send))
    start, *bodies = messages
    headers = sorted((name.decode(), value.decode()) for name, value in start["headers"])
    assert all(message["type"] == "http.response.body" for message in bodies)
    assert not bodies[-1].get("more_body", False)
    return start["status"], headers, b"".join(message["body"] for message in bodies)


def requests(etag, last_modified):
    """Every kind of request WhiteNoise answers differently."""
    for path in ("/static/site/app.css", "/static/big.bin"):
        for encoding in ENCODINGS:
            yield environ_for(path, ACCEPT_ENCODING=encoding)
            yield environ_for(path, method="HEAD", ACCEPT_ENCODING=encoding)
        yield environ_for(path, IF_NONE_MATCH=etag(path))
        yield environ_for(path, IF_NONE_MATCH='"something-else"')
        yield environ_for(path, IF_MODIFIED_SINCE=last_modified(path))
        yield environ_for(path, RANGE="bytes=0-9")
        yield environ_for(path, RANGE="bytes=-5", ACCEPT_ENCODING="gzip")
        yield environ_for(path, RANGE="bytes=99999999-")
        yield environ_for(path, RANGE="nonsense")
        yield environ_for(path, method="POST")
        yield environ_for(path, scheme="https", ACCEPT_ENCODING="br")


def built_front(behind):
    static_front, reason = front.build(behind)
    assert reason is None
    behind.calls = 0  # the probes'
    return static_front


def validators(static_front):
    return (
        lambda path: static_front.files[path].etag,
        lambda path: dict(static_front.files[path].get_response("HEAD", {}).headers)["Last-Modified"],
    )


# -- the same answers as Django's -----------------------------------------------


def test_wsgi_answers_are_djangos_header_for_header(site):
    behind = Behind()
    static_front = built_front(behind)
    served = static_front.wsgi(behind)
    compared = 0
    # Twice: the second time small files come from the answers kept the first.
    for environ in [*requests(*validators(static_front)), *requests(*validators(static_front))]:
        calls = behind.calls
        expected = call_wsgi(behind.django, dict(environ, **{"wsgi.input": io.BytesIO()}))
        assert call_wsgi(served, environ) == expected, environ["PATH_INFO"]
        assert behind.calls == calls, "the front sent a static request to Django"
        compared += 1
    assert compared == 2 * 2 * (2 * len(ENCODINGS) + 9)
    assert {path for path, _ in static_front.kept} == {"/static/site/app.css"}  # big.bin is too large


def test_asgi_answers_are_djangos_header_for_header(site):
    behind = Behind()
    static_front = built_front(behind)

    async def not_static(scope, receive, send):
        raise AssertionError(f"the front sent {scope['path']} to the application")

    served = static_front.asgi(not_static)
    statuses = set()
    for environ in [*requests(*validators(static_front)), *requests(*validators(static_front))]:
        expected = call_wsgi(behind.django, dict(environ))
        assert call_asgi(served, environ) == expected, (environ["PATH_INFO"], environ.get("HTTP_RANGE"))
        statuses.add(expected[0])
    assert statuses == {200, 206, 304, 405, 416}


def test_the_answers_carry_what_the_middleware_above_adds(site):
    static_front = built_front(Behind())
    status, headers, body = call_wsgi(
        static_front.wsgi(None), environ_for("/static/site/app.css", ACCEPT_ENCODING="br")
    )
    headers = dict(headers)
    assert status == 200 and brotli.decompress(body) == CSS
    assert headers["content-encoding"] == "br" and headers["vary"] == "Accept-Encoding"
    # SecurityMiddleware's, above WhiteNoise:
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"


@override_settings(SECURE_HSTS_SECONDS=3600, SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"))
def test_each_scheme_gets_its_own_headers_as_django_judges_it(site):
    behind = Behind()
    served = built_front(behind).wsgi(behind)
    for forwarded, hsts in (("https", True), ("http", False), ("https, http", True)):
        environ = environ_for("/static/site/app.css", X_FORWARDED_PROTO=forwarded)
        expected = call_wsgi(behind.django, dict(environ))
        answer = call_wsgi(served, environ)
        assert answer == expected
        assert ("strict-transport-security" in dict(answer[1])) is hsts
    # Without the proxy's header, the server's scheme decides (http here).
    assert "strict-transport-security" not in dict(call_wsgi(served, environ_for("/static/site/app.css"))[1])
    assert behind.calls == 0


@override_settings(SECURE_SSL_REDIRECT=True)
def test_insecure_requests_get_djangos_redirect(site):
    behind = Behind()
    served = built_front(behind).wsgi(behind)
    status, headers, _ = call_wsgi(served, environ_for("/static/site/app.css"))
    assert status == 301 and dict(headers)["location"] == "https://localhost/static/site/app.css"
    assert behind.calls == 1
    assert call_wsgi(served, environ_for("/static/site/app.css", scheme="https"))[0] == 200
    assert behind.calls == 1


def test_other_paths_go_to_the_application(site):
    behind = Behind()
    served = built_front(behind).wsgi(behind)
    for path in (
        "/",
        "/static/",
        "/static/site/missing.css",
        "/static/site/../site/app.css",
        "/static/site/app.css.gz",
    ):
        call_wsgi(served, environ_for(path))
    assert behind.calls == 5


def test_a_large_file_goes_out_in_chunks_under_asgi(site):
    static_front = built_front(Behind())
    messages = []

    async def send(message):
        messages.append(message)

    scope = {"type": "http", "method": "GET", "path": "/static/big.bin", "scheme": "http", "headers": []}
    asyncio.run(static_front.asgi(None)(scope, None, send))
    bodies = [message["body"] for message in messages[1:]]
    assert len(bodies) > 2 and max(map(len, bodies)) <= front.CHUNK + 1
    assert b"".join(bodies) == BIG


def test_non_http_scopes_go_to_the_application(site):
    called = []

    async def application(scope, receive, send):
        called.append(scope["type"])

    served = built_front(Behind()).asgi(application)
    asyncio.run(served({"type": "lifespan"}, None, None))
    assert called == ["lifespan"]


# -- when it stands aside ------------------------------------------------------------


def test_it_stands_aside_for_middleware_above_whitenoise(site):
    from django.conf import settings

    middleware = ["django.middleware.gzip.GZipMiddleware", *settings.MIDDLEWARE]
    with override_settings(MIDDLEWARE=middleware):
        static_front, reason = front.build(Behind())
    assert static_front is None
    assert (
        reason
        == "middleware before WhiteNoise sees every static request: django.middleware.gzip.GZipMiddleware"
    )


def test_it_stands_aside_when_switched_off(site):
    with override_settings(ZIPSERVE_STATIC_FRONT=False):
        assert front.build(Behind()) == (None, "STATIC_FRONT is off")


def test_it_stands_aside_when_whitenoise_looks_for_files_at_each_request(site):
    with override_settings(DEBUG=True):
        assert front.build(Behind()) == (None, "WhiteNoise looks for files at each request (DEBUG)")


def test_it_stands_aside_without_whitenoise(site):
    from django.conf import settings

    without = [entry for entry in settings.MIDDLEWARE if entry != ds.WHITENOISE_MIDDLEWARE]
    with override_settings(MIDDLEWARE=without):
        assert front.build(Behind()) == (None, f"{ds.WHITENOISE_MIDDLEWARE} is not in MIDDLEWARE")


def test_it_answers_under_whitenoises_own_middleware_too(site):
    from django.conf import settings

    own = [
        ds.WHITENOISE_OWN_MIDDLEWARE if entry == ds.WHITENOISE_MIDDLEWARE else entry
        for entry in settings.MIDDLEWARE
    ]
    with override_settings(MIDDLEWARE=own):
        static_front, reason = front.build(Behind())
    assert reason is None
    assert "/static/site/app.css" in static_front.files


def test_it_stands_aside_without_static_files(django_project, tmp_path):
    with override_settings(DEBUG=False, STATIC_ROOT=str(tmp_path)):
        assert front.build(Behind()) == (None, "no static files")


def answering(status, change=None):
    """A WSGI application answering WhiteNoise's own response to the
    request, its status and headers altered."""

    def application(environ, start_response):
        static_file = next(iter(front.whitenoise_files().values()))
        response = static_file.get_response("GET", environ)
        response.file.close()
        headers = [(name, change.get(name, value) if change else value) for name, value in response.headers]
        start_response(status, headers)
        return [b""]

    return application


def test_the_probe_learns_only_an_answer_that_is_whitenoises_plus_headers(site):
    static_file = front.whitenoise_files()["/static/site/app.css"]

    def probe(application):
        return front.probe_static_file(application, "/static/site/app.css", "https", static_file)

    assert probe(answering("200 OK")) == []
    assert probe(answering("301 Moved Permanently")) is None
    assert probe(answering("200 OK", {"Cache-Control": "no-store"})) is None
    assert probe(Behind().django) == [
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
    ]


def test_a_repeated_request_header_reads_as_djangos_joined_value(site):
    behind = Behind()
    served = built_front(behind).asgi(None)
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/static/site/app.css",
        "scheme": "http",
        "headers": [(b"accept-encoding", b"identity"), (b"accept-encoding", b"br")],
    }
    messages = []

    async def send(message):
        messages.append(message)

    asyncio.run(served(scope, None, send))
    expected = call_wsgi(behind.django, environ_for("/static/site/app.css", ACCEPT_ENCODING="identity,br"))
    assert dict(expected[1])["content-encoding"] == "br"
    assert sorted((n.decode(), v.decode()) for n, v in messages[0]["headers"]) == expected[1]
