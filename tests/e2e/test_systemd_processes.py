"""Every process of the example site from the same artifact, under a real
systemd with PostgreSQL: the web served by ``gunicorn --asgi``, the task
worker (django-tasks' ``db_worker``) and the periodic job
(``clearsessions``) from ``ZIPSERVE_PROCESSES``, each in the web units'
sandbox with their credentials."""

import json
import re

import pytest

from tests import postgres
from tests.deployment import NAME, PYTHON, ROOT, Site, Tasks
from tests.helpers import http_get, require_tool, wait_until
from tests.load import Load
from tests.systemd_host import SystemdHost

pytestmark = pytest.mark.e2e

WORKER = f"{NAME}-worker.service"
JOB = f"{NAME}-clearsessions"


@pytest.fixture
def site(tmp_path):
    require_tool(postgres.available(), "PostgreSQL's server (Debian's postgresql package) is not installed")
    database = postgres.PostgresServer()
    host = SystemdHost.boot(tmp_path / "systemd.log")
    try:
        yield Site(host, "gunicorn", database, asgi=True)
    finally:
        (tmp_path / "journal.txt").write_text(host.journal(f"{NAME}*", lines=3000))
        host.close()
        database.close()


def finished(tasks, task_id):
    result = tasks.result(task_id)
    return result if result["status"] in ("SUCCESSFUL", "FAILED") else None


def wait_finished(tasks, task_id, timeout=60):
    outcome = []
    wait_until(
        lambda: outcome.append(finished(tasks, task_id)) or outcome[-1], timeout, 0.2, f"task {task_id}"
    )
    return outcome[-1]


def test_web_worker_and_job_from_one_artifact(site, example_pyz, example_pyz_next):
    first = site.copy_artifact(example_pyz)
    site.configure(first)
    rendered, _ = site.install(first)
    for unit in (WORKER, f"{JOB}.service", f"{JOB}.timer"):
        assert f"wrote /etc/systemd/system/{unit}" in rendered.stdout, rendered.stdout
    # The example's own units: valid for systemd, and as sandboxed as the web's.
    units = [f"{NAME}.socket", f"{NAME}@blue.service", WORKER, f"{JOB}.service", f"{JOB}.timer"]
    verify = site.run(f"cd /etc/systemd/system && systemd-analyze verify {' '.join(units)}", check=False)
    assert (verify.returncode, verify.stderr) == (0, ""), verify.stderr
    for unit in (WORKER, f"{JOB}.service"):
        security = site.run(f"systemd-analyze security --offline=true /etc/systemd/system/{unit}").stdout
        score = float(re.search(r"Overall exposure level for \S+: (\d+\.\d+)", security).group(1))
        assert score <= 1.5, (unit, security[-800:])
    site.start()
    site.run(f"systemctl enable --now {WORKER} {JOB}.timer")

    # The web is served by gunicorn's asgi worker: the async view runs on the loop.
    clock = json.loads(http_get(f"http://127.0.0.1:{site.port}/api/clock/")[2])
    assert clock["async"] is True and clock["thread"] == "MainThread", clock
    assert "gunicorn --asgi" in site.run(f"systemctl show --property=ExecStart {NAME}@blue.service").stdout

    # A task enqueued by a request is run by the worker; its result is visible.
    tasks = Tasks(site)
    result = wait_finished(tasks, tasks.enqueue("hello"))
    assert result["status"] == "SUCCESSFUL" and result["return_value"]["text"] == "HELLO", result
    assert result["return_value"]["pid"] == int(
        site.run(f"systemctl show --property=MainPID --value {WORKER}").stdout
    )

    # The periodic job runs from its timer, in the sandbox (made to fire now).
    site.host.write(
        f"/etc/systemd/system/{JOB}.timer.d/now.conf", "[Timer]\nOnCalendar=\nOnCalendar=*:*:0/2\n"
    )
    site.run("systemctl daemon-reload")
    wait_until(
        lambda: (
            site.run(
                f"systemctl show --property=ExecMainExitTimestampMonotonic --value {JOB}.service"
            ).stdout.strip()
            not in ("", "0")
        ),
        timeout=30,
        message="the job's first run",
    )
    job = site.run(f"systemctl show --property=Result,ExecMainStatus,DynamicUser,ProtectSystem {JOB}.service")
    assert "Result=success" in job.stdout and "ExecMainStatus=0" in job.stdout, job.stdout
    assert "DynamicUser=yes" in job.stdout and "ProtectSystem=strict" in job.stdout

    # SIGTERM (systemctl stop) lets the worker finish the task in hand.
    slow = tasks.enqueue("slow", seconds=3)
    wait_until(lambda: tasks.result(slow)["status"] == "RUNNING", 30, 0.1, "the slow task running")
    site.run(f"systemctl stop {WORKER}", timeout=60)
    stopped = tasks.result(slow)
    assert stopped["status"] == "SUCCESSFUL", stopped
    site.run(f"systemctl start {WORKER}")

    # The switch moves the web and the worker to the new release: no failed
    # request, every task run once.
    with Load(site.health) as load:
        load.serve(50)
        before = [tasks.enqueue(f"before {index}", seconds=0.2) for index in range(10)]
        switch = site.copy_artifact(example_pyz_next)
        upgrade = site.run(f"{PYTHON} {switch} deploy --root {ROOT} --switch", timeout=300)
        after = [tasks.enqueue(f"after {index}", seconds=0.1) for index in range(10)]
        load.serve(50)
    assert f"try-restart {WORKER}" in upgrade.stdout, upgrade.stdout
    assert load.failures() == [], load.failures()
    results = [wait_finished(tasks, task_id) for task_id in before + after]
    assert [result["status"] for result in results] == ["SUCCESSFUL"] * 20, results
    assert all(len(result["worker_ids"]) == 1 for result in results), "no task ran twice"
    new_worker = int(site.run(f"systemctl show --property=MainPID --value {WORKER}").stdout)
    assert results[-1]["return_value"]["pid"] == new_worker, "the last tasks ran on the restarted worker"
    assert json.loads(http_get(site.health)[2])["version"] == "1.0.1"


def test_deploy_is_not_done_while_a_declared_process_exits_at_start(site, example_pyz, example_pyz_next):
    """A worker that reports ready and then dies is restarted by systemd for
    ever, and ``systemctl try-restart`` said 0: ``deploy --switch`` watches
    it, says which unit, shows its journal and exits 1. Deployed again once
    the cause is gone, the worker restarts on the release and stays up."""
    first = site.copy_artifact(example_pyz)
    site.configure(first)
    site.install(first)
    site.start()
    site.run(f"systemctl enable --now {WORKER}")
    # The worker alone is given a database nobody listens on (the environment
    # wins over the credential): it starts, then its first poll fails.
    unreachable = f"/etc/systemd/system/{WORKER}.d/unreachable-database.conf"
    site.host.write(unreachable, "[Service]\nEnvironment=DATABASE_URL=postgres://site:x@127.0.0.1:9/site\n")
    site.run("systemctl daemon-reload")

    upgrade = site.copy_artifact(example_pyz_next)
    failed = site.run(f"{PYTHON} {upgrade} deploy --root {ROOT} --switch", check=False)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "switched blue -> green" in failed.stdout, "the web itself switched"
    errors = failed.stderr.strip().splitlines()
    assert errors[-1].startswith(
        f"the web switched, but a declared process did not start on this release: {WORKER} exited at start "
        "(exit status 1) and systemd keeps restarting it"
    ), failed.stderr
    assert f"$ journalctl --no-pager -o cat -n 12 -u {WORKER}" in errors
    assert any(line.startswith("  ") and "OperationalError" in line for line in errors), failed.stderr
    assert not any(line.startswith("Traceback") for line in errors), "a traceback only in the journal's lines"
    assert site.health_status()[1]["version"] == "1.0.1"

    # The cause gone, the same deploy again: the worker, which systemd is
    # still restarting, is restarted on the release and stays up.
    site.run(f"rm {unreachable} && systemctl daemon-reload")
    fixed = site.run(f"{PYTHON} {upgrade} deploy --root {ROOT} --switch")
    assert f"try-restart {WORKER}" in fixed.stdout, fixed.stdout
    assert f"{WORKER}: still running 5 s after the restart" in fixed.stdout, fixed.stdout
    assert site.run(f"systemctl is-active {WORKER}").stdout.strip() == "active"
