"""Faults and hostile input: what production throws at a self-serving site.

- a worker killed with SIGKILL while requests pour in (both servers);
- four processes starting the same fresh ``.pyz`` at the same moment;
- slow clients (slowloris) against each server's default set-up;
- fuzzed configuration files and environment values;
- path traversal and source exposure through the static files prefix.

Real servers on 127.0.0.1, real signals, real HTTP over sockets; every loop
is bounded both in iterations and in time. The assertions are about
outcomes (answers, exit statuses, files on disk), with generous timeouts,
because the machine that runs them is shared and noisy.
"""

import http.client
import io
import json
import math
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import tracemalloc
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from django_zipserve.conf import documents as generate
from django_zipserve.conf import sources
from django_zipserve.conf import Field, ZipserveConfig
from django_zipserve.conf.errors import ConfigError, Problem

from tests.helpers import (REPO, TEST_SECRET_KEY, ServerProcess, activated, free_port, project_command, socket_holder,
                       wait_for_http)

SERVERS = ["pyuwsgi", "gunicorn"]


def bind_args(server, port):
    return ["--http", f"127.0.0.1:{port}"] if server == "pyuwsgi" else ["--bind", f"127.0.0.1:{port}"]


def raw_get(port, target, timeout=10.0, limit=2_000_000):
    """Send ``GET target`` exactly as given (no client-side normalisation of
    ``..``, ``%2e`` or ``//``) and return ``(status, raw_response_bytes)``.
    Reads until the server closes, at most ``limit`` bytes or ``timeout``."""
    request = (f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
               "User-Agent: zipserve-fault-tests\r\nConnection: close\r\n\r\n").encode("latin-1")
    deadline = time.monotonic() + timeout
    chunks = []
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        received = 0
        while received < limit:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no complete answer to {target!r} within {timeout} s")
            sock.settimeout(remaining)
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
            received += len(chunk)
    data = b"".join(chunks)
    status_line = data.split(b"\r\n", 1)[0].decode("latin-1")
    parts = status_line.split(" ", 2)
    assert len(parts) >= 2 and parts[0].startswith("HTTP/"), \
        f"not an HTTP answer to {target!r}: {data[:200]!r}"
    return int(parts[1]), data


def request_once(port, path, timeout):
    """One request on a fresh connection: ``(status, body)``; raises OSError
    (timeouts, resets, refused connections) and http.client errors."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Connection": "close"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


# ---------------------------------------------------------------------------
# A worker killed with SIGKILL under load
# ---------------------------------------------------------------------------

class InfoLoad:
    """Concurrent GET /info/ requests on fresh connections, bounded in count
    and in time; each answer records which worker pid served it."""

    def __init__(self, port, threads=4, seconds=5.0, max_requests=3000, timeout=5.0, pause=0.0):
        self.port = port
        self.pause = pause
        self.threads = threads
        self.seconds = seconds
        self.max_requests = max_requests
        self.timeout = timeout
        self.results = []  # (started, finished, pid, ppid, error)
        self._lock = threading.Lock()
        self._workers = []
        self.deadline = None

    def start(self):
        self.deadline = time.monotonic() + self.seconds
        self._workers = [threading.Thread(target=self._run, daemon=True) for _ in range(self.threads)]
        for worker in self._workers:
            worker.start()

    def _run(self):
        while time.monotonic() < self.deadline:
            with self._lock:
                if len(self.results) >= self.max_requests:
                    return
            started = time.monotonic()
            pid = ppid = error = None
            try:
                status, body = request_once(self.port, "/info/", self.timeout)
                if status == 200:
                    answer = json.loads(body)
                    pid, ppid = answer["pid"], answer["ppid"]
                else:
                    error = f"HTTP {status}"
            except (OSError, http.client.HTTPException, ValueError) as exc:
                error = f"{type(exc).__name__}: {exc}"
            with self._lock:
                self.results.append((started, time.monotonic(), pid, ppid, error))
            # A short pause leaves the servers some CPU; a longer one after an
            # error avoids a tight loop against a refusing server. (The count
            # cap stays below the workers' --max-requests of 5000, whose
            # recycling would bring new pids of its own.)
            time.sleep(0.05 if error else self.pause)

    def join(self, timeout):
        end = time.monotonic() + timeout
        for worker in self._workers:
            worker.join(max(0.0, end - time.monotonic()))
        assert not any(worker.is_alive() for worker in self._workers), "load threads did not finish"

    def snapshot(self):
        with self._lock:
            return list(self.results)


def parent_pid(pid):
    """The parent of a live process, from /proc; None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rpartition(")")[2].split()[1])


@pytest.mark.parametrize("server", SERVERS)
def test_worker_killed_under_load_is_replaced_and_service_continues(servers, project_env, server):
    """SIGKILL one of two workers while 4 clients keep requesting: the master
    replaces it, the site keeps answering, and only the requests the dead
    worker held can fail (one with THREADS=1; at most one per client, 4)."""
    port = free_port()
    process = servers.start(project_command(server, *bind_args(server, port)), project_env)
    wait_for_http(f"http://127.0.0.1:{port}/", process=process.process)

    load = InfoLoad(port, threads=4, seconds=5.0, max_requests=4000, pause=0.005)
    load.start()
    # Mid-load (after a second of it), kill a worker that has just answered:
    # with 4 clients and 2 workers, both are busy.
    victim = None
    wait_until = time.monotonic() + 15
    while time.monotonic() < wait_until and victim is None:
        served = [pid for _, _, pid, _, error in load.snapshot() if error is None]
        if time.monotonic() > load.deadline - load.seconds + 1.0 and len(served) >= 30 \
                and (len(set(served)) >= 2 or time.monotonic() > load.deadline - 3):
            victim = served[-1]
        else:
            time.sleep(0.05)
    assert victim is not None, f"no answers under load: {load.snapshot()[-5:]}"
    assert parent_pid(victim) == process.pid, "the pid /info/ reported is a worker of the master we started"
    os.kill(victim, signal.SIGKILL)
    killed_at = time.monotonic()
    load.join(timeout=load.seconds + 3 * load.timeout + 10)
    results = load.snapshot()

    before = {pid for _, finished, pid, _, error in results if error is None and finished < killed_at}
    after = [(started, pid, ppid, error) for started, _, pid, ppid, error in results if started > killed_at]
    # If the load ended before the replacement answered, ask a few more times.
    extra_end = time.monotonic() + 15
    for _ in range(60):
        if {pid for _, pid, _, error in after if error is None} - before - {victim}:
            break
        if time.monotonic() > extra_end:
            break
        started = time.monotonic()
        try:
            status, body = request_once(port, "/info/", 5.0)
            answer = json.loads(body) if status == 200 else {}
            after.append((started, answer.get("pid"), answer.get("ppid"), None if status == 200 else status))
        except (OSError, http.client.HTTPException, ValueError) as exc:
            after.append((started, None, None, repr(exc)))
        time.sleep(0.1)

    failures = [(round(started - killed_at, 2), error) for started, _, _, _, error in results if error]
    ok_after = [(pid, ppid) for _, pid, ppid, error in after if error is None]
    new_pids = {pid for pid, _ in ok_after} - before - {victim}
    summary = (f"{server}: {len(results)} requests under load, {len(failures)} failed "
               f"(seconds after the kill, reason: {failures[:8]}); killed worker {victim}; "
               f"pids before {sorted(before)}, new pids after {sorted(new_pids)}; "
               f"{len(ok_after)} answers after the kill")
    print(summary)
    assert process.process.poll() is None, f"the master died: {summary}\n{process.output()[-3000:]}"
    assert victim not in {pid for pid, _ in ok_after}, f"a killed worker answered: {summary}"
    assert new_pids, f"no replacement worker answered: {summary}\n{process.output()[-3000:]}"
    assert all(ppid == process.pid for pid, ppid in ok_after if pid in new_pids), \
        f"the replacement is not a child of the master: {summary}"
    assert len(ok_after) >= 20, f"too few answers after the kill: {summary}"
    assert len(failures) <= 4, f"more requests failed than the killed worker held: {summary}"
    assert after[-1][3] is None, f"the last request after the kill failed: {summary}"
    assert len(results) >= 100, f"the load was too small to mean anything: {summary}"
    assert len([1 for started, *_ in results if started < killed_at]) >= 30, f"not killed mid-load: {summary}"
    # The master said what happened (and it is the master that respawned).
    if server == "pyuwsgi":
        noticed = f"(pid: {victim}) died, killed by signal 9"
    else:
        noticed = f"(pid:{victim}) was sent SIGKILL"
    process.wait_for_output(noticed, timeout=10)
    assert process.stop() == 0, process.output()[-3000:]


# ---------------------------------------------------------------------------
# Shared by the artifact tests: one migrated site, run from the built .pyz
# ---------------------------------------------------------------------------

def artifact_build_id(pyz):
    with zipfile.ZipFile(pyz) as archive:
        return json.loads(archive.read("environment.json"))["build_id"]


def artifact_environ(**extra):
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("UWSGI_", "GUNICORN_", "LISTEN_", "DJANGO_", "SECRET_KEY", "SHIV_"))}
    env.update(PYTHONUNBUFFERED="1", **extra)
    return env


@pytest.fixture(scope="module")
def artifact_site(tmp_path_factory, shiv_root, example_pyz):
    """A directory as an operator would have it: the .pyz and example.yml side
    by side (the servers' working directory), state elsewhere, migrated."""
    home = tmp_path_factory.mktemp("site")
    pyz = home / example_pyz.name
    shutil.copyfile(example_pyz, pyz)
    config = home / "example.yml"
    config.write_text(
        f"SECRET_KEY: {json.dumps(TEST_SECRET_KEY)}\n"
        "HTTPS: false\n"
        f"STATE_DIR: {json.dumps(str(home / 'state'))}\n"
        "WORKERS: 2\n"
        "GREETING: Served from one file\n"
    )
    env = artifact_environ(SHIV_ROOT=str(shiv_root), HOME=str(home))
    migrate = subprocess.run([sys.executable, str(pyz), "--config", str(config), "migrate", "--noinput"],
                             env=env, cwd=home, capture_output=True, text=True, timeout=300)
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    return SimpleNamespace(pyz=pyz, config=config, env=env, cwd=home)


@pytest.fixture(scope="module", params=SERVERS)
def artifact_server(request, artifact_site, tmp_path_factory):
    """Each server with its default configuration, started from the artifact:
    only the bind address is given (``--http`` / ``--bind``)."""
    name = request.param
    port = free_port()
    log = tmp_path_factory.mktemp(f"log-{name}") / "server.log"
    command = [sys.executable, artifact_site.pyz, "--config", artifact_site.config, name,
               *bind_args(name, port)]
    process = ServerProcess(command, artifact_site.env, artifact_site.cwd, log)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/-/health/", process=process.process)
        yield SimpleNamespace(name=name, port=port, process=process, site=artifact_site)
    finally:
        process.close()


# ---------------------------------------------------------------------------
# Four processes start the same fresh .pyz at once
# ---------------------------------------------------------------------------

@pytest.mark.e2e
def test_concurrent_first_starts_extract_once(tmp_path, example_pyz, artifact_site, servers):
    """A copy of the artifact, an empty SHIV_ROOT, four ``version`` runs
    started together: all succeed, shiv's lock lets exactly one of them
    extract, nothing half-written is left, and the result serves the site."""
    pyz = tmp_path / example_pyz.name
    shutil.copyfile(example_pyz, pyz)
    root = tmp_path / "shiv-root"
    root.mkdir()
    env = artifact_environ(SHIV_ROOT=str(root), HOME=str(tmp_path))
    build_id = artifact_build_id(pyz)

    starts = [subprocess.Popen([sys.executable, str(pyz), "version"], env=env, cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for _ in range(4)]
    outcomes = []
    try:
        for start in starts:
            out, err = start.communicate(timeout=180)
            outcomes.append((start.returncode, out, err))
    finally:
        for start in starts:
            if start.poll() is None:
                start.kill()
                start.wait(timeout=10)
    for returncode, out, err in outcomes:
        assert returncode == 0, err[-3000:]
        assert "Traceback" not in err
        assert f"build {build_id}" in out, out

    extraction = f"{pyz.name}_{build_id}"
    entries = sorted(path.name for path in root.iterdir())
    directories = sorted(path.name for path in root.iterdir() if path.is_dir())
    assert directories == [extraction], f"extractions under SHIV_ROOT: {entries}"
    assert not [name for name in entries if ".tmp" in name], f"leftovers of an extraction: {entries}"
    assert (root / extraction / "site-packages" / "example_project" / "__init__.py").is_file()

    # The extraction they raced for serves the site.
    port = free_port()
    command = [sys.executable, pyz, "--config", artifact_site.config, "pyuwsgi", *bind_args("pyuwsgi", port)]
    process = servers.start(command, env, cwd=tmp_path)
    wait_for_http(f"http://127.0.0.1:{port}/", process=process.process)
    status, body = request_once(port, "/", 10)
    assert status == 200 and b"Served from one file" in body
    assert process.stop() == 0, process.output()[-3000:]
    assert sorted(path.name for path in root.iterdir() if path.is_dir()) == [extraction]


# ---------------------------------------------------------------------------
# Slow clients
# ---------------------------------------------------------------------------

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
    dripper = threading.Thread(target=drip_slow_clients, args=(sockets, stop, SLOW_SECONDS, closed_by_server),
                               daemon=True)
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
    record = (f"{name}: {len(served)}/{len(attempts)} normal requests answered "
              f"within {PROMPT} s "
              f"while {SLOW_CLIENTS} slow clients dripped headers ({attempts}); slow connections the server "
              f"closed: {closed_by_server}; still open at the end: {still_open}; served again "
              f"{recovery} s after the slow clients left")
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


# ---------------------------------------------------------------------------
# Path traversal and source exposure through the servers
# ---------------------------------------------------------------------------

def hostile_paths(pyz_name, config_name):
    return [
        "/static/../settings.py",
        "/static/%2e%2e/%2e%2e/example_project/settings.py",
        "/static/%2E%2E/%2E%2E/%2E%2E/%2E%2E/etc/passwd",
        "/static/..%2fsettings.py",
        "/static/..%2f..%2fexample_project%2fsettings.py",
        "/static/..%5c..%5cexample_project%5csettings.py",
        "/static/..\\..\\example_project\\settings.py",
        "/static/example_project/../../../../etc/passwd",
        "/static/example_project/../../settings.py",
        "/static/example_project/%2e%2e/%2e%2e/settings.py",
        "/static/example_project/settings.py",
        "/static/example_project/__init__.py",
        "/static/example_project/settings.pyc",
        "/static/settings.py",
        "/static/%00",
        "/static/example_project/site.css%00.py",
        "//etc/passwd",
        "/../../../../etc/passwd",
        "/example_project/settings.py",
        "/settings.py",
        "/__main__.py",
        "/environment.json",
        "/static/environment.json",
        f"/{config_name}",
        f"/static/{config_name}",
        f"/static/../{config_name}",
        f"/{pyz_name}",
        f"/static/{pyz_name}",
        f"/static/../{pyz_name}",
        f"/static/../../{pyz_name}",
    ]


def assert_nothing_leaked(target, raw):
    body = raw.partition(b"\r\n\r\n")[2]
    for fragment in (TEST_SECRET_KEY.encode(), b"SECRET_KEY", b"root:x:0:0", b"PK\x03\x04",
                     b"import ", b"def ", b"ZipserveConfig", b"Served from one file"):
        assert fragment not in body, f"{target!r} answered with {fragment!r}: {raw[:300]!r}"


@pytest.mark.e2e
def test_static_prefix_serves_no_source_config_or_artifact(artifact_server):
    """Traversal and source exposure, sent byte for byte over a socket: each
    path answers 404 (or 400 when a server rejects it as malformed), never
    200, and no answer carries the secret key, Python source, the config
    file or the zipapp. ``example.yml`` and the ``.pyz`` sit in the servers'
    working directory, the sources in the extraction under SHIV_ROOT."""
    site = artifact_server.site
    assert (site.cwd / site.config.name).is_file() and (site.cwd / site.pyz.name).is_file()
    answers = {}
    for target in hostile_paths(site.pyz.name, site.config.name):
        status, raw = raw_get(artifact_server.port, target)
        answers[target] = status
        assert_nothing_leaked(target, raw)
    print(f"{artifact_server.name}: {answers}")
    wrong = {target: status for target, status in answers.items() if status not in (400, 404)}
    assert not wrong, f"{artifact_server.name}: expected 404 (or 400) for each, got {wrong}"

    # Control: the prefix does serve collected files, so the 404s above are
    # not just a dead prefix.
    status, raw = raw_get(artifact_server.port, "/static/example_project/site.css")
    assert status == 200 and b"text/css" in raw.partition(b"\r\n\r\n")[0]

    # The manifest collectstatic writes is served by WhiteNoise like any
    # collected file. It is public by design (it maps each static name to
    # its hashed name, all of them public already), holds no secret and no
    # source; noted here so that a change is noticed.
    status, raw = raw_get(artifact_server.port, "/static/staticfiles.json")
    assert status == 200, status
    assert_nothing_leaked("/static/staticfiles.json", raw)
    manifest = json.loads(raw.partition(b"\r\n\r\n")[2])
    assert "example_project/site.css" in manifest["paths"]
    assert not [name for name in manifest["paths"] if name.endswith((".py", ".pyc", ".yml", ".pyz"))]


# ---------------------------------------------------------------------------
# Configuration fuzzing
# ---------------------------------------------------------------------------

class FuzzConfig(ZipserveConfig):
    """Mirrors tests.testproject.settings.Config (importing that module would
    load and validate the process's own configuration)."""

    model_config = {"file_env_var": "TESTPROJECT_CONFIG"}
    name = "testproject"
    MARKER: str = Field(default="unset", description="Echoed by /info/ to show which config was read.")
    API_TOKEN: SecretStr | None = Field(default=None, description="A project secret.")


FIELDS = list(FuzzConfig.model_fields)
SECRET_FIELDS = [name for name in FIELDS if sources.is_secret(FuzzConfig.model_fields[name])]
PLAIN_FIELDS = [name for name in FIELDS if name not in SECRET_FIELDS]
EXTENSIONS = [".yaml", ".yml", ".json", ".toml"]

# Values that are close to valid ones, so that the fuzzing reaches validation
# and the checks across fields, not only the type errors.
PLAUSIBLE = [
    "", " ", "0", "1", "-1", "2", "16", "99999999999999999999999", "1.5", "1e3", "nan", "inf",
    "true", "false", "True", "yes", "no", "on", "null", "none", "~",
    "[]", "[", "]", "[1, 2]", '["a", 1]', '["a", "b"]', '{"a": 1}', "a,b", ",", " , ",
    "INFO", "debug", "DEBUG", "WARNING", "127.0.0.1:8000", "unix:/run/x.sock", ":0",
    "/tmp/state", "relative/dir", "~/state", "sqlite://", "sqlite:///:memory:", "postgres://h/db",
    "mysql://u:p@h/db", "oracle://h/db", "nosuchscheme://x", "://", "http://[::1", "localhost",
]

text_values = st.text(st.characters(blacklist_categories=("Cs",)), max_size=24)
env_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=24)
env_values = st.one_of(st.sampled_from(PLAUSIBLE), env_text)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(-3, 20), st.floats(),
    text_values, st.sampled_from(PLAUSIBLE),
)
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text_values, children, max_size=3),
    max_leaves=8,
)
keys = st.one_of(
    st.sampled_from(FIELDS),
    st.sampled_from(FIELDS).map(str.lower),
    st.sampled_from(FIELDS).map(str.title),
    st.sampled_from(FIELDS).map(lambda name: f" {name}"),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=12),
)
documents = st.dictionaries(keys, values, max_size=7)
mutations = st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 3), st.binary(max_size=3)), max_size=3)


def secret_token(label):
    """A value that cannot turn up in a report by chance."""
    return f"zz{label}{secrets.token_hex(10)}zz"


def toml_string(text):
    # JSON's escapes are valid TOML basic-string escapes; DEL must be escaped.
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value if item is not None) + "]"
    if isinstance(value, dict):
        pairs = (f"{toml_string(str(key))} = {toml_value(item)}"
                 for key, item in value.items() if item is not None)
        return "{" + ", ".join(pairs) + "}"
    raise TypeError(type(value))


def serialise(document, extension):
    if extension == ".json":
        return json.dumps(document)
    if extension == ".toml":
        return "".join(f"{toml_string(str(key))} = {toml_value(value)}\n"
                       for key, value in document.items() if value is not None)
    from ruamel.yaml import YAML

    stream = io.StringIO()
    YAML(typ="safe", pure=True).dump(document, stream)
    return stream.getvalue()


def mutate(data, edits):
    for position, delete, insert in edits:
        position = position % (len(data) + 1)
        data = data[:position] + insert + data[position + delete:]
    return data


def check_outcome(path, environ, secret_values):
    """The property: loads, or raises ConfigError whose every problem names
    a field or the file, and nothing says a secret. Returns the error."""
    try:
        config = FuzzConfig.from_sources(environ=environ, config_file=str(path))
    except ConfigError as error:
        report = str(error)
        assert error.problems, report
        assert report.startswith("testproject: invalid configuration")
        for secret in secret_values:
            assert secret not in report, f"a secret is in the report:\n{report}"
        for problem in error.problems:
            assert isinstance(problem, Problem)
            assert problem.message, problem
            if problem.key in FIELDS:
                assert problem.where, problem
            else:
                assert str(path) in problem.where, f"names neither a field nor the file: {problem}"
            assert str(problem) in report
        return error
    assert isinstance(config, FuzzConfig)
    shown = generate.show(config)
    for secret in secret_values:
        assert secret not in shown and secret not in repr(config) and secret not in str(config)
    if "SECRET_KEY" in environ:
        assert config.SECRET_KEY.get_secret_value() == environ["SECRET_KEY"], "the environment wins"
    return None


@pytest.fixture
def clean_sources(monkeypatch):
    """from_sources must read what it is given: no --config file or
    describing command left over from another test in this process."""
    monkeypatch.setattr(sources, "_command_line_file", None)
    monkeypatch.setattr(sources, "_defaults_only", False)


def fuzz_settings(examples):
    # No example database: a failure prints its example instead of storing it.
    return settings(max_examples=examples, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def test_config_fuzz_documents_and_environment(tmp_path, clean_sources):
    """Random documents (keys from the real field names, their case variants
    and random text; values of every type) as YAML, JSON or TOML, sometimes
    mutated byte by byte, with random environment values: never a
    traceback, never a secret in the report. Then a few of the failing cases
    go through the real entry point: exit status 2, no traceback."""
    failing, loaded = [], []
    counter = iter(range(10**6))

    @fuzz_settings(400)
    @given(document=documents, extension=st.sampled_from(EXTENSIONS),
           edits=st.one_of(st.just([]), mutations),
           environment=st.dictionaries(st.sampled_from(PLAIN_FIELDS), env_values, max_size=4),
           file_secrets=st.lists(st.sampled_from(SECRET_FIELDS), unique=True),
           database_url=st.sampled_from([None, "postgres://u:{}@h/db", "nosuch://u:{}@h/db", "{}",
                                         "sqlite:///{}"]),
           file_var=st.sampled_from([None, "SECRET_KEY_FILE", "API_TOKEN_FILE", "DATABASE_URL_FILE"]))
    def check(document, extension, edits, environment, file_secrets, database_url, file_var):
        secret_key, api_token, in_file, in_url = map(secret_token, ("key", "tok", "file", "url"))
        document = dict(document)
        for name in file_secrets:  # secrets inside the file, next to whatever breaks it
            document[name] = in_file
        data = mutate(serialise(document, extension).encode("utf-8"), edits)
        path = tmp_path / f"case-{next(counter)}{extension}"
        path.write_bytes(data)
        environ = dict(environment, SECRET_KEY=secret_key, API_TOKEN=api_token)
        if database_url:
            environ["DATABASE_URL"] = database_url.format(in_url)
        if file_var:
            environ[file_var] = str(tmp_path / "no-such-secret-file")
        error = check_outcome(path, environ, (secret_key, api_token, in_file, in_url))
        if error is None:
            loaded.append(extension)
        elif len(failing) < 200:
            kinds = frozenset(problem.message.split(":")[0][:30] for problem in error.problems)
            failing.append((kinds, data, extension, environ, (secret_key, api_token, in_file, in_url),
                            str(error).replace(str(path), "{path}")))

    check()
    examples = next(counter)
    assert examples >= 200, f"only {examples} documents were tried"
    assert failing, "the fuzzing produced no invalid configuration at all"
    assert loaded, "no document loaded: the fuzzing never reached a valid configuration"

    # Five failing cases with different problems, through the real process.
    chosen, seen = [], set()
    for case in failing:
        if case[0] not in seen:
            seen.add(case[0])
            chosen.append(case)
    chosen = (chosen + [case for case in failing if case not in chosen])[:5]
    base = {key: value for key, value in os.environ.items()
            if key not in FIELDS and not key.endswith("_FILE")
            and not key.startswith(("DJANGO_", "TESTPROJECT_"))
            and key not in ("CREDENTIALS_DIRECTORY", "STATE_DIRECTORY")}
    base.update(PYTHONPATH=str(REPO), HOME=str(tmp_path), PYTHONUNBUFFERED="1")
    runs = []
    for index, (_, data, extension, environ, secret_values, report) in enumerate(chosen):
        path = tmp_path / f"replay-{index}{extension}"
        path.write_bytes(data)
        command = project_command("--config", path, "config", "check")
        runs.append((subprocess.Popen(command, env=dict(base, **environ), cwd=REPO,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE),
                     secret_values, report.replace("{path}", str(path))))
    for run, secret_values, report in runs:
        try:
            out, err = (stream.decode("utf-8", "replace") for stream in run.communicate(timeout=120))
        finally:
            if run.poll() is None:
                run.kill()
                run.wait(timeout=10)
        assert run.returncode == 2, f"exit {run.returncode}:\n{err[-3000:]}"
        assert "Traceback" not in err and "Traceback" not in out, err[-3000:]
        assert err.startswith("testproject: invalid configuration"), err[-3000:]
        assert err.rstrip("\n") == report, "the process reports what from_sources reported"
        for secret in secret_values:
            assert secret not in err and secret not in out


def test_config_fuzz_random_files(tmp_path, clean_sources):
    """Random bytes and random text in files with a config extension."""

    @fuzz_settings(600)
    @given(content=st.one_of(st.binary(max_size=300),
                             st.text(max_size=300).map(lambda text: text.encode("utf-8", "surrogatepass"))),
           extension=st.sampled_from(EXTENSIONS))
    def check(content, extension):
        tried.append(extension)
        path = tmp_path / f"random{extension}"
        path.write_bytes(content)
        secret_key, api_token = secret_token("key"), secret_token("tok")
        check_outcome(path, {"SECRET_KEY": secret_key, "API_TOKEN": api_token}, (secret_key, api_token))

    tried = []
    check()
    assert len(tried) >= 300 and set(tried) == set(EXTENSIONS), f"{len(tried)} files tried"


def nested(extension, depth):
    inner = "[" * depth + "]" * depth
    texts = {".json": f'{{"MARKER": {inner}}}', ".yaml": f"MARKER: {inner}\n", ".toml": f"MARKER = {inner}\n"}
    return texts[extension]


@pytest.mark.parametrize("extension", [".json", ".yaml", ".toml"])
def test_deeply_nested_file_is_a_config_error(tmp_path, clean_sources, extension):
    """A file of a few kB that nests lists deeper than the parsers recurse
    must be reported like any other malformed file, not as a RecursionError
    traceback."""
    path = tmp_path / f"deep{extension}"
    path.write_text(nested(extension, 3000 if extension == ".json" else 1000))
    with pytest.raises(ConfigError) as caught:
        FuzzConfig.from_sources(environ={"SECRET_KEY": secret_token("key")}, config_file=str(path))
    assert all(str(path) in problem.where for problem in caught.value.problems)


def test_yaml_alias_expansion_does_not_blow_up_the_report(tmp_path, clean_sources):
    """A 'billion laughs' file, kept small here (5 levels, 10**5 items of 40
    characters, 0.6 kB on disk): reporting the bad MARKER must not cost
    memory in proportion to the expanded value (a full repr is 4.4 MB and
    peaked at 7 MB before the report used a bounded repr)."""
    warm_up = tmp_path / "warm-up.yaml"
    warm_up.write_text("MARKER: [1, 2]\n")  # imports the parser outside the measurement
    with pytest.raises(ConfigError):
        FuzzConfig.from_sources(environ={"SECRET_KEY": secret_token("key")}, config_file=str(warm_up))
    lines = ["l0: &l0 [" + ", ".join(["x" * 40] * 10) + "]"]
    for level in range(1, 5):
        lines.append(f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 10) + "]")
    lines.append("MARKER: *l4")
    path = tmp_path / "laughs.yaml"
    path.write_text("\n".join(lines) + "\n")
    tracemalloc.start()
    try:
        with pytest.raises(ConfigError) as caught:
            FuzzConfig.from_sources(environ={"SECRET_KEY": secret_token("key")}, config_file=str(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    marker = [problem for problem in caught.value.problems if problem.key == "MARKER"]
    # Bounded, whatever the expansion (reprlib's limits allow a couple of kB).
    assert marker and len(str(marker[0])) < 4000, caught.value.report()[-2000:]
    assert peak < 1_000_000, f"reporting on a {path.stat().st_size}-byte file took {peak / 1e6:.1f} MB"
