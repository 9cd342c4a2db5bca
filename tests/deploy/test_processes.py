"""ZIPSERVE_PROCESSES and ``run``: declared once, run from the project with
its configuration, stopped by SIGTERM after the task in hand."""

import os
import signal
import socket
import types

import pytest

from django_zipserve.deploy import processes
from tests.helpers import project_command, run_project, wait_until


def declared(entries):
    return processes.declared(types.SimpleNamespace(ZIPSERVE_PROCESSES=entries))


class TestDeclaration:
    def test_a_process_and_a_job(self):
        found = declared(
            {
                "worker": {"command": ["db_worker", "--queue-name", "mail"], "stop_timeout": 60},
                "clearsessions": {"command": ["clearsessions"], "schedule": "daily"},
                "celery": {"module": "celery", "args": ["-A", "mysite", "worker"]},
            }
        )
        assert list(found) == ["worker", "clearsessions", "celery"]
        worker = found["worker"]
        assert (worker.command, worker.stop_timeout, worker.is_job, worker.notify) == (
            ("db_worker", "--queue-name", "mail"),
            60,
            False,
            True,
        )
        assert found["clearsessions"].is_job and found["clearsessions"].schedule == "daily"
        assert found["celery"].command_line() == "python -m celery -A mysite worker"
        assert [process.name for process in processes.services(found)] == ["worker", "celery"]

    def test_none_declared(self):
        assert processes.declared(types.SimpleNamespace()) == {}

    @pytest.mark.parametrize(
        "entries, message",
        [
            ([], "ZIPSERVE_PROCESSES: expected a mapping of process names to declarations"),
            ({"Worker": {"command": ["x"]}}, "ZIPSERVE_PROCESSES['Worker']: a process name is lower-case"),
            ({"migrate": {"command": ["x"]}}, "the name 'migrate' is used by the web units"),
            ({"w": ["db_worker"]}, "ZIPSERVE_PROCESSES['w']: expected a mapping with `command`"),
            ({"w": {"comand": ["x"]}}, "ZIPSERVE_PROCESSES['w']: unknown key 'comand'; expected command,"),
            ({"w": {}}, "give either `command` (a management command) or `module`"),
            ({"w": {"command": ["x"], "module": "y"}}, "give either `command`"),
            (
                {"w": {"command": "db_worker"}},
                "ZIPSERVE_PROCESSES['w']['command']: expected a list of strings",
            ),
            ({"w": {"command": []}}, "expected the command's name first"),
            ({"w": {"command": ["x"], "stop_timeout": "60"}}, "['stop_timeout']: expected a whole number"),
            ({"w": {"command": ["x"], "stop_timeout": 0}}, "['stop_timeout']: expected a whole number"),
            (
                {"w": {"command": ["x"], "schedule": 5}},
                "ZIPSERVE_PROCESSES['w']['schedule']: expected a string",
            ),
            ({"w": {"command": ["x"], "notify": "yes"}}, "['notify']: expected true or false"),
        ],
    )
    def test_a_malformed_declaration_names_the_entry_and_key(self, entries, message):
        with pytest.raises(processes.ProcessDeclarationError) as error:
            declared(entries)
        assert message in str(error.value)

    def test_every_key_is_documented(self):
        for key in processes.KEYS:
            assert key.name and key.kind and key.doc, key


def test_run_lists_the_declared_processes(project_env):
    result = run_project(project_env, "run", "--list")
    assert result.returncode == 0, result.stderr
    assert "worker   queue_worker --seconds 2  (service)" in result.stdout
    assert "         works off the queue directory" in result.stdout
    assert "cleanup  check  (job, daily)" in result.stdout


def test_run_of_an_unknown_process_names_the_declared_ones(project_env):
    result = run_project(project_env, "run", "nope")
    assert result.returncode == 1
    assert result.stderr == "CommandError: no process 'nope': declared: worker, waiter, cleanup, printer\n"


def test_a_job_runs_to_its_end(project_env):
    result = run_project(project_env, "run", "cleanup")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_a_module_runs_as_under_python_m_with_the_projects_settings(project_env):
    result = run_project(project_env, "run", "printer")
    assert result.returncode == 0, result.stderr
    assert "module process argv=['-A', 'proj', 'worker'] name=testproject\n" in result.stdout


def test_a_bad_configuration_stops_run_before_the_process(project_env):
    result = run_project(dict(project_env, WORKERS="0"), "run", "worker")
    assert result.returncode == 2
    assert "WORKERS" in result.stderr and "Traceback" not in result.stderr


def queue_of(project_env):
    # The test project's worker reads the queue next to MEDIA_ROOT (STATE_DIR/media).
    queue = os.path.join(project_env["STATE_DIR"], "queue")
    os.makedirs(queue, exist_ok=True)
    return queue


def test_sigterm_lets_the_worker_finish_its_task(servers, project_env, tmp_path):
    """The worker takes a task that lasts 2 s; SIGTERM while it runs: the
    task completes, the next one is left for the next worker, exit 0."""
    queue = queue_of(project_env)
    notify_path = str(tmp_path / "notify")
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(notify_path)
    notify.settimeout(60)
    for name in ("a", "b"):
        open(os.path.join(queue, f"{name}.task"), "w").close()
    worker = servers.start(project_command("run", "worker"), dict(project_env, NOTIFY_SOCKET=notify_path))
    assert notify.recv(100) == b"READY=1", "ready once the project is loaded and checked"
    notify.close()
    worker.wait_for_output("task a started")
    worker.send(signal.SIGTERM)
    assert worker.wait(timeout=20) == 0, worker.output()
    assert os.path.exists(os.path.join(queue, "a.done")), worker.output()
    assert os.path.exists(os.path.join(queue, "b.task")), "the next task stays queued"
    assert "worker stopped after its task" in worker.output()


def test_sigterm_stops_a_command_without_a_handler_like_ctrl_c(servers, project_env):
    waiter = servers.start(project_command("run", "waiter"), project_env)
    waiter.wait_for_output("waiting")
    waiter.send(signal.SIGTERM)
    assert waiter.wait(timeout=20) == 0
    assert "Traceback" not in waiter.output()
    wait_until(lambda: waiter.process.poll() is not None, timeout=5)
