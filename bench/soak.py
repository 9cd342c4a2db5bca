"""Soak: blue/green switches under steady load, under a real systemd.

For each server, a systemd of its own is booted (``tests/systemd_host.py``,
which keeps this machine's files untouched) and the deployment guide is
followed as the end-to-end test does (``tests/deployment.py``): the example
artifact (1.0.0) and a second build (1.0.1) are copied in, configured,
rendered, deployed with ``--migrate`` and started. Then ``--switches``
switches alternate ``deploy --switch`` to 1.0.1 and ``rollback --switch``
to 1.0.0, while 4 clients each send one health request every 50 ms, every
one on a new connection. Every request that fails (a reset, a refused or
dropped connection, a status other than 200) counts.

Then the first start of a colour is timed with the release's extraction
removed (what a switch cost before ``deploy`` extracted the release first)
and with it in place (what it costs now), ``--starts`` times each.

``--kill-mode control-group`` renders the units with systemd's default
KillMode instead of ours (``mixed``), to show what it costs.
``--big`` also adds a build of the example with large extra requirements
(over 100 MB extracted) to the start-up timing.

Needs root, Linux, systemd, util-linux and Python 3.11 at /usr/bin/python3.11
(Debian 12's). Bounded: at most ``--limit`` seconds of load per server.

Usage: python bench/soak.py [--switches 20] [--servers pyuwsgi,gunicorn]
       [--starts 3] [--kill-mode mixed|control-group] [--big] [--output FILE]
Writes bench/results/soak.json (or FILE) and prints a summary.
"""

import argparse
import json
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from tests.deployment import CURRENT, NAME, PYTHON, ROOT, Site  # noqa: E402
from tests.helpers import build_artifact  # noqa: E402
from tests.load import Load  # noqa: E402
from tests.systemd_host import SystemdHost  # noqa: E402

#: Extra requirements that make the example's extraction larger than 100 MB.
BIG_REQUIREMENTS = ("numpy", "pandas", "scipy")


def log(message):
    print(message, flush=True)


def variant(work, version, requirements=()):
    """The example project rebuilt as ``version``, with extra requirements."""
    source = work / f"example-{version}" / "example_project"
    shutil.copytree(
        REPO / "example_project",
        source,
        ignore=shutil.ignore_patterns("dist", "static_collected", "*.egg-info"),
    )
    for path in (source / "pyproject.toml", source / "example_project" / "__init__.py"):
        path.write_text(path.read_text().replace("1.0.0", version))
    if requirements:
        pyproject = source / "pyproject.toml"
        listed = ", ".join(f'"{item}"' for item in ("psycopg[binary]>=3.1", *requirements))
        pyproject.write_text(
            re.sub(
                r"(?m)^extra-requirements = .*$", f"extra-requirements = [{listed}]", pyproject.read_text()
            )
        )
    log(f"building {version}{' with ' + ', '.join(requirements) if requirements else ''}")
    return build_artifact(source, source.parent / "dist")


def switches(site, count, first, second, limit):
    """``count`` switches under load; the failures and each switch's time."""
    times = []
    with Load(site.health, limit=limit) as load:
        load.serve(50)
        for index in range(count):
            if index % 2 == 0:
                result = site.run(f"{PYTHON} {second} deploy --root {ROOT} --switch", timeout=300)
            else:
                result = site.run(f"{CURRENT} rollback --root {ROOT} --switch", timeout=300)
            seconds = float(re.search(r"switched \w+ -> \w+ in ([\d.]+) s", result.stdout).group(1))
            times.append(seconds)
            log(f"  switch {index + 1}/{count}: {seconds:.1f} s, {len(load.failures())} failed so far")
            load.serve(50)
    return {
        "switches": count,
        "requests": len(load.results),
        "failed": len(load.failures()),
        "failures": [error for _, _, error in load.failures()],
        "switch_seconds": times,
    }


def start_seconds(site, colour, cold):
    """Start ``colour`` of what ``current`` points to; with ``cold``, its
    extraction removed first (as before deploy extracted releases)."""
    site.run(f"systemctl stop {NAME}@{colour}.service")
    if cold:
        build = site.run(f"readlink {ROOT}/current").stdout.strip().rpartition("-")[2]
        site.run(f"rm -rf /var/cache/private/{NAME}/{NAME}.pyz_{build}")
    started = time.monotonic()
    site.run(f"systemctl start {NAME}@{colour}.service", timeout=300)
    return time.monotonic() - started


def start_times(site, count):
    live = "blue" if site.active("blue") == "active" else "green"
    idle = "green" if live == "blue" else "blue"
    site.run(f"systemctl start {NAME}@{idle}.service", timeout=300)
    timings = {
        "cold": [start_seconds(site, idle, cold=True) for _ in range(count)],
        "warm": [start_seconds(site, idle, cold=False) for _ in range(count)],
    }
    site.run(f"systemctl stop {NAME}@{idle}.service")
    return {kind: {"median": statistics.median(values), "runs": values} for kind, values in timings.items()}


def soak(server, artifacts, args, work):
    host = SystemdHost.boot(work / f"systemd-{server}.log")
    try:
        site = Site(host, server)
        first, second = (site.copy_artifact(path) for path in artifacts["example"])
        site.configure(first)
        site.install(first)
        if args.kill_mode != "mixed":
            unit = f"/etc/systemd/system/{NAME}@.service"
            host.write(
                unit, host.path(unit).read_text().replace("KillMode=mixed", f"KillMode={args.kill_mode}")
            )
            site.run("systemctl daemon-reload")
        site.start()
        log(f"{server}: {args.switches} switches under load")
        result = switches(site, args.switches, first, second, args.limit)
        result["start_seconds"] = {"example": start_times(site, args.starts)}
        if "big" in artifacts:
            big = site.copy_artifact(artifacts["big"])
            site.run(f"{PYTHON} {big} deploy --root {ROOT} --switch", timeout=600)
            size = site.run(f"du -sm /var/cache/private/{NAME}").stdout.split()[0]
            result["start_seconds"]["big"] = start_times(site, args.starts)
            result["start_seconds"]["big"]["cache_mib"] = int(size)
        return result
    finally:
        host.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--switches", type=int, default=20)
    parser.add_argument("--servers", default="pyuwsgi,gunicorn")
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--kill-mode", default="mixed", choices=("mixed", "control-group"))
    parser.add_argument("--big", action="store_true")
    parser.add_argument("--pyz", type=Path, default=REPO / "dist" / "example_project.pyz")
    parser.add_argument("--limit", type=float, default=900, help="seconds of load per server at most")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "soak.json")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="zipserve-soak-"))
    try:
        artifacts = {"example": (args.pyz, variant(work, "1.0.1"))}
        if args.big:
            artifacts["big"] = variant(work, "1.0.2", BIG_REQUIREMENTS)
        results = {
            "kill_mode": args.kill_mode,
            "load": "4 clients, one health request each per 50 ms, a new connection each",
            "servers": {
                server: soak(server, artifacts, args, work) for server in args.servers.split(",") if server
            },
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    for server, result in results["servers"].items():
        starts = result["start_seconds"]
        log(
            f"{server}: {result['switches']} switches, {result['requests']} requests, "
            f"{result['failed']} failed; "
            f"switch median {statistics.median(result['switch_seconds']):.1f} s; "
            + "; ".join(
                f"{name} start cold {timing['cold']['median']:.1f} s / warm {timing['warm']['median']:.1f} s"
                for name, timing in starts.items()
            )
        )
    log(f"wrote {args.output}")
    return 0 if all(result["failed"] == 0 for result in results["servers"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
