"""Throughput, latency and memory of the example artifact's servers, side by side.

Every configuration below serves the example project on 127.0.0.1 and is
loaded with wrk (closed loop, ``-c`` connections over ``-t`` threads) for
``--duration`` seconds after ``--warmup`` seconds of unrecorded load, in
``--rounds`` rounds; within a round every configuration runs once, one after
the other, in an order rotated from round to round, so that drift of a shared
machine spreads over all of them. Reported: the median over the rounds of
requests/s and of the p50 and p99 latencies, and ratios.

Dynamic page (``/``: a template listing greetings read from SQLite):

=================  ==========================================================
ours-uwsgi         ``example_project.pyz pyuwsgi --http ADDR``: our defaults
ours-gunicorn      ``example_project.pyz gunicorn --bind ADDR``: our defaults
bare-uwsgi         ``pyuwsgi --http ADDR --module … --master`` from a
                   virtualenv: uWSGI's own defaults (1 worker)
bare-gunicorn      ``gunicorn example_project.wsgi --bind ADDR`` from a
                   virtualenv: gunicorn's own defaults (1 sync worker)
equal-uwsgi        bare-uwsgi with ``--processes N``, N = our WORKERS
equal-gunicorn     bare-gunicorn with ``--workers N``
full-uwsgi         plain ``pyuwsgi`` from the virtualenv with every one of our
                   uWSGI defaults spelt out on its command line
full-gunicorn      plain ``gunicorn`` likewise with our gunicorn defaults
ours-uwsgi-hs      ours, but ``--http-socket ADDR``: workers speak HTTP
                   themselves, no router process
equal-uwsgi-hs     equal-uwsgi, but ``--http-socket ADDR``
=================  ==========================================================

The virtualenv holds the same project and the same package versions as the
artifact (pinned from its build record, as ``bench/startup.py`` does), and
every configuration runs on that virtualenv's interpreter, the artifact too.
The configuration is the same for all: environment variables SECRET_KEY,
HTTPS=false, STATE_DIR (one migrated SQLite database holding 10 greetings),
HOME; WORKERS is left to its default (2 per core).

Static file: the hashed CSS file the page links to, requested with
``Accept-Encoding: gzip``, through ours-uwsgi and ours-gunicorn (WhiteNoise)
and from nginx (``worker_processes 2``, ``gzip_static on``) serving the same
collected directory of the artifact's extraction with the same headers. The
response headers of each are checked before any load is applied.

Memory: right after each dynamic run, VmRSS and VmHWM (peak RSS) of every
worker process from /proc/PID/status, and their PSS and private (unshared)
memory from /proc/PID/smaps_rollup.

Each sample also records the CPU time used during it by anything other than
the server and wrk (from /proc/stat): a shared machine shows up there.
Before each run the script waits (up to --quiet-wait seconds) for the machine
to be quiet, and repeats a run that others disturbed (up to --retries times).
The results are written after every round.

Needs Linux and wrk (installed with apt-get when missing and running as
root), nginx for the static comparison (likewise, or --no-nginx).

Usage: python bench/throughput.py [--rounds 5] [--duration 5] [--warmup 2]
       [--connections 32] [--threads 2] [--venv-dir DIR] [--skip-build]
       [--only NAME,...] [--no-static] [--no-nginx] [--quiet-wait 60] [--retries 2]
Writes bench/results/throughput.json and prints a table; bench/report.py
renders it into docs/benchmarks.rst and docs/benchmarks.png.
"""

import argparse
import json
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from startup import SECRET_KEY, directory_size, free_port, make_venv

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
HOST = "127.0.0.1"
START_TIMEOUT = 120
STOP_TIMEOUT = 20
CLK_TCK = os.sysconf("SC_CLK_TCK")
GREETINGS = 10
# A sample during which other processes used more than this many cores is
# flagged as disturbed; before a round we wait for less than QUIET_CORES.
NOISY_CORES = 0.25
QUIET_CORES = 0.15
QUIET_WAIT = 60

WRK_SCRIPT = """\
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK-JSON {"requests": %d, "duration_us": %d, "bytes": %d, "connect_errors": %d, "read_errors": %d, '
    .. '"write_errors": %d, "status_errors": %d, "timeouts": %d, "mean_us": %.1f, "max_us": %d, '
    .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "p999_us": %d}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.max, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9)))
end
"""


# --- tools ------------------------------------------------------------------------------------------


def ensure_tool(name, package, required=True):
    """The path of a command, installing its Debian package when it is
    missing and we may (root with apt-get); otherwise say how, and either
    stop or return None."""
    path = shutil.which(name) or (Path("/usr/sbin", name).is_file() and f"/usr/sbin/{name}") or None
    if path:
        return path
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print(f"{name} is missing: apt-get install -y {package}", flush=True)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        install = ["apt-get", "install", "-y", "--no-install-recommends", package]
        if subprocess.run(install, env=env).returncode != 0:
            subprocess.run(["apt-get", "update"], env=env, check=False)
            subprocess.run(install, env=env, check=False)
        path = shutil.which(name) or (Path("/usr/sbin", name).is_file() and f"/usr/sbin/{name}") or None
        if path:
            return path
    message = f"{name} is not installed; install it with: sudo apt-get install {package}"
    if required:
        sys.exit(message)
    print(f"{message} (skipping what needs it)", file=sys.stderr)
    return None


def tool_version(argv):
    """'wrk 4.1.0-3+b2', 'nginx 1.22.1'."""
    result = subprocess.run(argv, capture_output=True, text=True)
    text = result.stdout + result.stderr
    found = re.search(r"(\d+\.\d+[\w.+~-]*)", text)
    return f"{Path(argv[0]).name} {found.group(1) if found else '?'}"


# --- /proc ------------------------------------------------------------------------------------------


def cpu_times():
    """(busy, steal) seconds of the whole machine: user+nice+system time,
    without interrupt time (loopback networking is largely softirq)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, _irq, _softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system) / CLK_TCK, steal / CLK_TCK


def proc_stat(pid):
    """(ppid, pgid, cpu seconds incl. reaped children) of a process, or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    ppid, pgid = int(fields[1]), int(fields[2])
    utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
    return ppid, pgid, (utime + stime + cutime + cstime) / CLK_TCK


def all_pids():
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def group_cpu(pgid):
    total = 0.0
    for pid in all_pids():
        stat = proc_stat(pid)
        if stat and stat[1] == pgid:
            total += stat[2]
    return total


def group_pids(pgid):
    return [pid for pid in all_pids() if (stat := proc_stat(pid)) and stat[1] == pgid]


def children_of(pid):
    return sorted(child for child in all_pids() if (stat := proc_stat(child)) and stat[0] == pid)


def memory_of(pid):
    """VmRSS, VmHWM (kB) from status; Pss and private memory (kB) from
    smaps_rollup."""
    values = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0])
        rollup = {}
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
            key, _, rest = line.partition(":")
            if rest.strip():
                rollup[key] = int(rest.split()[0])
    except OSError:
        return None
    values["Pss"] = rollup.get("Pss")
    values["Private"] = rollup.get("Private_Clean", 0) + rollup.get("Private_Dirty", 0)
    return values


def wait_for_quiet(log, max_wait=QUIET_WAIT, span=0.3):
    """Wait until the machine's other load stays small for `span` seconds;
    returns the cores that were busy at the last check."""
    deadline = time.monotonic() + max_wait
    while True:
        busy0, _ = cpu_times()
        own0 = own_cpu()
        time.sleep(span)
        busy1, _ = cpu_times()
        cores = max(0.0, (busy1 - busy0) - (own_cpu() - own0)) / span
        if cores < QUIET_CORES or time.monotonic() > deadline:
            if cores >= QUIET_CORES:
                log(f"  warning: the machine is busy ({cores:.2f} cores used by other processes); going on")
            return cores
        log(f"  waiting: other processes use {cores:.2f} cores")


def own_cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --- servers ----------------------------------------------------------------------------------------

RUNNING = set()


class Server:
    """A server started in its own session (process group); stopped with
    `stop_signal` to its leader, then SIGKILL to the whole group."""

    def __init__(self, argv, env, log_path, stop_signal=signal.SIGTERM, cwd=None):
        self.argv, self.log_path, self.stop_signal = argv, Path(log_path), stop_signal
        self.log_file = open(self.log_path, "wb")
        self.process = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                        stdout=self.log_file, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        self.pgid = self.process.pid
        RUNNING.add(self)

    @property
    def pid(self):
        return self.process.pid

    def log_text(self):
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, url, timeout=START_TIMEOUT):
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return time.monotonic() - started
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"no answer from {url} within {timeout} s:\n{self.log_tail()}")

    def log_tail(self, lines=30):
        return "\n".join(self.log_text().splitlines()[-lines:])

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
            # Whatever is left of the group (workers, routers): gone.
            try:
                os.killpg(self.pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            if self.process.poll() is None:
                self.process.wait()
            deadline = time.monotonic() + 5
            while group_pids(self.pgid) and time.monotonic() < deadline:
                time.sleep(0.05)
            self.log_file.close()
            RUNNING.discard(self)


def stop_all():
    for server in list(RUNNING):
        try:
            server.stop()
        except Exception as exc:  # keep stopping the others
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
    for match in re.finditer(r"spawned uWSGI worker (\d+) \(pid: (\d+)"
                             r"|Respawned uWSGI worker (\d+) \(new pid: (\d+)"
                             r"|spawned uWSGI http \d+ \(pid: (\d+)", log):
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
    """Worker processes of a running server, and how many were ever spawned
    (more than the count: some were recycled by max-requests)."""
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


# --- load -------------------------------------------------------------------------------------------


def run_wrk(wrk, script, url, seconds, connections, threads, headers=(), pgid=None):
    """One wrk run; returns its numbers, and the CPU used by others meanwhile."""
    argv = [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s",
            "-s", str(script)]
    for header in headers:
        argv += ["-H", header]
    argv.append(url)
    busy0, steal0 = cpu_times()
    server0 = group_cpu(pgid) if pgid else 0.0
    children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    self0 = own_cpu()
    started = time.monotonic()
    result = subprocess.run(argv, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_cpu = (group_cpu(pgid) - server0) if pgid else 0.0
    wrk_cpu = (children1.ru_utime + children1.ru_stime) - (children0.ru_utime + children0.ru_stime)
    busy1, steal1 = cpu_times()
    accounted = server_cpu + wrk_cpu + (own_cpu() - self0)
    if result.returncode != 0:
        output = result.stderr.strip() or result.stdout.strip()
        raise RuntimeError(f"wrk failed ({result.returncode}): {output}")
    line = next((ln for ln in result.stdout.splitlines() if ln.startswith("WRK-JSON ")), None)
    if line is None:
        raise RuntimeError(f"no summary from wrk:\n{result.stdout}\n{result.stderr}")
    raw = json.loads(line[len("WRK-JSON "):])
    seconds_run = raw["duration_us"] / 1e6
    # A server that closes each connection without saying so (uWSGI)
    # shows up as one read error per request: counted apart.
    errors = {key: raw[key] for key in ("connect_errors", "write_errors", "status_errors", "timeouts")
              if raw[key]}
    return {
        "rps": raw["requests"] / seconds_run,
        "requests": raw["requests"],
        "seconds": round(seconds_run, 3),
        "mb_per_s": raw["bytes"] / seconds_run / 1e6,
        "p50_ms": raw["p50_us"] / 1000,
        "p90_ms": raw["p90_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "p999_ms": raw["p999_us"] / 1000,
        "mean_ms": raw["mean_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "errors": errors,
        "read_errors": raw["read_errors"],
        "server_cpu_cores": server_cpu / elapsed,
        "wrk_cpu_cores": wrk_cpu / elapsed,
        "other_cpu_cores": max(0.0, (busy1 - busy0 - accounted) / elapsed),
        "steal_cores": (steal1 - steal0) / elapsed,
    }


# --- configurations ---------------------------------------------------------------------------------


def our_server_args(venv, env):
    """Our defaults, as each plain server's command line would spell them,
    from django_zipserve itself (installed in the virtualenv)."""
    code = textwrap.dedent("""\
        import json, django
        django.setup()
        from gunicorn.config import KNOWN_SETTINGS
        from django_zipserve.servers import gunicorn, uwsgi
        flags = {setting.name: [f for f in setting.cli if f.startswith("--")][0]
                 for setting in KNOWN_SETTINGS if setting.cli}
        gunicorn_args = []
        for name, value in gunicorn.default_settings().items():
            if name == "bind":
                continue
            if isinstance(value, bool):
                if value:
                    gunicorn_args.append(flags[name])
            else:
                gunicorn_args += [flags[name], str(value)]
        print(json.dumps({"uwsgi": uwsgi.build_args(["--http", "@BIND@"]), "gunicorn": gunicorn_args}))
        """)
    output = subprocess.run([str(venv / "bin" / "python"), "-c", code], env=env, capture_output=True,
                            text=True, check=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def configurations(python, pyz, venv, workers, ours):
    """name -> (server kind, description, argv builder(addr), uses the virtualenv's settings env)."""
    pyuwsgi = str(venv / "bin" / "pyuwsgi")
    gunicorn = str(venv / "bin" / "gunicorn")
    module = ["--module", "example_project.wsgi:application", "--master"]
    n = str(workers)
    return {
        "ours-uwsgi": ("uwsgi", "pyz pyuwsgi, our defaults (--http router)",
                       lambda a: [python, pyz, "pyuwsgi", "--http", a], False),
        "equal-uwsgi": ("uwsgi", f"venv pyuwsgi --http --processes {n}",
                        lambda a: [pyuwsgi, "--http", a, *module, "--processes", n], True),
        "full-uwsgi": ("uwsgi", "venv pyuwsgi with all our defaults as flags",
                       lambda a: [pyuwsgi, *[x.replace("@BIND@", a) for x in ours["uwsgi"]]], True),
        "bare-uwsgi": ("uwsgi", "venv pyuwsgi, uWSGI defaults (--http router, 1 worker)",
                       lambda a: [pyuwsgi, "--http", a, *module], True),
        "ours-uwsgi-hs": ("uwsgi", "pyz pyuwsgi, our defaults but --http-socket (no router)",
                          lambda a: [python, pyz, "pyuwsgi", "--http-socket", a], False),
        "equal-uwsgi-hs": ("uwsgi", f"venv pyuwsgi --http-socket --processes {n}",
                           lambda a: [pyuwsgi, "--http-socket", a, *module, "--processes", n], True),
        "ours-gunicorn": ("gunicorn", "pyz gunicorn, our defaults",
                          lambda a: [python, pyz, "gunicorn", "--bind", a], False),
        "equal-gunicorn": ("gunicorn", f"venv gunicorn --workers {n}",
                           lambda a: [gunicorn, "example_project.wsgi", "--bind", a, "--workers", n], True),
        "logged-gunicorn": ("gunicorn", f"venv gunicorn --workers {n} --access-logfile -",
                            lambda a: [gunicorn, "example_project.wsgi", "--bind", a, "--workers", n,
                                       "--access-logfile", "-"], True),
        "full-gunicorn": ("gunicorn", "venv gunicorn with all our defaults as flags",
                          lambda a: [gunicorn, "example_project.wsgi", "--bind", a, *ours["gunicorn"]], True),
        "bare-gunicorn": ("gunicorn", "venv gunicorn, gunicorn defaults (1 sync worker)",
                          lambda a: [gunicorn, "example_project.wsgi", "--bind", a], True),
    }


# Which ratios to report: (numerator, denominator, what it shows).
RATIOS = [
    ("ours-uwsgi", "bare-uwsgi", "ours / bare defaults"),
    ("ours-gunicorn", "bare-gunicorn", "ours / bare defaults"),
    ("ours-uwsgi", "equal-uwsgi", "ours / plain, same workers"),
    ("ours-gunicorn", "equal-gunicorn", "ours / plain, same workers"),
    ("ours-uwsgi", "full-uwsgi", "ours / plain, all the same settings"),
    ("ours-gunicorn", "full-gunicorn", "ours / plain, all the same settings"),
    ("ours-uwsgi-hs", "equal-uwsgi-hs", "ours / plain, same workers (--http-socket)"),
    ("ours-uwsgi-hs", "ours-uwsgi", "--http-socket / --http router (ours)"),
    ("logged-gunicorn", "equal-gunicorn", "plain gunicorn: with / without the access log"),
]
STATIC_CONFIGS = ("ours-uwsgi", "ours-gunicorn")
STATIC_HEADERS = ("Accept-Encoding: gzip",)


def stop_signal_for(name):
    # Plain uWSGI 2.0 *reloads* on SIGTERM; SIGINT stops it. Ours and
    # gunicorn stop on SIGTERM.
    return signal.SIGINT if name in ("bare-uwsgi", "equal-uwsgi", "equal-uwsgi-hs") else signal.SIGTERM


# --- nginx ------------------------------------------------------------------------------------------

# Headers the application adds to a static file that nginx must send too;
# the rest (Date, Server, Content-Length, ETag, Last-Modified, Vary,
# Content-Encoding, Content-Type, Connection...) nginx produces itself.
NGINX_OWN = {"date", "server", "content-length", "content-type", "content-encoding", "vary", "etag",
             "last-modified", "connection", "keep-alive", "accept-ranges", "transfer-encoding"}


# Headers whose presence differs between servers for no consequence.
INCIDENTAL = {"date", "server", "connection", "keep-alive", "accept-ranges"}


def nginx_config(work, port, static_root, content_type, extra_headers):
    adds = "\n".join(f'            add_header {name} "{value}" always;' for name, value in extra_headers)
    user = "user root;" if os.geteuid() == 0 else ""
    return textwrap.dedent(f"""\
        # generated by bench/throughput.py
        daemon off;
        {user}
        worker_processes 2;
        pid {work}/nginx.pid;
        error_log {work}/nginx-error.log;
        events {{ worker_connections 1024; }}
        http {{
            access_log {work}/nginx-access.log;
            client_body_temp_path {work}/nginx-body;
            proxy_temp_path {work}/nginx-proxy;
            fastcgi_temp_path {work}/nginx-fastcgi;
            uwsgi_temp_path {work}/nginx-uwsgi;
            scgi_temp_path {work}/nginx-scgi;
            sendfile on;
            tcp_nopush on;
            server_tokens off;
            types {{ '{content_type}' css; }}
            default_type application/octet-stream;
            server {{
                listen {HOST}:{port};
                location /static/ {{
                    alias {static_root}/;
                    gzip_static on;
                    gzip_vary on;
        {adds}
                }}
            }}
        }}
        """)


def headers_of(url, accept_gzip=True):
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"} if accept_gzip else {})
    with urllib.request.urlopen(request, timeout=5) as response:
        response.read()
        return response.status, {k.lower(): v for k, v in response.headers.items()}


def check_static_headers(name, headers, reference=None):
    """Problems with a static file response: no immutable Cache-Control, no
    gzip, a Content-Type differing from the reference's."""
    problems = []
    if "immutable" not in headers.get("cache-control", ""):
        problems.append(f"{name}: Cache-Control without immutable: {headers.get('cache-control')!r}")
    if headers.get("content-encoding") != "gzip":
        problems.append(f"{name}: not gzip-encoded: {headers.get('content-encoding')!r}")
    if reference is not None:
        for key in ("content-type", "cache-control"):
            if headers.get(key) != reference.get(key):
                problems.append(f"{name}: {key} {headers.get(key)!r} differs from {reference.get(key)!r}")
    return problems


# --- summaries --------------------------------------------------------------------------------------


def summarize(samples):
    if not samples:
        return None
    rps = [s["rps"] for s in samples]
    return {
        "rps": statistics.median(rps),
        # Run-to-run spread: standard deviation over mean.
        "rps_cv": statistics.stdev(rps) / statistics.mean(rps) if len(rps) > 1 else None,
        "rps_min": min(rps),
        "rps_max": max(rps),
        "p50_ms": statistics.median(s["p50_ms"] for s in samples),
        "p99_ms": statistics.median(s["p99_ms"] for s in samples),
        "errors": sum(sum(s["errors"].values()) for s in samples),
        "disturbed_samples": sum(1 for s in samples if s["other_cpu_cores"] > NOISY_CORES),
        "samples": samples,
    }


def summarize_memory(samples):
    if not samples:
        return None
    pick = lambda key: [v for s in samples for v in s[key] if v is not None]  # noqa: E731
    return {
        "workers": samples[-1]["workers"],
        "worker_rss_mb": statistics.median(pick("worker_rss_kb")) / 1024,
        "worker_hwm_mb": max(pick("worker_hwm_kb")) / 1024,
        "worker_pss_mb": statistics.median(pick("worker_pss_kb")) / 1024,
        "worker_private_mb": statistics.median(pick("worker_private_kb")) / 1024,
        "total_pss_mb": statistics.median(s["total_pss_kb"] for s in samples) / 1024,
        "recycled_workers": sum(max(0, s["spawned"] - s["workers"]) for s in samples),
        "samples": samples,
    }


def ratios(dynamic):
    out = []
    for top, bottom, meaning in RATIOS:
        if top not in dynamic or bottom not in dynamic:
            continue
        per_round = [a["rps"] / b["rps"] for a, b in zip(dynamic[top]["samples"], dynamic[bottom]["samples"])]
        out.append({"numerator": top, "denominator": bottom, "meaning": meaning,
                    "ratio": dynamic[top]["rps"] / dynamic[bottom]["rps"],
                    "median_of_rounds": statistics.median(per_round),
                    "per_round": per_round,
                    "p99_ratio": dynamic[top]["p99_ms"] / dynamic[bottom]["p99_ms"]})
    return out


def public_argv(argv, python, pyz, venv, work):
    """A command line without this machine's paths."""
    out = []
    for arg in argv:
        arg = arg.replace(str(venv / "bin") + "/", "venv/bin/").replace(pyz, "example_project.pyz")
        arg = arg.replace(python, "python").replace(str(venv), "venv").replace(str(work), "$WORK")
        out.append(arg)
    return out


# --- main -------------------------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pyz", default=str(REPO / "dist" / "example_project.pyz"))
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--duration", type=int, default=5, help="seconds of recorded load per run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unrecorded load before each run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--venv-dir", help="keep the virtualenv in DIR/venv: created when missing, reused "
                        "when present (default: a fresh one in a temporary directory)")
    parser.add_argument("--only", help="comma-separated configuration names (default: all)")
    parser.add_argument("--no-static", action="store_true", help="skip the static file runs")
    parser.add_argument("--no-nginx", action="store_true", help="skip nginx")
    parser.add_argument("--skip-build", action="store_true", help="do not time a build of the artifact")
    parser.add_argument("--retries", type=int, default=2, help="runs disturbed by other load are repeated "
                        "up to this many times (the least disturbed is kept)")
    parser.add_argument("--quiet-wait", type=int, default=QUIET_WAIT, help="seconds to wait at most for the "
                        "machine to be quiet before each run")
    parser.add_argument("--output", default=str(HERE / "results" / "throughput.json"))
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.duration < 1:
        parser.error("--rounds and --duration must be at least 1")

    def handle_signal(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, handle_signal)
    signal.signal(signal.SIGHUP, handle_signal)
    try:
        return measure(args)
    finally:
        stop_all()


def log(message):
    print(message, flush=True)


def measure(args):
    wrk = ensure_tool("wrk", "wrk")
    nginx = None if args.no_nginx or args.no_static else ensure_tool("nginx", "nginx", required=False)
    pyz = str(Path(args.pyz).resolve())
    pyz_path = Path(pyz)
    started_all = time.monotonic()

    with tempfile.TemporaryDirectory(prefix="zipserve-throughput-") as tmp:
        work = Path(tmp)
        venv_parent = Path(args.venv_dir).resolve() if args.venv_dir else work
        venv = venv_parent / "venv"
        if not venv.exists():
            record = json.loads(next(pyz_path.parent.glob("example_project-*.json")).read_text())
            log("creating a virtualenv with the artifact's package versions…")
            venv_parent.mkdir(parents=True, exist_ok=True)
            venv = make_venv(venv_parent, record)
        python = str(venv / "bin" / "python")
        for script in ("pyuwsgi", "gunicorn", "example-project"):
            if not (venv / "bin" / script).exists():
                sys.exit(f"{venv} has no bin/{script}: not a virtualenv made by this script; remove it")

        (work / "home").mkdir()
        base_env = {key: value for key, value in os.environ.items()
                    if not key.startswith(("SHIV_", "DJANGO_", "UWSGI_", "GUNICORN_")) and key not in (
                        "WORKERS", "THREADS", "BIND", "TIMEOUT", "DATABASE_URL", "EXAMPLE_PROJECT_CONFIG")}
        base_env.update(SECRET_KEY=SECRET_KEY, HTTPS="false", STATE_DIR=str(work / "state"),
                        HOME=str(work / "home"), SHIV_ROOT=str(work / "shiv-root"))
        venv_env = dict(base_env, DJANGO_SETTINGS_MODULE="example_project.settings")

        log("migrating and adding greetings…")
        subprocess.run([python, pyz, "migrate", "--noinput", "-v0"], check=True, env=base_env)
        subprocess.run([python, "-c", "import django; django.setup()\n"
                        "from example_project.guestbook.models import Greeting\n"
                        "Greeting.objects.all().delete()\n"
                        "Greeting.objects.bulk_create(\n"
                        f"    [Greeting(text=f'Greeting {{i}}') for i in range({GREETINGS})])"],
                       check=True, env=venv_env)
        shown = subprocess.run([python, pyz, "config", "show"], check=True, env=base_env, capture_output=True,
                               text=True).stdout
        workers = int(re.search(r"^WORKERS\s+(\d+)", shown, re.M).group(1))
        ours = our_server_args(venv, venv_env)
        configs = configurations(python, pyz, venv, workers, ours)
        if args.only:
            wanted = [name.strip() for name in args.only.split(",") if name.strip()]
            unknown = set(wanted) - set(configs)
            if unknown:
                sys.exit(f"unknown configuration(s): {', '.join(sorted(unknown))}; "
                         f"known: {', '.join(configs)}")
            configs = {name: configs[name] for name in configs if name in wanted}
        extraction = next((work / "shiv-root").glob(f"{pyz_path.name}_*"))
        static_root = extraction / "site-packages" / "example_project" / "static_collected"

        script = work / "summary.lua"
        script.write_text(WRK_SCRIPT)
        results = {
            "python": platform.python_version(),
            "machine": {"cpus": os.cpu_count(), "kernel": platform.release(),
                        "wrk": tool_version([wrk, "--version"]),
                        "nginx": tool_version([nginx, "-v"]) if nginx else None},
            "settings": {"rounds": args.rounds, "duration_s": args.duration, "warmup_s": args.warmup,
                         "connections": args.connections, "wrk_threads": args.threads, "workers": workers,
                         "greetings": GREETINGS, "static_request_headers": list(STATIC_HEADERS)},
            "configs": {},
            "problems": [],
        }
        for name, (kind, description, build, _) in configs.items():
            results["configs"][name] = {
                "server": kind, "description": description,
                "argv": public_argv(build(f"{HOST}:PORT"), python, pyz, venv, work)}

        # Preflight: every configuration starts and answers; the static file's
        # headers through our servers and nginx.
        log(f"preflight: {len(configs)} configurations, {workers} workers for ours")
        css_path, static_headers = None, {}
        for name, (kind, _, build, uses_venv_env) in configs.items():
            port = free_port()
            address = f"{HOST}:{port}"
            env = venv_env if uses_venv_env else base_env
            with running(build(address), env, work / f"{name}.log", stop_signal_for(name)) as server:
                start = server.wait_ready(f"http://{address}/")
                with urllib.request.urlopen(f"http://{address}/", timeout=5) as response:
                    html = response.read().decode()
                if html.count("Greeting ") < GREETINGS:
                    raise RuntimeError(f"{name}: the page does not list the greetings")
                found = re.search(r'href="(/static/[^"]+\.[0-9a-f]{12}\.css)"', html)
                if not found:
                    raise RuntimeError(f"{name}: no hashed CSS file in the page")
                css_path = css_path or found.group(1)
                time.sleep(1.0)  # gunicorn boots its workers after answering
                pids, _, _ = worker_pids(server, kind)
                results["configs"][name]["workers"] = len(pids)
                results["configs"][name]["first_answer_s"] = round(start, 2)
                if name in STATIC_CONFIGS and not args.no_static:
                    status, headers = headers_of(f"http://{address}{css_path}")
                    static_headers[name] = headers
                log(f"  {name:<15} {len(pids)} workers, first answer after {start:.2f} s")

        reference = static_headers.get("ours-uwsgi") or next(iter(static_headers.values()), None)
        nginx_conf = None
        if nginx and reference:
            extra = [(key.title(), value) for key, value in reference.items() if key not in NGINX_OWN]
            nginx_port = free_port()
            nginx_conf = work / "nginx.conf"
            nginx_conf.write_text(
                nginx_config(work, nginx_port, static_root, reference["content-type"], extra))
            nginx_argv = [nginx, "-p", str(work), "-e", str(work / "nginx-error.log"), "-c", str(nginx_conf)]
            with running(nginx_argv, base_env, work / "nginx.log", signal.SIGTERM) as server:
                server.wait_ready(f"http://{HOST}:{nginx_port}{css_path}")
                static_headers["nginx"] = headers_of(f"http://{HOST}:{nginx_port}{css_path}")[1]
        for name, headers in static_headers.items():
            results["problems"] += check_static_headers(
                name, headers, None if name == "ours-uwsgi" else reference)
        results["static"] = {
            "path": css_path,
            "headers": {name: {k: v for k, v in h.items() if k not in ("date", "last-modified", "etag")}
                        for name, h in static_headers.items()},
            "header_names_only_in": {name: sorted(set(h) - set(reference) - INCIDENTAL)
                                     for name, h in static_headers.items() if reference},
            "header_names_missing_from": {name: sorted(set(reference) - set(h) - INCIDENTAL)
                                          for name, h in static_headers.items() if reference},
        }
        for problem in results["problems"]:
            log(f"  PROBLEM: {problem}")

        # The measured rounds.
        dynamic = {name: [] for name in configs}
        static = {name: [] for name in configs if name in STATIC_CONFIGS and not args.no_static}
        if nginx_conf:
            static["nginx"] = []
        memory = {name: [] for name in configs}
        order = list(configs) + (["nginx"] if nginx_conf else [])

        def run_once(name):
            """One run of a configuration: a fresh server, its samples."""
            port = free_port()
            address = f"{HOST}:{port}"
            out = {}
            if name == "nginx":
                nginx_conf.write_text(nginx_config(work, port, static_root, reference["content-type"], extra))
                with running(nginx_argv, base_env, work / "nginx.log", signal.SIGTERM) as server:
                    url = f"http://{address}{css_path}"
                    server.wait_ready(url)
                    out["static"] = load(wrk, script, url, args, STATIC_HEADERS, server.pgid)
                (work / "nginx-access.log").unlink(missing_ok=True)
                return out
            kind, _, build, uses_venv_env = configs[name]
            env = venv_env if uses_venv_env else base_env
            with running(build(address), env, work / f"{name}.log", stop_signal_for(name)) as server:
                server.wait_ready(f"http://{address}/")
                out["dynamic"] = load(wrk, script, f"http://{address}/", args, (), server.pgid)
                out["memory"] = server_memory(server, kind)
                if name in static:
                    url = f"http://{address}{css_path}"
                    out["static"] = load(wrk, script, url, args, STATIC_HEADERS, server.pgid)
            (work / f"{name}.log").unlink(missing_ok=True)
            return out

        results["size"] = {"pyz_bytes": pyz_path.stat().st_size,
                           "extracted_bytes": directory_size(extraction)}

        def disturbance(out):
            return max(out[key]["other_cpu_cores"] for key in ("dynamic", "static") if key in out)

        for round_number in range(args.rounds):
            shift = round_number % len(order)
            this_round = order[shift:] + order[:shift]
            log(f"round {round_number + 1}/{args.rounds}: {', '.join(this_round)}")
            for name in this_round:
                best = None
                for attempt in range(1 + args.retries):
                    # After a disturbed run, ask for a longer quiet spell.
                    wait_for_quiet(log, args.quiet_wait, span=0.3 if attempt == 0 else 5.0)
                    out = run_once(name)
                    out["attempt"] = attempt + 1
                    if best is None or disturbance(out) < disturbance(best):
                        best = out
                    if disturbance(out) <= NOISY_CORES:
                        break
                    log(f"  {name}: other processes used {disturbance(out):.2f} cores during the run"
                        + ("; again" if attempt < args.retries else "; keeping the least disturbed run"))
                if "dynamic" in best:
                    best["dynamic"]["attempt"] = best["attempt"]
                    dynamic[name].append(best["dynamic"])
                    memory[name].append(best["memory"])
                    log(f"  {name:<15} dynamic {describe(best['dynamic'])}  "
                        f"worker RSS {statistics.median(best['memory']['worker_rss_kb']) / 1024:.0f} MB")
                if "static" in best:
                    best["static"]["attempt"] = best["attempt"]
                    static[name].append(best["static"])
                    log(f"  {name:<15} static  {describe(best['static'])}")

            # Completed rounds are kept even if a later one is interrupted.
            results["rounds_completed"] = round_number + 1
            results["measure_seconds"] = round(time.monotonic() - started_all)
            data = save(results, summaries(dynamic, static, memory), args.output)

        if not args.skip_build:
            results["build_seconds"] = time_build(work)
            data = save(results, summaries(dynamic, static, memory), args.output)
    log("")
    log(render_table(data))
    log(f"\nwrote {args.output}")
    return 0


def summaries(dynamic, static, memory):
    """Medians, ratios and problems from the samples so far."""
    out = {"dynamic": {name: summarize(samples) for name, samples in dynamic.items() if samples},
           "static_runs": {name: summarize(samples) for name, samples in static.items() if samples},
           "memory": {name: summarize_memory(samples) for name, samples in memory.items() if samples}}
    out["ratios"] = ratios(out["dynamic"])
    spreads = [row["rps_cv"] for row in out["dynamic"].values() if row["rps_cv"] is not None]
    out["noise"] = {"median_rps_cv": statistics.median(spreads) if spreads else None,
                    "max_rps_cv": max(spreads) if spreads else None}
    problems = []
    for part, runs in (("dynamic", out["dynamic"]), ("static", out["static_runs"])):
        for name, summary in runs.items():
            if summary["errors"]:
                problems.append(f"{name}: {summary['errors']} errors during the {part} runs")
            if summary["disturbed_samples"]:
                problems.append(
                    f"{name}: {summary['disturbed_samples']} {part} samples disturbed by other load")
    out["run_problems"] = problems
    return out


def save(results, summary, output):
    """Write the results so far; returns them."""
    data = dict(results, dynamic=summary["dynamic"], memory=summary["memory"], ratios=summary["ratios"],
                noise=summary["noise"], problems=results["problems"] + summary["run_problems"])
    runs = summary["static_runs"]
    data["static"] = dict(results["static"], runs=runs)
    if "nginx" in runs:
        data["static"]["ratios_to_nginx"] = {name: row["rps"] / runs["nginx"]["rps"]
                                             for name, row in runs.items() if name != "nginx"}
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_suffix(".json.tmp")
    partial.write_text(json.dumps(data, indent=2) + "\n")
    partial.replace(output)
    return data


def load(wrk, script, url, args, headers, pgid):
    if args.warmup:
        run_wrk(wrk, script, url, args.warmup, args.connections, args.threads, headers)
    return run_wrk(wrk, script, url, args.duration, args.connections, args.threads, headers, pgid)


def describe(sample):
    errors = f"  errors {sample['errors']}" if sample["errors"] else ""
    other = sample["other_cpu_cores"]
    noisy = f"  (others used {other:.2f} cores)" if other > NOISY_CORES else ""
    return (f"{sample['rps']:8.0f} req/s  p50 {sample['p50_ms']:6.2f} ms  p99 {sample['p99_ms']:7.2f} ms"
            f"{errors}{noisy}")


def time_build(work):
    """Seconds for one `python -m django_zipserve build` of the example
    project, as `make pyz` runs it, into a scratch directory."""
    log("timing a build of the artifact…")
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "django_zipserve", "build", "--quiet",
                             "--require", str(REPO), "--output-dir", str(work / "build-out")],
                            cwd=REPO / "example_project", capture_output=True, text=True)
    if result.returncode != 0:
        log(f"  build failed ({result.returncode}); not timed:\n{result.stderr[-2000:]}")
        return None
    return round(time.monotonic() - started, 1)


def render_table(results):
    lines = ["configuration    req/s (min-max)          p50 ms   p99 ms   worker RSS  peak RSS",
             "---------------  -----------------------  -------  -------  ----------  --------"]
    for name, row in results["dynamic"].items():
        mem = results["memory"][name]
        lines.append(f"{name:<15}  {row['rps']:7.0f} ({row['rps_min']:5.0f}-{row['rps_max']:5.0f})      "
                     f"{row['p50_ms']:7.2f}  {row['p99_ms']:7.2f}  {mem['worker_rss_mb']:7.1f} MB  "
                     f"{mem['worker_hwm_mb']:5.1f} MB")
    lines.append("")
    for ratio in results["ratios"]:
        rounds = ", ".join(f"{r:.2f}" for r in ratio["per_round"])
        lines.append(f"{ratio['numerator']} / {ratio['denominator']}: {ratio['ratio']:.3f}  "
                     f"(per round {rounds}; {ratio['meaning']})")
    runs = results["static"].get("runs") or {}
    if runs:
        lines.append("")
        lines.append(f"static {results['static']['path']} (gzip):")
        for name, row in runs.items():
            ratio = results["static"].get("ratios_to_nginx", {}).get(name)
            tail = f"  {ratio:.3f} of nginx" if ratio else ""
            lines.append(f"  {name:<15} {row['rps']:8.0f} req/s  p99 {row['p99_ms']:6.2f} ms{tail}")
    size = results["size"]
    lines.append("")
    build = results.get("build_seconds")
    lines.append(f"artifact {size['pyz_bytes'] / 1e6:.1f} MB, "
                 f"extracted {size['extracted_bytes'] / 1e6:.1f} MB"
                 + (f", build {build:.0f} s" if build else ""))
    for problem in results["problems"]:
        lines.append(f"PROBLEM: {problem}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
