"""Releases on one host: how soon a new release answers, and what kept releases cost on disk.

Builds ``--releases`` (5) releases of the example project that differ only in
the project's own code (one module gets a different constant), each a real
build, timed. Then, for each server (pyuwsgi, gunicorn), it alternates runs of
release 2 started

- *warm*: its extraction already present;
- *new release*: only release 1 extracted under the root (the usual upgrade:
  the previous release is on the host, the new one is not);
- *cold*: on an empty extraction root (the first release on a new host),

timing each from the spawn of the process to its first 200 answer, and
reports medians and the ratios new/warm and cold/warm. It also measures the
disk used (``du``, hard links counted once) by a root holding every
release's extraction, against a root holding one.

Usage: python bench/releases.py [--releases 5] [--runs 5]
Writes bench/results/releases.json and prints a table.
"""

import argparse
import json
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import HERE, REPO, log
from startup import bench_env, time_start

#: The module of the project's own code that differs between releases.
CHANGED_MODULE = Path("example_project") / "release.py"


def build_release(work, number):
    """Build release ``number`` from a copy of the example project whose
    ``release.py`` says its number; ``(artifact, seconds)``."""
    source = work / f"source-{number}"
    shutil.copytree(
        REPO / "example_project",
        source,
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build", "dist"),
    )
    (source / CHANGED_MODULE).write_text(f'"""Which release this is."""\n\nNUMBER = {number}\n')
    started = time.monotonic()
    built = subprocess.run(
        [
            sys.executable,
            *("-m", "django_zipserve", "build", "--quiet", "--require", str(REPO)),
            *("--output-dir", str(work / f"dist-{number}")),
        ],
        cwd=source,
        check=True,
        capture_output=True,
        text=True,
    )
    seconds = time.monotonic() - started
    artifact = work / f"release-{number}.pyz"
    shutil.copyfile(built.stdout.strip().splitlines()[-1], artifact)
    artifact.chmod(0o755)
    return artifact, seconds


def extract(pyz, root, env):
    subprocess.run(
        [sys.executable, str(pyz), "zipapp", "extract"],
        check=True,
        env=dict(env, SHIV_ROOT=str(root)),
        capture_output=True,
    )


def disk_used(path):
    """Bytes ``du`` counts under ``path``: each hard-linked file once."""
    kibibytes = subprocess.run(["du", "-sk", str(path)], capture_output=True, text=True, check=True).stdout
    return int(kibibytes.split()[0]) * 1024


def time_server(server, runs, releases, env, work):
    previous, release = releases[0], releases[1]
    command = [sys.executable, str(release)]
    warm, new, cold = [], [], []
    for run in range(runs):
        warm.append(time_start(command, server, env))
        # A root holding the previous release only, made before the clock starts.
        upgrade_root = work / f"upgrade-{server}-{run}"
        extract(previous, upgrade_root, env)
        new.append(time_start(command, server, dict(env, SHIV_ROOT=str(upgrade_root))))
        cold.append(time_start(command, server, dict(env, SHIV_ROOT=str(work / f"cold-{server}-{run}"))))
    medians = {
        name: statistics.median(values) for name, values in (("warm", warm), ("new", new), ("cold", cold))
    }
    return dict(
        medians,
        new_over_warm=medians["new"] / medians["warm"],
        cold_over_warm=medians["cold"] / medians["warm"],
        samples={"warm": warm, "new": new, "cold": cold},
    )


def measure_disk(releases, env, work):
    one, kept = work / "disk-one", work / "disk-kept"
    extract(releases[0], one, env)
    for release in releases:
        extract(release, kept, env)
    return {"one_bytes": disk_used(one), "kept_bytes": disk_used(kept), "kept": len(releases)}


def measure(count, runs):
    with tempfile.TemporaryDirectory(prefix="zipserve-bench-releases-") as tmp:
        work = Path(tmp)
        built = []
        for number in range(1, count + 1):
            log(f"building release {number} of {count}")
            built.append(build_release(work, number))
        releases = [artifact for artifact, _ in built]
        env = bench_env(work)
        subprocess.run([sys.executable, str(releases[1]), "migrate", "--noinput", "-v0"], check=True, env=env)
        extract(releases[1], work / "warm-root", env)
        results = {
            "python": platform.python_version(),
            "runs": runs,
            "build_seconds": [seconds for _, seconds in built],
            "artifact_bytes": releases[1].stat().st_size,
            "servers": {},
        }
        for server in ("pyuwsgi", "gunicorn"):
            log(f"timing {server}")
            results["servers"][server] = time_server(server, runs, releases, env, work)
        results["disk"] = measure_disk(releases, env, work)
        results["disk"]["ratio"] = results["disk"]["kept_bytes"] / results["disk"]["one_bytes"]
    return results


def render_table(results):
    lines = [
        "server    warm      new release  new/warm  cold      cold/warm",
        "--------  --------  -----------  --------  --------  ---------",
    ]
    for server, row in results["servers"].items():
        lines.append(
            f"{server:<8}  {row['warm']:6.2f} s  {row['new']:9.2f} s  {row['new_over_warm']:7.2f}×  "
            f"{row['cold']:6.2f} s  {row['cold_over_warm']:8.2f}×"
        )
    disk = results["disk"]
    lines += [
        "",
        f"disk: {disk['kept']} releases {disk['kept_bytes'] / 1e6:.1f} MB, "
        f"one {disk['one_bytes'] / 1e6:.1f} MB, ratio {disk['ratio']:.2f}×",
        "build: " + ", ".join(f"{seconds:.0f} s" for seconds in results["build_seconds"]),
    ]
    return "\n".join(lines)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", type=int, default=5)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--output", default=str(HERE / "results" / "releases.json"))
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    results = measure(max(args.releases, 2), args.runs)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n")
    print(render_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
