"""``manage.py gunicorn``: precedence of defaults, and the real server under signals."""

import signal
import sys
import threading
import types

import pytest

from django_zipserve.servers import gunicorn
from tests.helpers import (
    free_port,
    http_get,
    project_command,
    run_project,
    socket_activated,
    wait_for_http,
    wait_until,
)
from tests.servers.support import served_marker

CONF = types.SimpleNamespace(
    ZIPSERVE_BIND="127.0.0.1:8124",
    ZIPSERVE_WORKERS=3,
    ZIPSERVE_THREADS=1,
    ZIPSERVE_TIMEOUT=25,
    ZIPSERVE_NAME="testproject",
    WSGI_APPLICATION="demo.wsgi.application",
)


def loaded_config(args, monkeypatch, tmp_path, cmd_args=None):
    # gunicorn takes its working directory when it is imported; start from
    # tmp_path, with no ./gunicorn.conf.py unless the test writes one.
    from gunicorn import config as gunicorn_config

    monkeypatch.setattr(gunicorn_config.Chdir, "default", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    if cmd_args is None:
        monkeypatch.delenv("GUNICORN_CMD_ARGS", raising=False)
    else:
        monkeypatch.setenv("GUNICORN_CMD_ARGS", cmd_args)
    return gunicorn.DjangoApplication(args, None, conf=CONF).cfg


class TestPrecedence:
    def test_our_defaults_apply_when_nothing_is_given(self, monkeypatch, tmp_path):
        cfg = loaded_config([], monkeypatch, tmp_path)
        assert cfg.bind == ["127.0.0.1:8124"]
        assert cfg.workers == 3
        assert cfg.timeout == 25
        assert cfg.graceful_timeout == 25
        assert cfg.max_requests > 0
        assert cfg.accesslog == "-"
        assert cfg.proc_name == "testproject"

    def test_config_file_beats_our_defaults(self, monkeypatch, tmp_path):
        conf_file = tmp_path / "custom.conf.py"
        conf_file.write_text("workers = 5\nbind = ['127.0.0.1:9999']\n")
        cfg = loaded_config(["-c", str(conf_file)], monkeypatch, tmp_path)
        assert cfg.workers == 5
        assert cfg.bind == ["127.0.0.1:9999"]
        assert cfg.timeout == 25, "options the file does not set keep our default"

    def test_default_config_file_in_working_directory_is_read(self, monkeypatch, tmp_path):
        (tmp_path / "gunicorn.conf.py").write_text("workers = 6\n")
        cfg = loaded_config([], monkeypatch, tmp_path)
        assert cfg.workers == 6

    def test_environment_beats_file_and_command_line_beats_both(self, monkeypatch, tmp_path):
        conf_file = tmp_path / "custom.conf.py"
        conf_file.write_text("workers = 5\ntimeout = 50\n")
        cfg = loaded_config(
            ["-c", str(conf_file), "--timeout", "70"],
            monkeypatch,
            tmp_path,
            cmd_args="--workers 7 --timeout 60",
        )
        assert cfg.workers == 7
        assert cfg.timeout == 70

    def test_our_application_is_the_lowest_ranking_wsgi_app(self, monkeypatch, tmp_path):
        cfg = loaded_config([], monkeypatch, tmp_path)
        assert cfg.wsgi_app == "demo.wsgi:application"
        conf_file = tmp_path / "custom.conf.py"
        conf_file.write_text("wsgi_app = 'other.wsgi:app'\n")
        assert loaded_config(["-c", str(conf_file)], monkeypatch, tmp_path).wsgi_app == "other.wsgi:app"

    def test_sys_argv_stays_the_operators(self, monkeypatch, tmp_path):
        # USR2 re-executes sys.argv: loading the configuration (again on
        # HUP) must leave it as the operator typed it.
        operators_argv = ["project.pyz", "gunicorn", "--bind", "127.0.0.1:1"]
        monkeypatch.setattr(sys, "argv", operators_argv)
        loaded_config(["--workers", "4"], monkeypatch, tmp_path)
        assert sys.argv is operators_argv
        assert sys.argv == ["project.pyz", "gunicorn", "--bind", "127.0.0.1:1"]

    def test_app_module_argument_is_kept(self, monkeypatch, tmp_path):
        app = gunicorn.DjangoApplication(["tests.testproject.wsgi:application"], None, conf=CONF)
        assert app.app_uri == "tests.testproject.wsgi:application"


class TestControlSocket:
    def test_runtime_directory_is_preferred(self, tmp_path):
        settings = gunicorn.control_socket_settings({"RUNTIME_DIRECTORY": str(tmp_path)})
        assert settings == {"control_socket": str(tmp_path / "gunicorn.ctl")}

    def test_disabled_when_nothing_is_writable(self, tmp_path, monkeypatch):
        read_only_home = tmp_path / "home"
        read_only_home.mkdir()
        monkeypatch.setenv("HOME", str(read_only_home / "missing"))
        assert gunicorn.control_socket_settings({}) == {"control_socket_disable": True}

    def test_nothing_on_a_gunicorn_without_a_control_socket(self, tmp_path, monkeypatch):
        """gunicorn 23 to 25 (Baby Buddy pins 23) refuse a setting they do not know."""
        monkeypatch.setattr(gunicorn, "KNOWN_SETTINGS", gunicorn.KNOWN_SETTINGS - {"control_socket"})
        assert gunicorn.control_socket_settings({"RUNTIME_DIRECTORY": str(tmp_path)}) == {}


def start(servers, env, *args):
    port = free_port()
    server = servers.start(project_command("gunicorn", "--bind", f"127.0.0.1:{port}", *args), env)
    wait_for_http(f"http://127.0.0.1:{port}/", process=server.process)
    return server, f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_gracefully_finishing_requests_in_flight(servers, project_env, signum):
    server, base = start(servers, project_env)
    result = {}

    def slow_request():
        result["answer"] = http_get(f"{base}/slow/?s=2", timeout=30)

    thread = threading.Thread(target=slow_request)
    thread.start()
    server.wait_for_output("slow request started")
    server.send(signum)
    assert server.wait(timeout=30) == 0
    thread.join(timeout=30)
    assert result["answer"][0] == 200
    assert result["answer"][2].startswith(b"slept")


def test_usr2_reexecutes_the_same_command_line(servers, project_env, tmp_path):
    config = tmp_path / "config.yml"
    config.write_text("MARKER: first\n")
    port = free_port()
    command = project_command("--config", config, "gunicorn", "--bind", f"127.0.0.1:{port}")
    server = servers.start(command, project_env)
    base = f"http://127.0.0.1:{port}"
    wait_for_http(f"{base}/", process=server.process)
    assert served_marker(base) == "first"

    config.write_text("MARKER: second\n")
    server.send(signal.SIGUSR2)
    server.wait_for_output("Booting worker", timeout=60, count=4)
    # The old master hands over: it stops, the new one keeps the socket.
    server.send(signal.SIGTERM)
    assert server.wait(timeout=30) == 0
    wait_until(lambda: served_marker(base) == "second", 30, 0.2, "the re-executed master serving")


def test_gunicorn_config_file_is_honoured(servers, project_env, tmp_path):
    port = free_port()
    conf_file = tmp_path / "gunicorn.conf.py"
    conf_file.write_text(f"bind = ['127.0.0.1:{port}']\nworkers = 1\nproc_name = 'from-conf-file'\n")
    server = servers.start(project_command("gunicorn", "-c", str(conf_file)), project_env)
    wait_for_http(f"http://127.0.0.1:{port}/", process=server.process)
    assert server.output().count("Booting worker") == 1
    assert server.stop() == 0


def test_socket_activation(servers, project_env):
    with socket_activated(servers, project_command("gunicorn"), project_env) as (server, base):
        assert http_get(f"{base}/")[2] == b"hello"
        assert server.stop() == 0


def test_call_command_passes_arguments_through(servers, project_env):
    port = free_port()
    code = (
        "import django; django.setup(); from django.core.management import call_command; "
        f"call_command('gunicorn', '--bind', '127.0.0.1:{port}', '--workers', '1')"
    )
    env = dict(project_env, DJANGO_SETTINGS_MODULE="tests.testproject.settings")
    server = servers.start([sys.executable, "-c", code], env)
    wait_for_http(f"http://127.0.0.1:{port}/", process=server.process)
    assert server.output().count("Booting worker") == 1
    assert server.stop() == 0


def test_help_explains_defaults_and_server_help(project_env):
    ours = run_project(project_env, "gunicorn", "--help")
    assert ours.returncode == 0
    assert "--max-requests" in ours.stdout and "--server-help" in ours.stdout
    theirs = run_project(project_env, "gunicorn", "--server-help")
    assert theirs.returncode == 0
    assert "--worker-class" in theirs.stdout
