"""A worker killed with SIGKILL while requests pour in: the master replaces it,
the site keeps answering, and only the requests the dead worker held fail.

Real servers on 127.0.0.1, real signals; the load is bounded in count and
in time.
"""

import http.client
import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from tests.helpers import (
    SERVERS,
    bind_args,
    free_port,
    project_command,
    request_once,
    wait_for_http,
    wait_until,
)


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
    def a_busy_worker():
        # A worker that has just answered, after a second of load with
        # answers from both workers (or enough of them).
        served = [pid for _, _, pid, _, error in load.snapshot() if error is None]
        loaded_for = time.monotonic() - (load.deadline - load.seconds)
        if (
            loaded_for > 1.0
            and len(served) >= 30
            and (len(set(served)) >= 2 or loaded_for > load.seconds - 3)
        ):
            return served[-1]
        return None

    victim = wait_until(a_busy_worker, timeout=15, interval=0.05, message="answers under load")
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
    summary = (
        f"{server}: {len(results)} requests under load, {len(failures)} failed "
        f"(seconds after the kill, reason: {failures[:8]}); killed worker {victim}; "
        f"pids before {sorted(before)}, new pids after {sorted(new_pids)}; "
        f"{len(ok_after)} answers after the kill"
    )
    print(summary)
    assert process.process.poll() is None, f"the master died: {summary}\n{process.output()[-3000:]}"
    assert victim not in {pid for pid, _ in ok_after}, f"a killed worker answered: {summary}"
    assert new_pids, f"no replacement worker answered: {summary}\n{process.output()[-3000:]}"
    assert all(ppid == process.pid for pid, ppid in ok_after if pid in new_pids), (
        f"the replacement is not a child of the master: {summary}"
    )
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
