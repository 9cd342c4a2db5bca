"""The static front in the built artifact, under every server: the answers
for a static file are those of Django's WhiteNoise middleware (the same
artifact with ``STATIC_FRONT=false``), header for header, for each
encoding, conditional and range request; pages still reach Django."""

import http.client
import re
import sys

import pytest

from tests.helpers import ServerProcess, bind_args, free_port, wait_for_http

pytestmark = pytest.mark.e2e

#: The servers as they serve: (name, arguments before the bind address).
VARIANTS = {
    "pyuwsgi": ("pyuwsgi", ()),
    "pyuwsgi-http-socket": ("pyuwsgi", ("--http-socket",)),
    "gunicorn": ("gunicorn", ()),
    "gunicorn-asgi": ("gunicorn", ("--asgi",)),
}
#: Headers of the transport, not of the file.
TRANSPORT = {"date", "server", "connection", "keep-alive", "transfer-encoding"}
ANNOUNCED = "static files answered before Django"


def start(artifact_site, tmp_path_factory, variant, **env):
    server, extra = VARIANTS[variant]
    port = free_port()
    if extra == ("--http-socket",):
        binding = ["--http-socket", f"127.0.0.1:{port}"]
    else:
        binding = [*extra, *bind_args(server, port)]
    log = tmp_path_factory.mktemp(f"front-{variant}") / "server.log"
    command = [sys.executable, artifact_site.pyz, "--config", artifact_site.config, server, *binding]
    process = ServerProcess(command, dict(artifact_site.env, **env), artifact_site.cwd, log)
    wait_for_http(f"http://127.0.0.1:{port}/-/health/", process=process.process)
    return port, process


@pytest.fixture(scope="module")
def reference(artifact_site, tmp_path_factory):
    """gunicorn without the front: Django's WhiteNoise middleware answers."""
    port, process = start(artifact_site, tmp_path_factory, "gunicorn", STATIC_FRONT="false")
    try:
        assert "static files answered through Django: STATIC_FRONT is off" in process.output()
        yield port
    finally:
        process.close()


@pytest.fixture(scope="module", params=VARIANTS)
def fronted(request, artifact_site, tmp_path_factory):
    port, process = start(artifact_site, tmp_path_factory, request.param)
    try:
        yield port, process
    finally:
        process.close()


def get(port, path, **headers):
    """``(status, {lower-case name: value} without transport headers, body)``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers={name.replace("_", "-"): v for name, v in headers.items()})
        response = connection.getresponse()
        body = response.read()
        headers = {name.lower(): value for name, value in response.getheaders()}
        return response.status, {k: v for k, v in headers.items() if k not in TRANSPORT}, body
    finally:
        connection.close()


def stylesheet(port):
    page = get(port, "/")[2].decode()
    return re.search(r'href="(/static/[^"]+\.css)"', page).group(1)


def test_static_answers_are_whitenoises_through_django(fronted, reference):
    port, process = fronted
    assert ANNOUNCED in process.output()
    css = stylesheet(port)
    etag = get(reference, css)[1]["etag"]
    requests = [
        {},
        {"Accept_Encoding": "gzip"},
        {"Accept_Encoding": "br"},
        {"Accept_Encoding": "gzip, deflate, br"},
        {"If_None_Match": etag},
        {"Range": "bytes=0-9"},
        {"Range": "bytes=99999-"},
    ]
    seen = set()
    for headers in requests:
        expected = get(reference, css, **headers)
        assert get(port, css, **headers) == expected, headers
        seen.add((expected[0], expected[1].get("content-encoding")))
    assert {(200, None), (200, "gzip"), (200, "br"), (304, None), (206, None), (416, None)} <= seen


@pytest.fixture(scope="module")
def asgi_port(artifact_site, tmp_path_factory):
    port, process = start(artifact_site, tmp_path_factory, "gunicorn-asgi")
    try:
        yield port
    finally:
        process.close()


def test_one_kept_alive_connection_carries_static_answers_and_pages(asgi_port):
    """Under gunicorn's asgi worker the connection stays open: static
    answers from the front and pages from Django follow one another on it."""
    css = stylesheet(asgi_port)
    connection = http.client.HTTPConnection("127.0.0.1", asgi_port, timeout=10)
    try:
        sockets = set()
        for path in (css, "/", css, "/-/health/", css):
            connection.request("GET", path, headers={"Accept-Encoding": "br"})
            response = connection.getresponse()
            body = response.read()
            assert response.status == 200, path
            assert len(body) == int(response.getheader("content-length"))
            sockets.add(connection.sock.getsockname())
        assert len(sockets) == 1
    finally:
        connection.close()
