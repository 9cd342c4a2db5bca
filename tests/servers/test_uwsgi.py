"""``manage.py pyuwsgi``: argument merging, and the real server under signals."""

import http.client
import os
import signal
import sys
import threading
import types

import pytest

from django_zipserve.servers import uwsgi
from tests.helpers import (
    free_port,
    http_get,
    project_command,
    run_project,
    socket_activated,
    socket_holder,
    wait_for_http,
    wait_for_uwsgi_workers,
    wait_until,
)
from tests.servers.support import served_marker

CONF = types.SimpleNamespace(
    ZIPSERVE_BIND="127.0.0.1:8123",
    ZIPSERVE_WORKERS=3,
    ZIPSERVE_THREADS=2,
    ZIPSERVE_TIMEOUT=25,
    ZIPSERVE_NAME="testproject",
    WSGI_APPLICATION="demo.wsgi.application",
)


def options(args):
    """Option name -> list of values, from a uWSGI argument list."""
    found = {}
    for arg in args:
        name, _, value = arg.lstrip("-").partition("=")
        found.setdefault(name, []).append(value)
    return found


class TestBuildArgs:
    def test_production_defaults_and_config_values(self):
        args = options(uwsgi.build_args([], CONF, environ={}))
        for flag in ("master", "strict", "need-app", "die-on-term", "enable-threads", "vacuum"):
            assert flag in args, flag
        assert args["binary-path"] == [sys.executable]
        assert args["processes"] == ["3"]
        assert args["threads"] == ["2"]
        assert args["harakiri"] == ["25"]
        assert args["module"] == ["demo.wsgi:application"]
        assert args["http"] == ["127.0.0.1:8123"]
        assert int(args["buffer-size"][0]) >= 32768

    def test_user_option_replaces_default_in_any_spelling(self):
        for given in (["--processes", "7"], ["--processes=7"], ["-p", "7"], ["--workers", "7"]):
            args = uwsgi.build_args(given, CONF, environ={})
            assert "--processes=3" not in args, given
            assert args[-len(given) :] == given, "user arguments come last, unchanged"

    def test_any_socket_option_replaces_the_bind_default(self):
        socket_options = (
            ["--http-socket", ":9000"],
            ["--socket=/tmp/x.sock"],
            ["-s", ":9000"],
            ["--https", "x"],
        )
        for given in socket_options:
            args = options(uwsgi.build_args(given, CONF, environ={}))
            assert "127.0.0.1:8123" not in args.get("http", []), given

    def test_connection_close_unless_the_operator_keeps_connections_alive(self):
        assert options(uwsgi.build_args([], CONF, environ={}))["add-header"] == ["Connection: close"]
        own = options(uwsgi.build_args(["--add-header", "X-Site: a"], CONF, environ={}))
        assert own["add-header"][0] == "Connection: close"  # and the operator's after it
        for given in (["--http-keepalive"], ["--http-keepalive=1"], ["--http11-socket", ":9000"]):
            assert "add-header" not in options(uwsgi.build_args(given, CONF, environ={})), given

    def test_app_option_replaces_the_module_default(self):
        args = options(uwsgi.build_args(["--wsgi-file", "app.py"], CONF, environ={}))
        assert "module" not in args

    def test_ini_file_options_count_as_given(self, tmp_path):
        ini = tmp_path / "uwsgi.ini"
        ini.write_text("[uwsgi]\nhttp-socket = :9001\nprocesses = 9\n")
        merged = uwsgi.build_args(["--ini", str(ini)], CONF, environ={})
        args = options(merged)
        assert "http" not in args
        assert "processes" not in args
        assert merged[-2:] == ["--ini", str(ini)]

    def test_uwsgi_environment_variables_count_as_given(self):
        args = options(uwsgi.build_args([], CONF, environ={"UWSGI_PROCESSES": "5", "UWSGI_HTTP": ":1"}))
        assert "processes" not in args
        assert "http" not in args

    def test_socket_activation_speaks_http_on_the_inherited_socket(self):
        environ = {"LISTEN_FDS": "1", "LISTEN_PID": str(os.getpid())}
        args = options(uwsgi.build_args([], CONF, environ=environ))
        assert args["protocol"] == ["http"]
        assert "http" not in args

    def test_socket_activation_for_another_process_is_ignored(self):
        args = options(uwsgi.build_args([], CONF, environ={"LISTEN_FDS": "1", "LISTEN_PID": "1"}))
        assert "protocol" not in args
        assert args["http"] == ["127.0.0.1:8123"]

    def test_inherited_sockets_are_named_again_after_a_reload(self):
        with socket_holder() as sock:
            fd = sock.fileno()
            environ = {uwsgi.INHERITED_FDS_ENV: f"{os.getpid()}:{fd}"}
            # uWSGI has unset LISTEN_FDS; it re-executed us as the same pid
            # and takes the socket up again by its address.
            args = options(uwsgi.build_args([], CONF, environ=environ))
            assert args["protocol"] == ["http"]
            assert args["socket"] == [f"127.0.0.1:{sock.getsockname()[1]}"]
            assert "http" not in args

    def test_inherited_sockets_are_remembered_for_the_reload(self):
        environ = {"LISTEN_FDS": "2", "LISTEN_PID": str(os.getpid())}
        uwsgi.remember_inherited_sockets(environ)
        assert environ[uwsgi.INHERITED_FDS_ENV] == f"{os.getpid()}:3,4"

    def test_a_remembered_socket_of_another_process_is_ignored(self):
        environ = {uwsgi.INHERITED_FDS_ENV: "1:3"}
        assert uwsgi.inherited_fds(environ) == []
        assert options(uwsgi.build_args([], CONF, environ=environ))["http"] == ["127.0.0.1:8123"]

    def test_unix_socket_addresses(self, tmp_path):
        import socket

        with socket.socket(socket.AF_UNIX) as path_sock, socket.socket(socket.AF_UNIX) as abstract:
            path_sock.bind(str(tmp_path / "web.sock"))
            abstract.bind(f"\0zipserve-test-{os.getpid()}")
            assert uwsgi.socket_address(path_sock.fileno()) == str(tmp_path / "web.sock")
            assert uwsgi.socket_address(abstract.fileno()) == f"@zipserve-test-{os.getpid()}"

    def test_ipv6_socket_address(self):
        try:
            sock = socket_holder("::1")
        except OSError:
            pytest.skip("no IPv6 loopback")
        with sock:
            assert uwsgi.socket_address(sock.fileno()) == f"[::1]:{sock.getsockname()[1]}"

    def test_graceful_stop_hooks_stay_when_user_adds_hooks(self):
        args = options(uwsgi.build_args(["--hook-master-start=print:hi"], CONF, environ={}))
        assert "unix_signal:15 gracefully_kill_them_all" in args["hook-master-start"]
        assert "print:hi" in args["hook-master-start"]


def workers_started(server, project_env):
    """Before a signal: a worker still starting loses the one the master
    forwards (see wait_for_uwsgi_workers)."""
    wait_for_uwsgi_workers(server, int(project_env["WORKERS"]))


def start(servers, project_env, *extra, port=None):
    port = port or free_port()
    server = servers.start(project_command("pyuwsgi", "--http", f"127.0.0.1:{port}", *extra), project_env)
    wait_for_http(f"http://127.0.0.1:{port}/", process=server.process)
    return server, f"http://127.0.0.1:{port}"


def request_in_background(url):
    result = {}

    def run():
        try:
            result["answer"] = http_get(url, timeout=30)
        except OSError as exc:
            result["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread, result


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_gracefully_finishing_requests_in_flight(servers, project_env, signum):
    server, base = start(servers, project_env)
    workers_started(server, project_env)
    thread, result = request_in_background(f"{base}/slow/?s=2")
    server.wait_for_output("slow request started")
    server.send(signum)
    assert server.wait(timeout=30) == 0
    thread.join(timeout=30)
    assert result.get("answer", (None,))[0] == 200, result
    assert b"slept" in result["answer"][2]


def test_sighup_reloads_from_the_same_command_line(servers, project_env, tmp_path):
    config = tmp_path / "config.yml"
    config.write_text("MARKER: first\n")
    port = free_port()
    command = project_command("--config", config, "pyuwsgi", "--http", f"127.0.0.1:{port}")
    server = servers.start(command, project_env)
    base = f"http://127.0.0.1:{port}"
    wait_for_http(f"{base}/", process=server.process)
    assert served_marker(base) == "first"
    config.write_text("MARKER: second\n")
    server.send(signal.SIGHUP)
    server.wait_for_output("binary reloading uWSGI")
    # The process must not exit: the master re-executes in place (same pid).
    wait_until(
        lambda: served_marker(base) == "second", 60, 0.3, "the reloaded master serving", server.process
    )
    workers_started(server, project_env)  # the reloaded workers, as after a first start
    assert server.stop() == 0


def test_socket_activation(servers, project_env):
    with socket_activated(servers, project_command("pyuwsgi"), project_env) as (server, base):
        status, _, body = http_get(f"{base}/")
        assert (status, body) == (200, b"hello")
        assert "attached to INET address 127.0.0.1" in server.output()
        # A worker still starting up loses the signal the master forwards,
        # and the stop or reload then waits for it forever (uWSGI 2.0.30; 2
        # lost of 8 within ~0.1 s of the first answer). Every worker first.
        workers_started(server, project_env)
        assert server.stop() == 0


def test_reload_under_socket_activation_keeps_the_inherited_socket(servers, project_env):
    """``systemctl reload`` sends SIGHUP: the master re-executes itself, and
    the new one must serve on the socket systemd passed, not on BIND."""
    with socket_activated(servers, project_command("pyuwsgi"), project_env) as (server, base):
        workers_started(server, project_env)
        server.send(signal.SIGHUP)
        server.wait_for_output("binary reloading uWSGI")
        address = base.removeprefix("http://")
        server.wait_for_output(f"inherited INET address {address} fd 3", timeout=60)
        wait_for_http(f"{base}/", process=server.process)
        assert http_get(f"{base}/")[0] == 200
        assert "bound on" not in server.output()
        workers_started(server, project_env)
        assert server.stop() == 0


@pytest.mark.parametrize("socket_option", ["--http", "--http-socket"])
def test_a_client_reusing_its_connection_is_told_to_open_a_new_one(servers, project_env, socket_option):
    """uWSGI closes after each response: without ``Connection: close`` a
    keep-alive client's second request on the connection met a reset."""
    port = free_port()
    server = servers.start(
        project_command("pyuwsgi", socket_option, f"127.0.0.1:{port}", "--add-header", "X-Site: test"),
        project_env,
    )
    wait_for_http(f"http://127.0.0.1:{port}/", process=server.process)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for _ in range(3):
        connection.request("GET", "/")
        response = connection.getresponse()
        assert (response.status, response.read()) == (200, b"hello")
        # the operator's own header is added beside ours
        assert (response.getheader("Connection"), response.getheader("X-Site")) == ("close", "test")
        # as a keep-alive client does: a connection the server closes is not reused
        assert response.will_close
    connection.close()
    workers_started(server, project_env)
    assert server.stop() == 0


def test_django_global_options_do_not_reach_uwsgi(servers, project_env):
    port = free_port()
    command = project_command(
        "pyuwsgi",
        "--settings",
        "tests.testproject.settings",
        f"--pythonpath={project_env['PYTHONPATH']}",
        "--http",
        f"127.0.0.1:{port}",
    )
    server = servers.start(command, project_env)
    wait_for_http(f"http://127.0.0.1:{port}/", process=server.process)
    # --strict would have rejected an unknown option.
    assert "unrecognized option" not in server.output()
    workers_started(server, project_env)
    assert server.stop() == 0


def test_unknown_option_is_rejected_by_strict_mode(servers, project_env):
    server = servers.start(project_command("pyuwsgi", "--no-such-option", "1"), project_env)
    assert server.wait(timeout=60) != 0
    assert "no-such-option" in server.output()


def test_help_explains_defaults(project_env):
    result = run_project(project_env, "pyuwsgi", "--help")
    assert result.returncode == 0
    assert "--die-on-term" in result.stdout
    assert "--server-help" in result.stdout
    assert "BIND" in result.stdout
