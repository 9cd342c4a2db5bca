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
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import zipfile

import pytest

from django_zipserve.conf.django_settings import INSTANCE_VARIABLE
from django_zipserve.deploy import bluegreen
from django_zipserve.deploy.releases import ReleaseStore
from django_zipserve.zipapp.boot import RECORD_NAME
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


#: systemctl for the process tests, a real program on PATH: it answers
#: ``is-active`` as if blue were live, logs every command but ``show``, and
#: answers ``show UNIT`` from ``units.json`` beside it: the unit's ``before``
#: state until a restart, then each of its ``after`` states in turn (the
#: first is what the deploy reads right after the restart, the last repeats).
FAKE_SYSTEMCTL = """#!{python}
import json, sys
from pathlib import Path

here = Path(__file__).parent
args = sys.argv[1:]
unit = args[-1]
units = json.loads((here / "units.json").read_text())
if args[0] != "show":
    with open(here / "calls", "a") as log:
        print(" ".join(args), file=log)
if args[0] == "is-active":
    sys.exit(0 if unit == "example@blue.service" else 3)
restarted = here / (unit + ".restarted")
if args[0] == "show":
    spec = units.get(unit, {{}})
    if restarted.exists():
        seen = int(restarted.read_text())
        restarted.write_text(str(seen + 1))
        state = spec["after"][min(seen, len(spec["after"]) - 1)]
    else:
        state = spec.get("before", {{"ActiveState": "inactive", "SubState": "dead"}})
    print("\\n".join(f"{{key}}={{value}}" for key, value in state.items()))
elif args[0] in ("try-restart", "restart") and unit in units:
    restarted.write_text("0")
    if units[unit].get("start_fails"):
        print(f"Job for {{unit}} failed because the control process exited with error code.", file=sys.stderr)
        print(f'See "systemctl status {{unit}}" for details.', file=sys.stderr)
        sys.exit(1)
"""

#: journalctl on PATH beside it: the end of a worker's journal.
FAKE_JOURNALCTL = """#!/bin/sh
echo "Starting worker worker_id=w1 queues=default"
echo "django.db.utils.OperationalError: connection failed: Connection refused"
"""


def running(pid, restarts=0):
    return {"ActiveState": "active", "SubState": "running", "MainPID": pid, "NRestarts": restarts}


def exited(status, state="activating", sub="auto-restart", restarts=0):
    return {
        "ActiveState": state,
        "SubState": sub,
        "MainPID": 0,
        "NRestarts": restarts,
        "ExecMainCode": 1,
        "ExecMainStatus": status,
    }


STOPPED = {"ActiveState": "inactive", "SubState": "dead", "MainPID": 0, "NRestarts": 0}


@pytest.fixture
def fake_systemd(tmp_path):
    """A folder with systemctl and journalctl to put first on PATH; call with
    each unit's scripted states (see FAKE_SYSTEMCTL). Returns the folder."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "systemctl").write_text(FAKE_SYSTEMCTL.format(python=sys.executable))
    (bin_dir / "journalctl").write_text(FAKE_JOURNALCTL)
    for program in bin_dir.iterdir():
        program.chmod(0o755)

    def script(**units):
        (bin_dir / "units.json").write_text(
            json.dumps({name.replace("_", "-"): spec for name, spec in units.items()})
        )
        return bin_dir

    return script


def calls_of(bin_dir):
    return (bin_dir / "calls").read_text().splitlines()


def test_processes_that_keep_running_are_restarted_and_a_stopped_one_is_left_alone(fake_systemd):
    bin_dir = fake_systemd(
        **{
            "example-worker.service": {"before": running(100), "after": [running(200)]},
            "example-waiter.service": {"before": STOPPED},
            "example-printer.service": {
                "before": exited(1, state="failed", sub="failed"),
                "after": [running(300)],
            },
        }
    )
    units = ["example-worker.service", "example-waiter.service", "example-printer.service"]
    systemctl = str(bin_dir / "systemctl")
    lines = bluegreen.restart_processes("example", units, command=[systemctl], settle=0.5)
    assert calls_of(bin_dir) == ["try-restart example-worker.service", "restart example-printer.service"]
    assert lines == [
        f"$ {systemctl} try-restart example-worker.service",
        "example-waiter.service is stopped: left stopped "
        "(systemctl enable --now example-waiter.service starts it)",
        f"$ {systemctl} restart example-printer.service",
        "example-worker.service, example-printer.service: still running 0.5 s after the restart",
    ], "a failed unit is started again: the new release may be its fix"


def test_a_process_that_exits_after_its_restart_fails_with_its_journal(fake_systemd, monkeypatch):
    """Ready, then gone: systemd restarts it for ever and try-restart said 0.
    The others are watched to the end of the settle period all the same, so
    the report names every process that did not start."""
    bin_dir = fake_systemd(
        **{
            "example-worker.service": {
                "before": running(100),
                "after": [running(200), running(200), exited(1), running(201, restarts=1)],
            },
            "example-printer.service": {"before": running(101), "after": [running(300)]},
        }
    )
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    units = ["example-worker.service", "example-printer.service"]
    with pytest.raises(bluegreen.ProcessFailed) as failure:
        bluegreen.restart_processes("example", units, command=[str(bin_dir / "systemctl")], settle=2)
    assert calls_of(bin_dir) == ["try-restart example-worker.service", "try-restart example-printer.service"]
    assert failure.value.failures == [
        ("example-worker.service", "exited at start (exit status 1) and systemd keeps restarting it")
    ]
    assert isinstance(failure.value, bluegreen.SwitchFailed)
    report = failure.value.report().splitlines()
    assert report[-3:] == [
        "  Starting worker worker_id=w1 queues=default",
        "  django.db.utils.OperationalError: connection failed: Connection refused",
        "the web switched, but a declared process did not start on this release: "
        "example-worker.service exited at start (exit status 1) and systemd keeps restarting it",
    ]
    assert "$ journalctl --no-pager -o cat -n 12 -u example-worker.service" in report


def test_a_restart_between_two_looks_counts_as_an_exit():
    """NRestarts grew or the PID changed: it exited and came back."""
    before = bluegreen.UnitState.parse("ActiveState=active\nSubState=running\nMainPID=200\nNRestarts=0\n")
    again = bluegreen.UnitState.parse(
        "ActiveState=active\nSubState=running\nMainPID=207\nNRestarts=1\nExecMainCode=2\nExecMainStatus=9\n"
    )
    assert before.stayed_up_since(before)
    assert not again.stayed_up_since(before)
    assert again.describe_failure() == "exited at start (killed by SIGKILL) and systemd keeps restarting it"
    gave_up = bluegreen.UnitState.parse(
        "ActiveState=failed\nSubState=failed\nExecMainCode=1\nExecMainStatus=3\n"
    )
    assert gave_up.describe_failure() == "exited at start (exit status 3) and systemd gave up restarting it"


@pytest.fixture
def artifact_to_deploy(tmp_path):
    """A file deploy takes for an artifact: a zip with a build record."""
    artifact = tmp_path / "example-1.1.pyz"
    with zipfile.ZipFile(artifact, "w") as archive:
        archive.writestr(f"site-packages/{RECORD_NAME}", json.dumps({"version": "1.1", "build_id": "b"}))
    return artifact


def test_deploy_switch_is_not_done_while_a_process_cannot_start(
    fake_systemd, artifact_to_deploy, tmp_path, project_env
):
    """The worker fails its start (``run`` could not import its command,
    before READY=1): the web switched, deploy exits 1 naming the unit, with
    the end of its journal and one sentence at the end."""
    bin_dir = fake_systemd(
        **{
            "example-worker.service": {"before": running(100), "start_fails": True, "after": [exited(1)]},
            "example-printer.service": {"before": running(101), "after": [running(300)]},
        }
    )
    env = dict(project_env, PATH=f"{bin_dir}:{project_env['PATH']}")
    with health_view_answering_as("green") as health:
        result = run_project(
            env,
            "deploy",
            str(artifact_to_deploy),
            "--root",
            str(tmp_path / "srv"),
            "--name",
            "example",
            "--switch",
            "--health-url",
            health,
            "--process-settle",
            "0.5",
        )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "current -> releases/1.1-b" in result.stdout
    assert "switched blue -> green" in result.stdout
    assert "try-restart example-printer.service" in calls_of(bin_dir), "the others are restarted all the same"
    errors = result.stderr.strip().splitlines()
    assert errors[-1] == (
        "the web switched, but a declared process did not start on this release: "
        "example-worker.service exited at start (exit status 1) and systemd keeps restarting it"
    )
    assert "  django.db.utils.OperationalError: connection failed: Connection refused" in errors
    assert "Traceback" not in result.stderr


def test_process_settle_is_a_number_of_seconds(tmp_path, project_env):
    result = run_project(
        project_env, "deploy", "--root", str(tmp_path), "--switch", "--process-settle", "soon"
    )
    assert result.returncode == 2
    assert "--process-settle: expected a number of seconds, 0 or more, got 'soon'" in result.stderr


#: A settings module of the test project whose processes cannot start: a
#: module that is not there, a command no installed app has.
UNLOADABLE_PROCESSES = """
from tests.testproject.settings import *  # noqa: F403

ZIPSERVE_PROCESSES = {
    "celery": {"module": "celery_is_not_installed", "args": ["worker"]},
    "rq": {"command": ["rqworker", "default"]},
}
"""


@pytest.mark.parametrize(
    ("process", "message"),
    [
        ("celery", "process 'celery' cannot start: no module named 'celery_is_not_installed'"),
        ("rq", "process 'rq' cannot start: no management command 'rqworker' in the project's installed apps"),
    ],
)
def test_run_does_not_report_ready_a_process_it_cannot_load(tmp_path, project_env, process, message):
    """``run`` imports what it runs before READY=1, so that the unit's start
    fails (``systemctl start`` and ``deploy --switch`` see it) instead of
    the process reporting ready and then exiting."""
    (tmp_path / "unloadable_settings.py").write_text(UNLOADABLE_PROCESSES)
    notify_path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        notify.bind(str(notify_path))
        notify.setblocking(False)
        env = dict(
            project_env, PYTHONPATH=f"{tmp_path}:{project_env['PYTHONPATH']}", NOTIFY_SOCKET=str(notify_path)
        )
        result = run_project(env, "run", process, "--settings", "unloadable_settings")
        with pytest.raises(BlockingIOError):
            notify.recv(4096)
    assert result.returncode == 1
    assert result.stderr == f"CommandError: {message}\n"
