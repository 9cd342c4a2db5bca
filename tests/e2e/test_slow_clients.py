"""Slow clients (slowloris) against each server's default set-up, and under
socket activation. Every loop is bounded in iterations and in time.
"""

import http.client
import math
import socket
import sys
import threading
import time
from types import SimpleNamespace

import pytest

from tests.helpers import (
    ServerProcess,
    activated,
    request_once,
    socket_holder,
    wait_for_http,
)

SLOW_CLIENTS = 6
SLOW_SECONDS = 8.0
PROMPT = 2.0  # a normal request counts as served when it is answered within this


def drip_slow_clients(sockets, stop, seconds, log):
    """Send one more header byte per second on every slow socket, never
    ending the headers; bounded by ``seconds`` ticks and by ``stop``."""
    for tick in range(int(seconds)):
        if stop.wait(1.0):
            return
        for index, sock in enumerate(sockets):
            if sock is None:
                continue
            try:
                sock.sendall(b"x")
            except OSError as exc:
                log.append((tick, index, type(exc).__name__))
                sockets[index] = None


def slow_clients_meet(name, port, process):
    """Six clients send a request line and then one header byte per second
    for ~8 s while a normal client asks for /-/health/ with a 2 s timeout."""
    sockets = []
    for _ in range(SLOW_CLIENTS):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(b"GET /-/health/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        sockets.append(sock)
    stop = threading.Event()
    closed_by_server = []
    dripper = threading.Thread(
        target=drip_slow_clients, args=(sockets, stop, SLOW_SECONDS, closed_by_server), daemon=True
    )
    slow_until = time.monotonic() + SLOW_SECONDS
    dripper.start()
    attempts = []  # (seconds taken, outcome)
    try:
        time.sleep(1.0)  # the slow clients are accepted first
        for _ in range(40):
            if time.monotonic() + PROMPT > slow_until:
                break
            started = time.monotonic()
            try:
                status, _ = request_once(port, "/-/health/", PROMPT)
                outcome = status
            except (OSError, http.client.HTTPException) as exc:
                outcome = type(exc).__name__
            attempts.append((round(time.monotonic() - started, 2), outcome))
            time.sleep(0.25)
        still_open = sum(sock is not None for sock in sockets)
    finally:
        stop.set()
        dripper.join(timeout=10)
        for sock in sockets:
            if sock is not None:
                sock.close()
    served = [attempt for attempt in attempts if attempt[1] == 200]
    recovered_at = time.monotonic()
    wait_for_http(f"http://127.0.0.1:{port}/-/health/", timeout=60, process=process)
    recovery = round(time.monotonic() - recovered_at, 2)
    record = (
        f"{name}: {len(served)}/{len(attempts)} normal requests answered "
        f"within {PROMPT} s "
        f"while {SLOW_CLIENTS} slow clients dripped headers ({attempts}); slow connections the server "
        f"closed: {closed_by_server}; still open at the end: {still_open}; served again "
        f"{recovery} s after the slow clients left"
    )
    print(record)
    assert len(attempts) >= 2, record
    assert process.poll() is None, record
    return SimpleNamespace(attempts=attempts, served=served, still_open=still_open, record=record)


@pytest.mark.e2e
def test_slow_clients_against_the_default_configuration(artifact_server):
    """Finding (asserted as measured, for each server started from the
    artifact with its defaults and WORKERS=2):

    - ``pyuwsgi``: resists. Our default binds with ``--http``, so uWSGI's
      HTTP router (an asynchronous process in front of the workers) reads
      each request completely before a worker sees it; slow clients only
      occupy router connections, and normal requests keep being answered
      promptly.
    - ``gunicorn``: does not resist. The default worker class is ``sync``: a
      worker accepts a connection and blocks reading its headers, so
      WORKERS slow clients hold every worker and normal requests wait in the
      listen queue, none answered within 2 s, for as long as the slow
      clients go on (until gunicorn's ``--timeout`` kills the silent worker).
      Service resumes as soon as the slow clients go away. gunicorn with
      sync workers must run behind a buffering reverse proxy (nginx, or
      uWSGI's router) when clients are not trusted.
    """
    outcome = slow_clients_meet(artifact_server.name, artifact_server.port, artifact_server.process.process)
    attempts, served, record = outcome.attempts, outcome.served, outcome.record
    if artifact_server.name == "pyuwsgi":
        # The router buffers the slow requests; the workers stay free.
        assert len(served) >= max(3, math.ceil(0.75 * len(attempts))), record
    else:
        # Recorded finding: WORKERS=2 sync workers are both held by slow
        # clients; nothing else is answered until they go away.
        assert not served, record
        assert all(result == "TimeoutError" for _, result in attempts), record
        assert outcome.still_open == SLOW_CLIENTS, record


@pytest.mark.e2e
def test_slow_clients_under_socket_activation(artifact_site, tmp_path):
    """Recorded finding: under socket activation (the systemd units) uWSGI's
    workers accept on the inherited socket themselves, without the router,
    so slow clients hold them as they hold gunicorn's sync workers.

    The router can take an inherited socket (``--http=fd://3``), but it goes
    on accepting while the workers stop, which dropped 1-3 requests in four
    of six blue/green test runs; dropped requests on upgrade are the worse
    trade. The deployment guide recommends a buffering proxy or load
    balancer in front when clients are not trusted.
    """
    holder = socket_holder()
    port = holder.getsockname()[1]
    command = [sys.executable, artifact_site.pyz, "--config", artifact_site.config, "pyuwsgi"]
    command, extra = activated(command, holder)
    process = ServerProcess(command, artifact_site.env, artifact_site.cwd, tmp_path / "server.log", **extra)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/-/health/", process=process.process)
        assert "attached to INET address 127.0.0.1" in process.output()
        outcome = slow_clients_meet("pyuwsgi (socket-activated)", port, process.process)
        assert not outcome.served, outcome.record
        assert outcome.still_open == SLOW_CLIENTS, outcome.record
    finally:
        process.close()
        holder.close()
