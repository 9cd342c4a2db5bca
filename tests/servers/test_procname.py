"""``ps`` names the project and each process's role, for both servers:
read from ``/proc/PID/cmdline`` of the real master and its workers."""

import pytest

from tests.helpers import (
    bind_args,
    child_pids,
    free_port,
    process_title,
    project_command,
    wait_for_http,
    wait_until,
)

#: What ps shows for the master, and for each of its children (two workers).
EXPECTED = {
    # uWSGI's HTTP router runs no Python: it keeps the master's title.
    "pyuwsgi": (
        "testproject uWSGI master",
        ["testproject uWSGI master", "testproject uWSGI worker 1", "testproject uWSGI worker 2"],
    ),
    "gunicorn": ("gunicorn: master [testproject]", ["gunicorn: worker [testproject]"] * 2),
}


@pytest.mark.parametrize("server", ["pyuwsgi", "gunicorn"])
def test_master_and_workers_are_named(servers, project_env, server):
    port = free_port()
    process = servers.start(project_command(server, *bind_args(server, port)), project_env)
    wait_for_http(f"http://127.0.0.1:{port}/", process=process.process)
    master, children_titles = EXPECTED[server]
    wait_until(
        lambda: process_title(process.pid) == master, 30, 0.1, f"master titled {master!r}", process.process
    )
    # A worker just forked still has the master's title for a moment.
    seen = []

    def children_named():
        seen[:] = sorted(process_title(child) for child in child_pids(process.pid))
        return seen == children_titles

    try:
        wait_until(children_named, 30, 0.1, f"children titled {children_titles}", process.process)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; last seen: {seen}") from None
    assert process.stop() == 0
