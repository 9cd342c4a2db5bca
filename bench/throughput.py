"""Throughput, latency and memory of the example artifact's servers, side by side.

Every configuration serves the example project on 127.0.0.1 and is
loaded with wrk (closed loop, ``-c`` connections over ``-t`` threads) for
``--duration`` seconds after ``--warmup`` seconds of unrecorded load, in
``--rounds`` rounds; within a round every configuration runs once, one after
the other, in an order rotated from round to round, so that drift of a shared
machine spreads over all of them. Reported: the median over the rounds of
requests/s and of the p50 and p99 latencies, and ratios.

The configurations, and what each is compared with, are declared in
``configurations.py``: our servers as the artifact runs them, and the plain
servers from a virtualenv with their own defaults, our worker count or all
of our defaults.

The virtualenv holds the same project and the same package versions as the
artifact (pinned from its build record, as ``bench/startup.py`` does), and
every configuration runs on that virtualenv's interpreter, the artifact too.
The configuration is the same for all: environment variables SECRET_KEY,
HTTPS=false, STATE_DIR (one migrated SQLite database holding 10 greetings),
HOME; WORKERS is left to its default (2 per core).

Static file: the hashed CSS file the page links to, requested with
``Accept-Encoding: gzip``, through every ours-* (our static front, before
Django's request handling) and its django-* twin (``STATIC_FRONT=false``:
Django's WhiteNoise middleware, as before the front), and from nginx
(``worker_processes 2``, ``gzip_static on``) serving the same collected
directory of the artifact's extraction with the same headers. Before any
load, each of ours answers requests with ``Accept-Encoding: gzip``, ``br``
and none with exactly the headers of django-gunicorn's answer (transport
headers aside) and the encoding asked for; nginx's gzip answer with the same
Content-Type and Cache-Control.

Uploaded file: a 48 KiB photo in MEDIA_ROOT (the state directory), through
every ours-* (``django_zipserve.media``) and from nginx (``alias`` to the
same directory, our headers added), checked likewise: the same
Content-Type, Cache-Control and safety headers from all.

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
       [--output FILE]
Writes bench/results/throughput.json and prints a table; bench/report.py
renders it into docs/benchmarks.rst and docs/benchmarks.png.
"""

import argparse
import signal
import sys
import tempfile
import time
from pathlib import Path

from common import HERE, REPO, log
from configurations import DYNAMIC, STATIC, comparisons, select
from preflight import check_configurations, compare_static
from procs import QUIET_WAIT
from results import new_results, render_table, save
from rounds import Samples, plan, run_rounds
from servers import stop_all
from testbed import GREETINGS, prepare, time_build
from tools import ensure_tool
from wrk import Wrk


def main(argv=None):
    args = parse_args(argv)

    def handle_signal(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    # Interrupted or not, no server may outlive the script.
    signal.signal(signal.SIGTERM, handle_signal)
    signal.signal(signal.SIGHUP, handle_signal)
    try:
        return measure(args)
    finally:
        stop_all()


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pyz", default=str(REPO / "dist" / "example_project.pyz"))
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--duration", type=int, default=5, help="seconds of recorded load per run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unrecorded load before each run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument(
        "--venv-dir",
        help="keep the virtualenv in DIR/venv: created when missing, reused "
        "when present (default: a fresh one in a temporary directory)",
    )
    parser.add_argument("--only", help="comma-separated configuration names (default: all)")
    parser.add_argument(
        "--no-static", action="store_true", help="skip the static file runs (and the django-* configurations)"
    )
    parser.add_argument("--no-nginx", action="store_true", help="skip nginx")
    parser.add_argument("--skip-build", action="store_true", help="do not time a build of the artifact")
    parser.add_argument(
        "--retries",
        type=int,
        default=2,
        help="runs disturbed by other load are repeated up to this many times (the least disturbed is kept)",
    )
    parser.add_argument(
        "--quiet-wait",
        type=int,
        default=QUIET_WAIT,
        help="seconds to wait at most for the machine to be quiet before each run",
    )
    parser.add_argument("--output", default=str(HERE / "results" / "throughput.json"))
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.duration < 1:
        parser.error("--rounds and --duration must be at least 1")
    try:
        args.configurations = select(args.only)
    except ValueError as exc:
        parser.error(str(exc))
    if args.no_static and not any(DYNAMIC in c.loads for c in args.configurations):
        parser.error("--no-static: the configurations named are measured on the static file only")
    return args


def measure(args):
    wrk = ensure_tool("wrk", "wrk")
    nginx = None if args.no_nginx or args.no_static else ensure_tool("nginx", "nginx", required=False)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="zipserve-throughput-") as tmp:
        bed = prepare(args.pyz, args.venv_dir, Path(tmp))
        data = benchmark(args, bed, wrk, nginx, started)
    log("")
    log(render_table(data))
    log(f"\nwrote {args.output}")
    return 0


def benchmark(args, bed, wrk_path, nginx_path, started):
    """Check, then measure every configuration on the test bed; the results
    are saved after each round. Returns them."""
    configurations = args.configurations
    results = new_results(
        settings(args, bed), bed.installation, configurations, bed.work, wrk_path, nginx_path
    )
    css_path, answers, media_answers, front_problems = check_configurations(
        bed, configurations, results["configs"], not args.no_static
    )
    nginx, file_problems, results["static"], results["media"] = compare_static(
        bed, nginx_path, css_path, configurations, answers, media_answers
    )
    results["problems"] = front_problems + file_problems
    results["size"] = bed.size()

    wrk = Wrk.with_script(wrk_path, bed.work, args.connections, args.threads, args.duration, args.warmup)
    runs = plan(bed, wrk, configurations, None if args.no_static else css_path, nginx)
    samples = Samples()
    for completed in run_rounds(runs, samples, args.rounds, args.retries, args.quiet_wait):
        # Completed rounds are kept even if a later one is interrupted.
        results["rounds_completed"] = completed
        results["measure_seconds"] = round(time.monotonic() - started)
        data = save(results, samples.summaries(comparisons(DYNAMIC), comparisons(STATIC)), args.output)
    if not args.skip_build:
        results["build_seconds"] = time_build(bed.work)
        data = save(results, samples.summaries(comparisons(DYNAMIC), comparisons(STATIC)), args.output)
    return data


def settings(args, bed):
    return {
        "rounds": args.rounds,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "connections": args.connections,
        "wrk_threads": args.threads,
        "workers": bed.installation.workers,
        "greetings": GREETINGS,
    }


if __name__ == "__main__":
    sys.exit(main())
