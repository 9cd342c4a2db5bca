"""The blue/green switch: restart, upgrade and rollback under load with zero
failed requests, and a new colour that is not healthy never takes over.

No systemd runs here, so a socket holder plays its part: it binds the
listening socket once (the ``.socket`` unit), starts each colour with the
socket as fd 3, ``LISTEN_FDS``/``LISTEN_PID`` and its instance name set,
waits for ``READY=1`` on a notify socket (``Type=notify``), and stops a
colour with SIGTERM. The switch itself is django-zipserve's own
(``bluegreen.switch``), the sequence the ``deploy --switch`` command runs
with systemctl.
"""

import contextlib
import http.server
import json
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from django_zipserve.conf.django_settings import INSTANCE_VARIABLE
from django_zipserve.deploy import bluegreen
from django_zipserve.deploy.releases import ReleaseStore
from tests.helpers import (
    REPO,
    TEST_SECRET_KEY,
    activated,
    clean_environ,
    http_get,
    run_project,
    socket_holder,
)
from tests.load import Load

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
        self.enabled = None  # the colour a reboot would start

    def is_active(self, colour):
        server = self.running.get(colour)
        return server is not None and server.process.poll() is None

    def start(self, colour):
        notify_path = self.tmp_path / f"notify-{colour}-{time.monotonic_ns()}"
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify.bind(str(notify_path))
        notify.settimeout(0.5)
        command, extra = activated(self.command(colour), self.sock)
        # As the unit's Environment=ZIPSERVE_INSTANCE=%i does.
        env = dict(self.env, NOTIFY_SOCKET=str(notify_path), **{INSTANCE_VARIABLE: colour})
        server = self.servers.start(command, env, **extra)
        self.running[colour] = server
        deadline = time.monotonic() + 90
        try:
            while time.monotonic() < deadline:
                if server.process.poll() is not None:
                    raise bluegreen.SwitchFailed(f"{colour} exited with {server.process.returncode}")
                try:
                    if b"READY=1" in notify.recv(4096):
                        return
                except TimeoutError:
                    continue
            raise bluegreen.SwitchFailed(f"{colour} sent no READY=1 within 90 s")
        finally:
            notify.close()

    def stop(self, colour):
        server = self.running.pop(colour)
        if server.stop(signal.SIGTERM, timeout=60) != 0:
            raise bluegreen.SwitchFailed(f"{colour} did not stop cleanly:\n{server.output()[-2000:]}")

    def persist(self, new, old):
        self.enabled = new

    def close(self):
        self.sock.close()


def record_of(pyz):
    return json.loads(pyz.with_suffix(".json").read_text())


@pytest.mark.e2e
@pytest.mark.parametrize("server", ["pyuwsgi", "gunicorn"])
def test_restart_upgrade_and_rollback_drop_no_request(
    servers, tmp_path, shiv_root, example_pyz, example_pyz_next, server
):
    store = ReleaseStore(tmp_path / "srv", "example")
    first = store.install(example_pyz, record_of(example_pyz))
    store.activate(first)
    env = clean_environ(
        SECRET_KEY=TEST_SECRET_KEY,
        HTTPS="false",
        STATE_DIR=tmp_path / "state",
        WORKERS=2,
        HOME=tmp_path / "home",
        SHIV_ROOT=shiv_root,
    )
    artifact = store.current_artifact
    assert (
        subprocess.run(
            [sys.executable, str(artifact), "migrate", "--noinput"],
            env=env,
            capture_output=True,
            timeout=300,
            check=False,
        ).returncode
        == 0
    )
    holder = SocketHolder(servers, env, lambda colour: [sys.executable, str(artifact), server], tmp_path)
    health = f"http://127.0.0.1:{holder.port}/-/health/"
    timings = {}
    try:
        holder.start("blue")
        with Load(health) as load:
            load.serve(100)
            timings["restart"] = bluegreen.switch(holder, health).seconds
            load.serve(100)
            store.activate(store.install(example_pyz_next, record_of(example_pyz_next)))
            timings["upgrade"] = bluegreen.switch(holder, health).seconds
            upgraded_at = time.monotonic()
            load.serve(100)
            store.rollback()
            timings["rollback"] = bluegreen.switch(holder, health).seconds
            rolled_back_at = time.monotonic()
            load.serve(100)
        for colour in list(holder.running):
            holder.stop(colour)
    finally:
        holder.close()
    assert holder.enabled == "green", "restart, upgrade, rollback: blue, green, blue, green"
    ARTIFACTS.mkdir(exist_ok=True)
    summary = {
        "server": server,
        "requests": len(load.results),
        "failed": len(load.failures()),
        "switch_seconds": timings,
        "failures": [(round(at - upgraded_at, 2), error) for at, _, error in load.failures()],
    }
    (ARTIFACTS / f"bluegreen-{server}.json").write_text(json.dumps(summary, indent=2) + "\n")
    assert load.failures() == [], summary
    assert len(load.results) > 200, summary
    assert load.versions_after(upgraded_at + 0.5) >= {"1.0.1"}
    assert load.versions_after(rolled_back_at + 0.5) == {"1.0.0"}, "after the rollback only the old version"


#: A colour that is not Django: on the socket passed as fd 3 it answers the
#: health view with its instance name and the status given as argument,
#: after sending READY=1 as the real servers do; SIGTERM stops it cleanly.
STAND_IN_COLOUR = """
import http.server, json, os, signal, socket, sys

status = int(sys.argv[1])

class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"status": "ok" if status == 200 else "error",
                           "instance": os.environ.get("ZIPSERVE_INSTANCE")}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

signal.signal(signal.SIGTERM, lambda *args: sys.exit(0))
server = http.server.HTTPServer(("127.0.0.1", 0), Health, bind_and_activate=False)
server.socket = socket.socket(fileno=3)
notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
notify.sendto(b"READY=1", os.environ["NOTIFY_SOCKET"])
server.serve_forever(poll_interval=0.05)
"""


@pytest.fixture
def blue_live(servers, tmp_path):
    """Call with the status each stand-in colour's health view answers
    (``blue=200, green=503``): starts blue on a socket holder and returns
    ``(holder, health URL on the shared socket)``."""
    statuses = {}
    holder = SocketHolder(
        servers,
        clean_environ(),
        lambda colour: [sys.executable, "-c", STAND_IN_COLOUR, str(statuses[colour])],
        tmp_path,
    )

    def start(**colour_statuses):
        statuses.update(colour_statuses)
        holder.start("blue")
        return holder, f"http://127.0.0.1:{holder.port}/-/health/"

    yield start
    for colour in list(holder.running):
        holder.stop(colour)
    holder.close()


def answering_instances(url, probes=20):
    return {json.loads(http_get(url, timeout=5)[2])["instance"] for _ in range(probes)}


def test_a_new_colour_that_is_not_healthy_never_takes_over(blue_live):
    """The old colour answers 200 on the shared socket while the new one
    answers 503: an answer from the old colour must not count as the new
    colour's health, so the switch fails and the old colour keeps serving."""
    holder, health = blue_live(blue=200, green=503)
    with pytest.raises(bluegreen.SwitchFailed) as failure:
        bluegreen.switch(holder, health, health_timeout=3)
    assert f"green did not answer 200 at {health} within 3 s" in str(failure.value)
    assert "switch failed, the live colour keeps serving" in failure.value.report()
    assert holder.is_active("blue") and not holder.is_active("green")
    assert holder.enabled is None, "nothing persisted"
    assert answering_instances(health) == {"blue"}


def test_a_healthy_new_colour_takes_over(blue_live):
    holder, health = blue_live(blue=200, green=200)
    result = bluegreen.switch(holder, health, health_timeout=10)
    assert (result.old, result.new) == ("blue", "green")
    assert holder.enabled == "green"
    assert not holder.is_active("blue")
    assert answering_instances(health) == {"green"}


@contextlib.contextmanager
def health_view_answering_as(instance):
    """A local HTTP server whose health view answers 200 as ``instance``;
    yields its URL."""

    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(json.dumps({"status": "ok", "instance": instance}).encode())

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/-/health/"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def test_deploy_switch_runs_the_documented_systemctl_sequence(tmp_path):
    """The order the deployment guide shows is the order the code runs.
    A stand-in for systemctl records each call and answers is-active as if
    blue were live; the health view answers as green from a real local server."""
    log = tmp_path / "calls"
    fake = tmp_path / "systemctl"
    fake.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> "{log}"\n'
        'case "$*" in "is-active --quiet example@blue.service") exit 0;; "is-active"*) exit 3;; esac\n'
    )
    fake.chmod(0o755)
    with health_view_answering_as("green") as health:
        result = bluegreen.switch_services("example", health, command=[str(fake)])
    assert (result.old, result.new) == ("blue", "green")
    calls = log.read_text().splitlines()
    assert calls == [
        "is-active --quiet example@blue.service",
        "is-active --quiet example@green.service",
        "start example@green.service",
        "stop example@blue.service",
        "enable example@green.service",
        "disable example@blue.service",
    ]
    summary = f"switched blue -> green in {result.seconds:.1f} s"
    assert result.report() == [*(f"$ {fake} {call}" for call in calls), summary]
    guide = (REPO / "docs" / "deployment.rst").read_text()
    positions = [guide.index(f"systemctl {call.replace('example', 'mysite')}") for call in calls]
    assert positions == sorted(positions), "the guide lists the calls in the same order"


def test_rollback_switch_that_fails_reports_the_commands_and_keeps_the_live_colour(tmp_path, project_env):
    """``rollback --switch`` when the new colour does not start: one report
    on standard error, the systemctl calls in it, no traceback."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    systemctl = bin_dir / "systemctl"
    systemctl.write_text(
        "#!/bin/sh\n"
        'case "$*" in "is-active --quiet example@blue.service") exit 0;; "is-active"*) exit 3;; esac\n'
        'case "$*" in "start example@"*) echo "Job for $2 failed." >&2; exit 1;; esac\n'
    )
    systemctl.chmod(0o755)
    store = ReleaseStore(tmp_path / "srv", "example")
    for version in ("1.0", "1.1"):
        artifact = tmp_path / f"example-{version}.pyz"
        artifact.write_text(version)
        store.activate(store.install(artifact, {"version": version, "build_id": "b"}))
    env = dict(project_env, PATH=f"{bin_dir}:{project_env['PATH']}")
    result = run_project(
        env,
        "rollback",
        "--root",
        str(store.root),
        "--name",
        "example",
        "--switch",
        "--health-url",
        "http://127.0.0.1:9/-/health/",
    )
    assert result.returncode == 1, result.stderr
    assert "current -> releases/1.0-b (was 1.1-b)" in result.stdout
    assert "$ systemctl start example@green.service\n" in result.stderr
    assert "$ systemctl stop example@green.service\n" in result.stderr, "the new colour is stopped again"
    assert (
        "switch failed, the live colour keeps serving: start example@green.service failed: "
        "Job for example@green.service failed."
    ) in result.stderr
    assert "Traceback" not in result.stderr
