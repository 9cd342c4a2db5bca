"""``manage.py gunicorn`` behaves as plain gunicorn for gunicorn's own
options: --check-config, --print-config, --daemon, a config file's
``wsgi_app`` and ``pythonpath``, a positional APP_MODULE. Real processes."""

import contextlib
import os
import re
import signal
import socket
import threading

from tests.helpers import (
    free_port,
    http_get,
    project_command,
    wait_for_http,
    wait_until,
)

OTHER_APP = "tests.servers.other_app:application"
BROKEN_APP = "tests.servers.no_such_module:application"
#: Start-up (Django, system checks, warm-up) on a busy 2-core machine.
EXIT_TIMEOUT = 60


def nothing_listens(port):
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def run_to_exit(servers, env, *args):
    """Run ``gunicorn ARGS``, which must exit by itself; return (status, output, port)."""
    port = free_port()
    server = servers.start(project_command("gunicorn", "--bind", f"127.0.0.1:{port}", *args), env)
    status = server.wait(timeout=EXIT_TIMEOUT)
    return status, server.output(), port


def test_check_config_checks_and_exits_without_serving(servers, project_env):
    status, output, port = run_to_exit(servers, project_env, "--check-config")
    assert status == 0, output[-3000:]
    assert "Listening at" not in output and "Booting worker" not in output
    assert nothing_listens(port)


def test_check_config_fails_on_an_application_that_cannot_load(servers, project_env):
    status, output, _ = run_to_exit(servers, project_env, "--check-config", BROKEN_APP)
    assert status != 0
    assert "Error while loading the application" in output, output[-3000:]
    assert "Listening at" not in output


def setting_line(name, value):
    return re.compile(rf"^{name}\s+= {re.escape(str(value))}$", re.MULTILINE)


def test_print_config_shows_our_defaults_and_the_operators_overrides(servers, project_env):
    status, output, _ = run_to_exit(servers, project_env, "--print-config", "--max-requests-jitter", "7")
    assert status == 0, output[-3000:]
    assert setting_line("max_requests", 5000).search(output), "our default"
    assert setting_line("max_requests_jitter", 7).search(output), "the operator's value wins"
    assert setting_line("wsgi_app", "tests.testproject.wsgi:application").search(output)
    assert setting_line("workers", 2).search(output), "WORKERS from the configuration"
    assert "Listening at" not in output


def serve_with_config_file(servers, env, tmp_path, settings, *args):
    """Start gunicorn with ``-c`` a config file that binds a free port, runs
    one worker and holds ``settings`` (Python source); return (server, url)
    once it answers."""
    port = free_port()
    conf_file = tmp_path / "gunicorn.conf.py"
    conf_file.write_text(f"bind = ['127.0.0.1:{port}']\nworkers = 1\n{settings}")
    server = servers.start(project_command("gunicorn", "-c", conf_file, *args), env)
    base = f"http://127.0.0.1:{port}"
    wait_for_http(f"{base}/", process=server.process)
    return server, base


def test_config_file_wsgi_app_is_served(servers, project_env, tmp_path):
    server, base = serve_with_config_file(servers, project_env, tmp_path, f"wsgi_app = {OTHER_APP!r}\n")
    assert http_get(f"{base}/")[2] == b"other app"
    assert server.stop() == 0


def test_positional_app_module_is_served(servers, project_env, tmp_path):
    server, base = serve_with_config_file(servers, project_env, tmp_path, "", OTHER_APP)
    assert http_get(f"{base}/")[2] == b"other app"
    assert server.stop() == 0


def test_config_file_pythonpath_is_applied(servers, project_env, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "elsewhere_app.py").write_text(
        "def application(environ, start_response):\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
        "    return [b'from pythonpath']\n"
    )
    settings = f"pythonpath = {str(elsewhere)!r}\n"
    server, base = serve_with_config_file(
        servers, project_env, tmp_path, settings, "elsewhere_app:application"
    )
    assert http_get(f"{base}/")[2] == b"from pythonpath"
    assert server.stop() == 0


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_daemon_detaches_and_serves(servers, project_env, tmp_path):
    pid_file = tmp_path / "gunicorn.pid"
    status, output, port = run_to_exit(servers, project_env, "--daemon", "--pid", pid_file, "-w", "1")
    assert status == 0, output[-3000:]
    pid = int(wait_until(lambda: pid_file.exists() and pid_file.read_text().strip(), 30, 0.1, "pid file"))
    try:
        wait_for_http(f"http://127.0.0.1:{port}/")
        assert http_get(f"http://127.0.0.1:{port}/")[2] == b"hello"
        os.kill(pid, signal.SIGTERM)
        wait_until(lambda: not alive(pid), 30, 0.1, "the daemon stopping")
        assert not pid_file.exists(), "gunicorn removes its pid file on a clean stop"
    finally:
        if alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def test_operators_on_starting_hook_runs_and_sigint_stays_graceful(servers, project_env, tmp_path):
    hook = "def on_starting(server):\n    print('operator on_starting ran', flush=True)\n"
    server, base = serve_with_config_file(servers, project_env, tmp_path, hook)
    assert "operator on_starting ran" in server.output()
    result = {}
    thread = threading.Thread(target=lambda: result.update(answer=http_get(f"{base}/slow/?s=2", timeout=30)))
    thread.start()
    server.wait_for_output("slow request started")
    server.send(signal.SIGINT)
    assert server.wait(timeout=30) == 0
    thread.join(timeout=30)
    assert result["answer"][0] == 200, "SIGINT let the request in flight finish"


def test_hup_reloads_the_configuration_with_the_same_arguments(servers, project_env, tmp_path):
    """HUP calls gunicorn's reload(), which loads the configuration again:
    our argument list must be fed again, and sys.argv still be the operator's."""
    port = free_port()
    conf_file = tmp_path / "gunicorn.conf.py"
    conf_file.write_text("workers = 1\n")
    server = servers.start(
        project_command("gunicorn", "-c", conf_file, "--bind", f"127.0.0.1:{port}"), project_env
    )
    base = f"http://127.0.0.1:{port}"
    wait_for_http(f"{base}/", process=server.process)
    conf_file.write_text("workers = 2\n")
    server.send(signal.SIGHUP)
    server.wait_for_output("Booting worker", count=3, timeout=60)
    assert http_get(f"{base}/")[2] == b"hello", "still our bind and our application after the reload"
    assert server.stop() == 0
