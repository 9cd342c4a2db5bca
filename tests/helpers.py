"""What the tests share: real server processes on loopback ports, bounded
waits, a clean environment, and the test configuration class.

Fixtures live in ``conftest.py``; everything here is plain functions and
classes that tests import (``from tests.helpers import ...``).
"""

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from django_zipserve.conf import ConfigError
from tests.testproject.config import Config as ProjectConfig

REPO = Path(__file__).resolve().parent.parent
TEST_SECRET_KEY = "test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEF"
START_TIMEOUT = 60

#: Variables of the developer's or CI's environment that would change what a
#: server or the configuration does: none of them reaches a test process.
FOREIGN_VARIABLES = (
    "UWSGI_",
    "GUNICORN_",
    "LISTEN_",
    "DJANGO_",
    "SHIV_",
    "SECRET_KEY",
    "DATABASE_URL",
    "CREDENTIALS_DIRECTORY",
    "STATE_DIRECTORY",
    "CACHE_DIRECTORY",
    "RUNTIME_DIRECTORY",
    "NOTIFY_SOCKET",
    "ZIPSERVE_",
)


def clean_environ(**overrides):
    """``os.environ`` without the variables that would change a test's
    outcome (the servers', Django's, shiv's and systemd's, and every
    configuration value of the test project), plus ``overrides`` (values
    converted to strings)."""
    fields = {*ProjectConfig.model_fields, "TESTPROJECT_CONFIG"}
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(FOREIGN_VARIABLES)
        and key not in fields
        and key.removesuffix("_FILE") not in fields
    }
    env.update({key: str(value) for key, value in overrides.items()})
    return env


def require_tool(available, reason):
    """Skip a test whose tool is missing on a developer's machine; in CI
    (CI=true), where .ci/run installs every tool, a missing one fails."""
    if available:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must install it)")
    pytest.skip(reason)


def wait_until(condition, timeout=30, interval=0.1, message="condition", process=None):
    """Call ``condition`` until it returns something true, and return that;
    fail after ``timeout`` seconds, or as soon as ``process`` (a Popen) has
    exited. The wait is always bounded."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if process is not None and process.poll() is not None:
            raise AssertionError(f"{message}: the process exited with {process.returncode} first")
        if time.monotonic() >= deadline:
            raise AssertionError(f"{message}: not reached within {timeout} s")
        time.sleep(interval)


def free_port(host="127.0.0.1"):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def http_get(url, timeout=10, headers=None):
    """Return ``(status, headers, body)``; HTTP errors are answers too."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def wait_for_http(url, timeout=START_TIMEOUT, process=None, expect=200):
    """Wait until ``url`` answers ``expect``; bounded."""
    last = []

    def answered():
        try:
            status = http_get(url, timeout=2)[0]
        except OSError as exc:
            status = exc
        last[:] = [status]
        return status == expect

    wait_until(answered, timeout, 0.2, f"{url} answering {expect} (last: {last})", process)


class ServerProcess:
    """A server started in its own process group, output kept in a file."""

    def __init__(self, command, env, cwd, log_path, pass_fds=(), preexec_fn=None):
        self.command = [str(part) for part in command]
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 - kept open for the life of the server
        self.process = subprocess.Popen(
            self.command,
            env=env,
            cwd=cwd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            pass_fds=pass_fds,
            preexec_fn=preexec_fn,
        )

    @property
    def pid(self):
        return self.process.pid

    def output(self):
        self._log.flush()
        return Path(self.log_path).read_text(errors="replace")

    def wait_for_output(self, text, timeout=30, count=1):
        """Wait until ``text`` was printed ``count`` times; bounded."""
        try:
            wait_until(
                lambda: self.output().count(text) >= count, timeout, 0.1, f"{text!r} x{count}", self.process
            )
        except AssertionError as exc:
            raise AssertionError(f"{exc}; output:\n{self.output()[-3000:]}") from None

    def send(self, signum):
        self.process.send_signal(signum)

    def wait(self, timeout=45):
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"server did not exit within {timeout} s:\n{self.output()[-3000:]}"
            ) from None

    def stop(self, signum=signal.SIGTERM, timeout=45):
        if self.process.poll() is None:
            self.send(signum)
        return self.wait(timeout)

    def kill(self):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)

    def close(self):
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=15)
        # Workers of a master that died abruptly may outlive it.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self._log.close()


def process_title(pid):
    """What ps shows for a process: its command line, NULs as spaces; ""
    once it is gone."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def child_pids(pid):
    """The processes whose parent is ``pid``, from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if fields[1] == str(pid):
            found.append(int(stat.parent.name))
    return found


def catches_signal(pid, signum):
    """Whether the process has a handler installed for ``signum`` (SigCgt
    of /proc/PID/status); False once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    caught = next((line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:")), "0")
    return bool(int(caught, 16) >> (signum - 1) & 1)


def wait_for_uwsgi_workers(server, workers, name="testproject", timeout=30):
    """Wait until each of the ``workers`` uWSGI workers of ``server`` has
    finished starting: it has its title (``NAME uWSGI worker N``, set by
    uwsgi_titles after its fork) and catches SIGHUP. uWSGI starts with
    SIGHUP ignored, and a worker installs its graceful handler for it only
    at the end of its start-up (pyuwsgi 2.0.30: uwsgi_setup, then
    uwsgi_worker_run); the SIGHUP the master sends its workers to stop
    (gracefully_kill_them_all) or reload meanwhile is lost, and the master
    then waits for that worker forever. Bounded by ``timeout``."""
    titles = [f"{name} uWSGI worker {number}" for number in range(1, workers + 1)]
    seen = {}

    def all_started():
        seen.clear()
        seen.update({process_title(pid): pid for pid in child_pids(server.pid)})
        return all(title in seen and catches_signal(seen[title], signal.SIGHUP) for title in titles)

    try:
        wait_until(all_started, timeout, 0.05, f"{workers} uWSGI workers catching SIGHUP", server.process)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; children: {sorted(seen)}; output:\n{server.output()[-3000:]}") from None


def project_command(*args):
    """The test project's entry point, run from the source tree."""
    return [sys.executable, "-m", "tests.testproject", *args]


#: Runs a command without the capabilities that let root read any file: the
#: tests run as root, services and administrators do not.
WITHOUT_FILE_PERMISSION_OVERRIDE = ("setpriv", "--bounding-set=-dac_override,-dac_read_search")


def run_project(env, *args, cwd=REPO, timeout=90, prefix=()):
    """Run the test project's entry point with ``args`` to its end (after
    ``prefix``, e.g. WITHOUT_FILE_PERMISSION_OVERRIDE); the completed
    process, output captured as text."""
    return subprocess.run(
        [*prefix, *project_command(*map(str, args))],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def build_artifact(project_dir, output_dir, env=None):
    """Build ``project_dir`` with ``python -m django_zipserve build`` (this
    checkout's django-zipserve bundled into it); the ``.pyz`` path."""
    command = [
        sys.executable,
        "-m",
        "django_zipserve",
        "build",
        "--quiet",
        "--require",
        str(REPO),
        "--output-dir",
        str(output_dir),
    ]
    result = subprocess.run(
        command, cwd=project_dir, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.strip().splitlines()[-1])


def socket_holder(host="127.0.0.1"):
    """A listening socket, as systemd's .socket unit would hold it."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    sock.listen(128)
    return sock


def activated(command, sock):
    """Run ``command`` the way systemd starts a socket-activated service:
    the socket as fd 3, LISTEN_FDS=1 and LISTEN_PID set to the service's
    own pid (a shell sets it, then execs the command, keeping its pid)."""
    fd = sock.fileno()

    def move_socket_to_fd_3():
        os.dup2(fd, 3)
        os.set_inheritable(3, True)

    shell = ["sh", "-c", 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$@"', "sh", *command]
    return shell, {"pass_fds": (3,), "preexec_fn": move_socket_to_fd_3}


@contextlib.contextmanager
def socket_activated(servers, command, env):
    """Start ``command`` on a socket holder's socket and wait until it
    answers there; yields ``(server, base_url)``."""
    sock = socket_holder()
    try:
        shell, extra = activated(command, sock)
        server = servers.start(shell, env, **extra)
        base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        wait_for_http(f"{base}/", process=server.process)
        yield server, base
    finally:
        sock.close()


def run_pyz(pyz, env, *args, timeout=300, cwd=None, prefix=()):
    """Run the artifact ``pyz`` with ``args`` to its end, in ``cwd`` (by
    default the artifact's directory, as an operator runs it) and after
    ``prefix`` (e.g. WITHOUT_FILE_PERMISSION_OVERRIDE); the completed
    process, output captured as text."""
    return subprocess.run(
        [*prefix, sys.executable, str(pyz), *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd or os.path.dirname(pyz),
        check=False,
    )


#: The two servers every server-level test runs against.
SERVERS = ("pyuwsgi", "gunicorn")


def bind_args(server, port):
    return ["--http", f"127.0.0.1:{port}"] if server == "pyuwsgi" else ["--bind", f"127.0.0.1:{port}"]


def raw_get(port, target, timeout=10.0, limit=2_000_000):
    """Send ``GET target`` exactly as given (no client-side normalisation of
    ``..``, ``%2e`` or ``//``) and return ``(status, raw_response_bytes)``.
    Reads until the server closes, at most ``limit`` bytes or ``timeout``."""
    request = (
        f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "User-Agent: zipserve-fault-tests\r\nConnection: close\r\n\r\n"
    ).encode("latin-1")
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
    assert len(parts) >= 2 and parts[0].startswith("HTTP/"), (
        f"not an HTTP answer to {target!r}: {data[:200]!r}"
    )
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


def serve(servers, site, server, *args):
    """Serve the artifact of ``site`` with ``server`` on a free port;
    returns ``(process, base_url)`` once it answers."""
    port = free_port()
    command = [
        sys.executable,
        site["pyz"],
        "--config",
        site["config"],
        server,
        *bind_args(server, port),
        *args,
    ]
    process = servers.start(command, site["env"], cwd=site["cwd"])
    base = f"http://127.0.0.1:{port}"
    wait_for_http(f"{base}/", process=process.process)
    return process, base


#: The example project's own value, shown on its home page.
EXAMPLE_VALUES = {"GREETING": "Served from one file"}


def write_site_config(path, state_dir, **extra):
    """A valid production configuration file: plain HTTP on loopback, state
    in ``state_dir``, two workers, and ``extra`` values (a project's own)."""
    values = {
        "SECRET_KEY": TEST_SECRET_KEY,
        "HTTPS": False,
        "STATE_DIR": str(state_dir),
        "WORKERS": 2,
        **extra,
    }
    path.write_text("".join(f"{key}: {json.dumps(value)}\n" for key, value in values.items()))
    return path


def load(environ, config_file=None, cls=ProjectConfig):
    return cls.from_sources(environ=environ, config_file=config_file)


def failure(environ, config_file=None, cls=ProjectConfig):
    with pytest.raises(ConfigError) as info:
        load(environ, config_file, cls)
    return info.value


def only_problem(error, key):
    matching = [problem for problem in error.problems if problem.key == key]
    assert len(matching) == 1, error.report()
    return matching[0]


def assert_no_secret(error, *secrets):
    text = str(error)
    for secret in secrets:
        assert secret not in text, text
