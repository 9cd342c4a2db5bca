"""``gunicorn --asgi``: ASGI_APPLICATION through gunicorn's own asyncio
worker, with the same defaults, warm-up, socket activation and graceful
stop as WSGI; ``pyuwsgi --asgi`` is refused in one line."""

import json
import os
import re
import signal
import socket
import time

from tests.helpers import (
    free_port,
    http_get,
    project_command,
    run_project,
    socket_activated,
    wait_for_http,
)


def start_asgi(servers, project_env, *args):
    port = free_port()
    server = servers.start(
        project_command("gunicorn", "--asgi", "--bind", f"127.0.0.1:{port}", *args), project_env
    )
    wait_for_http(f"http://127.0.0.1:{port}/-/health/", process=server.process)
    return server, f"http://127.0.0.1:{port}"


def test_an_async_view_answers_on_the_asgi_worker(servers, project_env):
    server, base = start_asgi(servers, project_env)
    status, _, body = http_get(f"{base}/async/")
    assert status == 200
    answer = json.loads(body)
    assert answer["async"] is True
    # Under gunicorn's asgi worker the view runs on the event loop; a WSGI
    # server would run it through async_to_sync in a thread of its own.
    assert answer["thread"] == "MainThread"
    config = run_project(project_env, "gunicorn", "--asgi", "--print-config").stdout
    assert re.search(r"(?m)^worker_class +=? *asgi$", config), config
    assert re.search(r"(?m)^wsgi_app += tests\.testproject\.asgi:application$", config), config
    assert "Booting worker with pid" in server.output()


def read_chunks(base, path):
    """The body of a streaming response as (seconds since the request, bytes) pairs."""
    host, port = base.removeprefix("http://").split(":")
    received = []
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
        started = time.monotonic()
        while True:
            data = sock.recv(65536)
            if not data:
                return received
            received.append((time.monotonic() - started, data))


def test_a_streaming_response_arrives_as_it_is_produced(servers, project_env):
    _, base = start_asgi(servers, project_env)
    received = read_chunks(base, "/stream/?n=4")
    body = b"".join(data for _, data in received)
    assert b"200 OK" in body and b"chunk 0\n" in body and b"chunk 3\n" in body
    first_chunk = next(at for at, data in received if b"chunk 0" in data)
    last_chunk = next(at for at, data in received if b"chunk 3" in data)
    # Four chunks 0.2 s apart: the first is sent before the last is made.
    assert last_chunk - first_chunk >= 0.4, received


def test_sigterm_lets_a_stream_in_flight_finish(servers, project_env):
    server, base = start_asgi(servers, project_env, "--graceful-timeout", "10")
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=15) as sock:
        sock.sendall(b"GET /stream/?n=8 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        first = sock.recv(65536)
        assert b"chunk 0" in first
        server.send(signal.SIGTERM)
        rest = b""
        while chunk := sock.recv(65536):
            rest += chunk
    assert b"chunk 7\n" in first + rest, "the response in flight was finished"
    assert server.wait(timeout=30) == 0


def test_socket_activation_serves_asgi(servers, project_env):
    with socket_activated(servers, project_command("gunicorn", "--asgi"), project_env) as (_, base):
        assert json.loads(http_get(f"{base}/async/")[2])["async"] is True


def test_pyuwsgi_refuses_asgi_in_one_line(project_env):
    result = run_project(project_env, "pyuwsgi", "--asgi", "--http", f"127.0.0.1:{free_port()}")
    assert result.returncode == 2
    assert result.stderr == (
        "CommandError: uWSGI serves WSGI only: serve ASGI_APPLICATION with `gunicorn --asgi`\n"
    )


def test_asgi_without_asgi_application_is_refused(project_env):
    settings = "tests.servers.settings_without_asgi"
    result = run_project(project_env, "gunicorn", "--asgi", "--settings", settings)
    assert result.returncode == 2
    assert "--asgi: ASGI_APPLICATION is not set" in result.stderr
    assert "Traceback" not in result.stderr


def test_uploads_are_served_with_their_headers_under_asgi(servers, project_env):
    media = os.path.join(project_env["STATE_DIR"], "media")
    os.makedirs(media, exist_ok=True)
    with open(os.path.join(media, "page.html"), "wb") as upload:
        upload.write(b"<script>alert(1)</script>")
    _, base = start_asgi(servers, project_env)
    status, headers, body = http_get(f"{base}/media/page.html")
    assert (status, body) == (200, b"<script>alert(1)</script>")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Disposition"].startswith("attachment")
    assert "sandbox" in headers["Content-Security-Policy"]
