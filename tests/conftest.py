"""Shared fixtures: real server processes on loopback ports, a built zipapp.

Every server started here is stopped at the end of its test, its whole
process group killed if it does not stop by itself. Every wait is bounded.
"""

import contextlib
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

REPO = Path(__file__).resolve().parent.parent
TEST_SECRET_KEY = "test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEF"
START_TIMEOUT = 60


def require_tool(available, reason):
    """Skip a test whose tool is missing on a developer's machine; in CI
    (CI=true), where .ci/run installs every tool, a missing one fails."""
    if available:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must install it)")
    pytest.skip(reason)


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
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode} before answering")
        try:
            status, _, _ = http_get(url, timeout=2)
            if status == expect:
                return
            last = status
        except OSError as exc:
            last = exc
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer {expect} within {timeout} s (last: {last})")


class ServerProcess:
    """A server started in its own process group, output kept in a file."""

    def __init__(self, command, env, cwd, log_path, pass_fds=(), preexec_fn=None):
        self.command = [str(part) for part in command]
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.process = subprocess.Popen(
            self.command, env=env, cwd=cwd, stdout=self._log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True, pass_fds=pass_fds, preexec_fn=preexec_fn,
        )

    @property
    def pid(self):
        return self.process.pid

    def output(self):
        self._log.flush()
        return Path(self.log_path).read_text(errors="replace")

    def wait_for_output(self, text, timeout=30, count=1):
        """Wait until ``text`` was printed ``count`` times; bounded."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.output().count(text) >= count:
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"{text!r} (x{count}) not in output:\n{self.output()[-3000:]}")

    def send(self, signum):
        self.process.send_signal(signum)

    def wait(self, timeout=45):
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"server did not exit within {timeout} s:\n{self.output()[-3000:]}") from None

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


@pytest.fixture
def project_env(tmp_path):
    """Environment for the test project: a valid production configuration."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("UWSGI_", "GUNICORN_", "LISTEN_", "DJANGO_"))}
    env.update(
        SECRET_KEY=TEST_SECRET_KEY,
        HTTPS="false",
        STATE_DIR=str(tmp_path / "state"),
        WORKERS="2",
        PYTHONPATH=str(REPO),
        PYTHONUNBUFFERED="1",
        HOME=str(tmp_path / "home"),
    )
    (tmp_path / "home").mkdir()
    return env


@pytest.fixture
def servers(tmp_path):
    """Start servers with ``servers.start(command, env)``; all stopped at the end."""
    started = []

    class Starter:
        def start(self, command, env, cwd=None, **kwargs):
            log = tmp_path / f"server-{len(started)}.log"
            server = ServerProcess(command, env, cwd or REPO, log, **kwargs)
            started.append(server)
            return server

    yield Starter()
    for server in started:
        server.close()


def project_command(*args):
    return [sys.executable, "-m", "tests.testproject", *args]


@pytest.fixture(scope="session")
def shiv_root(tmp_path_factory):
    return tmp_path_factory.mktemp("shiv-root")


@pytest.fixture(scope="session")
def example_pyz(tmp_path_factory):
    """The example project's zipapp: the one ``make pyz`` built when
    ZIPSERVE_TEST_PYZ names it, else built here."""
    given = os.environ.get("ZIPSERVE_TEST_PYZ")
    if given:
        path = Path(given).resolve()
        assert path.is_file(), f"ZIPSERVE_TEST_PYZ names a missing file: {path}"
        return path
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, "-m", "django_zipserve", "build", "--quiet", "--require", str(REPO),
         "--output-dir", str(out)],
        cwd=REPO / "example_project", capture_output=True, text=True, timeout=900,
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


@pytest.fixture(scope="session")
def django_project(tmp_path_factory):
    """Django set up in this process with the test project's settings."""
    import django

    state = tmp_path_factory.mktemp("state")
    os.environ.update(SECRET_KEY=TEST_SECRET_KEY, HTTPS="false", STATE_DIR=str(state),
                      DJANGO_SETTINGS_MODULE="tests.testproject.settings")
    django.setup()
    from django.conf import settings

    return settings


@pytest.fixture
def site(tmp_path, shiv_root, example_pyz):
    """A config file, an environment and a migrated database for the artifact."""
    config = tmp_path / "example.yml"
    config.write_text(
        f"SECRET_KEY: {json.dumps(TEST_SECRET_KEY)}\n"
        "HTTPS: false\n"
        f"STATE_DIR: {json.dumps(str(tmp_path / 'state'))}\n"
        "WORKERS: 2\n"
        "GREETING: Served from one file\n"
    )
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("UWSGI_", "GUNICORN_", "LISTEN_", "DJANGO_", "SECRET_KEY"))}
    env.update(SHIV_ROOT=str(shiv_root), HOME=str(tmp_path), PYTHONUNBUFFERED="1")
    migrate = run_pyz(example_pyz, env, "--config", config, "migrate", "--noinput")
    assert migrate.returncode == 0, migrate.stderr
    return {"pyz": example_pyz, "config": config, "env": env, "cwd": tmp_path}


def run_pyz(pyz, env, *args, timeout=300):
    return subprocess.run([sys.executable, str(pyz), *map(str, args)], env=env, capture_output=True,
                          text=True, timeout=timeout, cwd=os.path.dirname(pyz))


def serve(servers, site, server, *args):
    port = free_port()
    bind = ["--http", f"127.0.0.1:{port}"] if server == "pyuwsgi" else ["--bind", f"127.0.0.1:{port}"]
    command = [sys.executable, site["pyz"], "--config", site["config"], server, *bind, *args]
    process = servers.start(command, site["env"], cwd=site["cwd"])
    base = f"http://127.0.0.1:{port}"
    wait_for_http(f"{base}/", process=process.process)
    return process, base
