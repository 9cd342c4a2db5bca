"""Restart, upgrade and rollback under load with zero failed requests.

No systemd runs here, so a socket holder plays its part: it binds the
listening socket once (the ``.socket`` unit), starts each colour with the
socket as fd 3 and ``LISTEN_FDS``/``LISTEN_PID`` set, waits for ``READY=1``
on a notify socket (``Type=notify``), and stops a colour with SIGTERM. The
switch itself is django-zipserve's own (``bluegreen.switch``), the sequence
the ``deploy --switch`` command runs with systemctl.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from django_zipserve.deploy import bluegreen
from django_zipserve.deploy.releases import ReleaseStore

from tests.helpers import REPO, TEST_SECRET_KEY, activated, socket_holder

pytestmark = pytest.mark.e2e
ARTIFACTS = REPO / "tests" / "artifacts"


class SocketHolder:
    """systemd's part: one listening socket, services started on it."""

    def __init__(self, servers, env, command, tmp_path):
        self.sock = socket_holder()
        self.port = self.sock.getsockname()[1]
        self.servers = servers
        self.env = env
        self.command = command  # colour -> argument list, read when the colour starts
        self.tmp_path = tmp_path
        self.running = {}

    def is_active(self, colour):
        server = self.running.get(colour)
        return server is not None and server.process.poll() is None

    def start(self, colour):
        notify_path = self.tmp_path / f"notify-{colour}-{time.monotonic_ns()}"
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify.bind(str(notify_path))
        notify.settimeout(0.5)
        command, extra = activated(self.command(colour), self.sock)
        server = self.servers.start(command, dict(self.env, NOTIFY_SOCKET=str(notify_path)), **extra)
        self.running[colour] = server
        deadline = time.monotonic() + 90
        try:
            while time.monotonic() < deadline:
                if server.process.poll() is not None:
                    raise bluegreen.SwitchFailed(f"{colour} exited with {server.process.returncode}")
                try:
                    if b"READY=1" in notify.recv(4096):
                        return
                except socket.timeout:
                    continue
            raise bluegreen.SwitchFailed(f"{colour} sent no READY=1 within 90 s")
        finally:
            notify.close()

    def stop(self, colour):
        server = self.running.pop(colour)
        if server.stop(signal.SIGTERM, timeout=60) != 0:
            raise bluegreen.SwitchFailed(f"{colour} did not stop cleanly:\n{server.output()[-2000:]}")

    def close(self):
        self.sock.close()


class Load:
    """Steady, bounded load: ``threads`` clients, one request each per
    ``interval``, new connection each time, until stopped or ``limit`` s."""

    def __init__(self, url, threads=4, interval=0.05, limit=240):
        self.url = url
        self.results = []  # (time, version or None, error or None)
        self.stop_event = threading.Event()
        self.limit = limit
        self.threads = [threading.Thread(target=self.client, args=(interval,)) for _ in range(threads)]
        self.lock = threading.Lock()

    def client(self, interval):
        started = time.monotonic()
        while not self.stop_event.is_set() and time.monotonic() - started < self.limit:
            moment = time.monotonic()
            try:
                with urllib.request.urlopen(self.url, timeout=30) as response:
                    body = json.loads(response.read())
                    outcome = (moment, body["version"], None if response.status == 200 else response.status)
            except Exception as exc:  # every kind of failure counts
                outcome = (moment, None, repr(exc))
            with self.lock:
                self.results.append(outcome)
            time.sleep(max(0.0, interval - (time.monotonic() - moment)))

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stop_event.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def failures(self):
        return [result for result in self.results if result[2] is not None]

    def versions_after(self, moment):
        return {version for at, version, error in self.results if at > moment and error is None}


@pytest.fixture(scope="session")
def example_pyz_next(tmp_path_factory):
    """A different artifact: the example project as version 1.0.1."""
    source = tmp_path_factory.mktemp("next") / "example_project"
    shutil.copytree(REPO / "example_project", source, ignore=shutil.ignore_patterns("dist", "static_collected"))
    for path in (source / "pyproject.toml", source / "example_project" / "__init__.py"):
        path.write_text(path.read_text().replace("1.0.0", "1.0.1"))
    out = source.parent / "dist"
    result = subprocess.run([sys.executable, "-m", "django_zipserve", "build", "--quiet", "--require", str(REPO),
                             "--output-dir", str(out)], cwd=source, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.strip().splitlines()[-1])


def record_of(pyz):
    return json.loads(pyz.with_suffix(".json").read_text())


@pytest.mark.parametrize("server", ["pyuwsgi", "gunicorn"])
def test_restart_upgrade_and_rollback_drop_no_request(servers, tmp_path, shiv_root, example_pyz,
                                                      example_pyz_next, server):
    store = ReleaseStore(tmp_path / "srv", "example")
    first = store.install(example_pyz, record_of(example_pyz))
    store.activate(first)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("SHIV_", "DJANGO_", "LISTEN_", "UWSGI_", "GUNICORN_", "NOTIFY_"))}
    env.update(SECRET_KEY=TEST_SECRET_KEY, HTTPS="false", STATE_DIR=str(tmp_path / "state"), WORKERS="2",
               HOME=str(tmp_path / "home"), SHIV_ROOT=str(shiv_root))
    artifact = tmp_path / "srv" / "current" / "example.pyz"
    assert subprocess.run([sys.executable, str(artifact), "migrate", "--noinput"], env=env,
                          capture_output=True, timeout=300).returncode == 0
    holder = SocketHolder(servers, env, lambda colour: [sys.executable, str(artifact), server], tmp_path)
    health = f"http://127.0.0.1:{holder.port}/-/health/"
    timings = {}
    try:
        holder.start("blue")
        with Load(health) as load:
            time.sleep(2)
            timings["restart"] = bluegreen.switch(holder, health).seconds
            time.sleep(2)
            store.activate(store.install(example_pyz_next, record_of(example_pyz_next)))
            timings["upgrade"] = bluegreen.switch(holder, health).seconds
            upgraded_at = time.monotonic()
            time.sleep(2)
            store.rollback()
            timings["rollback"] = bluegreen.switch(holder, health).seconds
            rolled_back_at = time.monotonic()
            time.sleep(2)
        for colour in list(holder.running):
            holder.stop(colour)
    finally:
        holder.close()
    ARTIFACTS.mkdir(exist_ok=True)
    summary = {"server": server, "requests": len(load.results), "failed": len(load.failures()),
               "switch_seconds": timings,
               "failures": [(round(at - upgraded_at, 2), error) for at, _, error in load.failures()]}
    (ARTIFACTS / f"bluegreen-{server}.json").write_text(json.dumps(summary, indent=2) + "\n")
    assert load.failures() == [], summary
    assert len(load.results) > 200, summary
    assert load.versions_after(upgraded_at + 0.5) >= {"1.0.1"}
    assert load.versions_after(rolled_back_at + 0.5) == {"1.0.0"}, "after the rollback only the old version"


def test_deploy_switch_runs_the_documented_systemctl_sequence(tmp_path):
    """The order the deployment guide shows is the order the code runs.
    A stand-in for systemctl records each call and answers is-active as if
    blue were live; the health view answers from a real local server."""
    import http.server

    log = tmp_path / "calls"
    fake = tmp_path / "systemctl"
    fake.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> "{log}"\n'
        'case "$*" in "is-active --quiet example@blue.service") exit 0;; "is-active"*) exit 3;; esac\n'
    )
    fake.chmod(0o755)

    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        manager = bluegreen.Systemctl("example", command=[str(fake)])
        result = bluegreen.switch(manager, f"http://127.0.0.1:{server.server_port}/-/health/")
    finally:
        server.shutdown()
        thread.join(timeout=10)
    assert (result.old, result.new) == ("blue", "green")
    assert log.read_text().splitlines() == [
        "is-active --quiet example@blue.service",
        "is-active --quiet example@green.service",
        "start example@green.service",
        "stop example@blue.service",
        "enable example@green.service",
        "disable example@blue.service",
    ]
    guide = (REPO / "docs" / "deployment.rst").read_text()
    positions = [guide.index(f"systemctl {call.replace('example', 'mysite')}") for call in log.read_text().splitlines()]
    assert positions == sorted(positions), "the guide lists the calls in the same order"
