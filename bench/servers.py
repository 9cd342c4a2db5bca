"""Servers under test: started in their own process group, stopped with
all their processes, and looked into (workers, memory)."""

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from procs import children_of, group_pids, memory_of

START_TIMEOUT = 120
STOP_TIMEOUT = 20

# Stopped by stop_all() when the script fails or is interrupted.
RUNNING = set()


class Server:
    """A server started in its own session (process group); stopped with
    `stop_signal` to its leader, then SIGKILL to the whole group."""

    def __init__(self, argv, env, log_path, stop_signal=signal.SIGTERM, cwd=None):
        self.argv, self.log_path, self.stop_signal = argv, Path(log_path), stop_signal
        self.ready_after = None
        # The server writes to its own copy of the descriptor.
        with open(self.log_path, "wb") as log_file:
            self.process = subprocess.Popen(
                argv,
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pgid = self.process.pid
        RUNNING.add(self)

    @property
    def pid(self):
        return self.process.pid

    def log_text(self):
        return self.log_path.read_text(errors="replace")

    def log_tail(self, lines=30):
        return "\n".join(self.log_text().splitlines()[-lines:])

    def wait_ready(self, url, timeout=START_TIMEOUT):
        """Seconds until `url` answered 200 (also kept as `ready_after`)."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        self.ready_after = time.monotonic() - started
                        return self.ready_after
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"no answer from {url} within {timeout} s:\n{self.log_tail()}")

    def stop(self):
        if self not in RUNNING:
            return
        try:
            if self.process.poll() is None:
                os.kill(self.process.pid, self.stop_signal)
                try:
                    self.process.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    pass
        finally:
            self._kill_group()
            RUNNING.discard(self)

    def _kill_group(self):
        # Whatever is left of the group (workers, routers) would skew the next run.
        try:
            os.killpg(self.pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if self.process.poll() is None:
            self.process.wait()
        deadline = time.monotonic() + 5
        while group_pids(self.pgid) and time.monotonic() < deadline:
            time.sleep(0.05)


def stop_all():
    for server in list(RUNNING):
        try:
            server.stop()
        except (OSError, subprocess.SubprocessError) as exc:  # keep stopping the others
            print(f"error while stopping {server.argv[:2]}: {exc}", file=sys.stderr)


@contextmanager
def running(*args, **kwargs):
    server = Server(*args, **kwargs)
    try:
        yield server
    finally:
        server.stop()


def uwsgi_roles(log):
    """{'workers': [pid...] (latest pid of each worker id), 'router': pid|None, 'spawns': n}."""
    workers, router, spawns = {}, None, 0
    for match in re.finditer(
        r"spawned uWSGI worker (\d+) \(pid: (\d+)"
        r"|Respawned uWSGI worker (\d+) \(new pid: (\d+)"
        r"|spawned uWSGI http \d+ \(pid: (\d+)",
        log,
    ):
        if match.group(1):
            workers[int(match.group(1))] = int(match.group(2))
            spawns += 1
        elif match.group(3):
            workers[int(match.group(3))] = int(match.group(4))
            spawns += 1
        else:
            router = int(match.group(5))
    return {"workers": sorted(workers.values()), "router": router, "spawns": spawns}


def worker_pids(server, kind):
    """The worker processes of a running server, how many were ever spawned
    (more than the count: some were recycled by max-requests), and uWSGI's
    HTTP router (None for gunicorn)."""
    log = server.log_text()
    if kind == "uwsgi":
        roles = uwsgi_roles(log)
        live = set(children_of(server.pid)) - {roles["router"]}
        return sorted(live), roles["spawns"], roles["router"]
    spawns = len(re.findall(r"Booting worker with pid", log))
    return children_of(server.pid), spawns, None


def server_memory(server, kind):
    workers, spawns, router = worker_pids(server, kind)
    per_worker = [m for pid in workers if (m := memory_of(pid))]
    group = [m for pid in group_pids(server.pgid) if (m := memory_of(pid))]
    return {
        "workers": len(per_worker),
        "spawned": spawns,
        "worker_rss_kb": [m["VmRSS"] for m in per_worker],
        "worker_hwm_kb": [m["VmHWM"] for m in per_worker],
        "worker_pss_kb": [m["Pss"] for m in per_worker],
        "worker_private_kb": [m["Private"] for m in per_worker],
        "master_rss_kb": (memory_of(server.pid) or {}).get("VmRSS"),
        "router_rss_kb": (memory_of(router) or {}).get("VmRSS") if router else None,
        "total_pss_kb": sum(m["Pss"] or 0 for m in group),
        "processes": len(group),
    }
