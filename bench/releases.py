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
reports medians and the ratios new/warm and cold/warm. Before each cold
start it times what no first extraction can do without on the same disk:
writing the extraction's files in their folders, from memory (*files
alone*); beside each new release, the new release's extraction alone, in
the benchmark's process (*its extraction*). Every start begins with the disk's write queue empty. It also
measures the
disk used (``du``, hard links counted once) by a root holding every
release's extraction, against a root holding one.

Build time is set beside what no build can do without, run in the same
way: uv installing the same packages into a folder, then ``collectstatic``
(the baseline); one more build with ``--installer pip`` says what uv saved.

``--big`` adds plotly, pandas and numpy to the project (over 150 MB
installed): the same figures for a site the size of real ones.

Usage: python bench/releases.py [--releases 5] [--runs 5] [--big]
Writes bench/results/releases.json (releases-big.json) and prints a table.
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from common import HERE, REPO, log
from startup import bench_env, time_start

#: The module of the project's own code that differs between releases.
CHANGED_MODULE = Path("example_project") / "release.py"
#: What --big adds to the project: over 150 MB installed, as real sites are.
BIG_REQUIREMENTS = ("plotly", "pandas", "numpy")


def release_source(work, number, folder=None):
    """A copy of the example project whose ``release.py`` says its number."""
    source = work / f"source-{folder or number}"
    shutil.copytree(
        REPO / "example_project",
        source,
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build", "dist"),
    )
    (source / CHANGED_MODULE).write_text(f'"""Which release this is."""\n\nNUMBER = {number}\n')
    return source


def build_release(work, number, extra, installer="uv"):
    """Build release ``number``; ``(artifact, seconds)``."""
    source = release_source(work, number, f"{number}-{installer}")
    started = time.monotonic()
    built = subprocess.run(
        [
            sys.executable,
            *("-m", "django_zipserve", "build", "--quiet", "--require", str(REPO)),
            *(part for requirement in extra for part in ("--require", requirement)),
            *("--output-dir", str(work / f"dist-{number}-{installer}"), "--installer", installer),
        ],
        cwd=source,
        check=True,
        capture_output=True,
        text=True,
    )
    seconds = time.monotonic() - started
    artifact = work / f"release-{number}-{installer}.pyz"
    shutil.copyfile(built.stdout.strip().splitlines()[-1], artifact)
    artifact.chmod(0o755)
    return artifact, seconds


def baseline_build(work, extra):
    """Seconds for what no build can do without, as a build does it: uv
    installing the same packages (pip's configuration carried over), then
    collectstatic of the installed copy."""
    from django_zipserve.zipapp import installer

    source = release_source(work, 1, "baseline")
    site = work / "baseline-site"
    chosen = installer.choose("uv", dict(os.environ))
    started = time.monotonic()
    command = [*chosen.command(site, quiet=True), str(source), str(REPO), *extra]
    subprocess.run(command, check=True, env=chosen.env(dict(os.environ)), capture_output=True)
    env = dict(os.environ, PYTHONPATH=str(site), DJANGO_ZIPSERVE_BUILD="1")
    env["DJANGO_SETTINGS_MODULE"] = "example_project.settings"
    collect = (
        "import django.core.management as m; "
        "m.execute_from_command_line(['m', 'collectstatic', '--noinput', '-v0'])"
    )
    subprocess.run([sys.executable, "-S", "-c", collect], check=True, env=env, cwd=site, capture_output=True)
    return time.monotonic() - started


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
    warm, new, cold, floor, extraction = [], [], [], [], []
    # Each start begins with the disk's write queue empty (os.sync): on a
    # host the previous release was written long before the upgrade, and
    # here what the run before wrote would otherwise slow the next.
    for run in range(runs):
        os.sync()
        warm.append(time_start(command, server, env))
        # A root holding the previous release only, made before the clock starts.
        upgrade_root = work / f"upgrade-{server}-{run}"
        extract(previous, upgrade_root, env)
        extraction.append(time_extraction(release, previous, work / f"extraction-{server}-{run}", env))
        os.sync()
        new.append(time_start(command, server, dict(env, SHIV_ROOT=str(upgrade_root))))
        floor.append(creation_floor(release, work / f"floor-{server}-{run}"))
        os.sync()
        cold.append(time_start(command, server, dict(env, SHIV_ROOT=str(work / f"cold-{server}-{run}"))))
    medians = {
        name: statistics.median(values)
        for name, values in (
            ("warm", warm),
            ("new", new),
            ("cold", cold),
            ("floor", floor),
            ("extraction", extraction),
        )
    }
    return dict(
        medians,
        new_over_warm=medians["new"] / medians["warm"],
        cold_over_warm=medians["cold"] / medians["warm"],
        samples={"warm": warm, "new": new, "cold": cold, "floor": floor, "extraction": extraction},
    )


def time_extraction(release, previous, root, env):
    """Seconds the new release's extraction takes, in this process, on a
    root holding the previous release: what a new release adds to a warm
    start, without the noise of a whole start. The archive's directory is
    read before the clock starts, as the artifact's start-up has read it."""
    import zipimport

    from django_zipserve.zipapp import boot, store

    extract(previous, root, env)
    importer = zipimport.zipimporter(str(release))
    manifest = importer.get_data(store.MANIFEST_MEMBER)
    build_id = json.loads(importer.get_data("environment.json"))["build_id"]
    epoch = boot.build_epoch(json.loads(importer.get_data(boot.RECORD_MEMBER)))
    os.sync()
    started = time.monotonic()
    store.extract(
        str(release), manifest, root, f"{release.name}_{build_id}", boot.LOCK_NAME, epoch, importer.get_data
    )
    return time.monotonic() - started


def creation_floor(pyz, folder):
    """Seconds to write the files of the artifact's extraction, in their
    folders, from memory (decompressed before the clock starts), on the same
    disk and just before a cold start: what no first extraction can do
    without, whatever it decompresses or checks."""
    from django_zipserve.zipapp import store

    with zipfile.ZipFile(pyz) as archive:
        files = [entry[0] for entry in json.loads(archive.read(store.MANIFEST_MEMBER))["files"]]
        contents = {name: archive.read(store.SITE_PACKAGES + name) for name in files}
    folders = sorted({str(folder / name).rpartition("/")[0] for name in files})
    os.sync()
    started = time.monotonic()
    for path in folders:
        os.makedirs(path, exist_ok=True)
    for name, content in contents.items():
        (folder / name).write_bytes(content)
    return time.monotonic() - started


def measure_disk(releases, env, work):
    one, kept = work / "disk-one", work / "disk-kept"
    extract(releases[0], one, env)
    for release in releases:
        extract(release, kept, env)
    return {"one_bytes": disk_used(one), "kept_bytes": disk_used(kept), "kept": len(releases)}


def measure(count, runs, extra):
    with tempfile.TemporaryDirectory(prefix="zipserve-bench-releases-") as tmp:
        work = Path(tmp)
        built = []
        for number in range(1, count + 1):
            log(f"building release {number} of {count}")
            built.append(build_release(work, number, extra))
        log("building release 1 with pip, then the baseline (uv install and collectstatic)")
        pip_seconds = build_release(work, 1, extra, installer="pip")[1]
        baseline_seconds = baseline_build(work, extra)
        releases = [artifact for artifact, _ in built]
        env = bench_env(work)
        subprocess.run([sys.executable, str(releases[1]), "migrate", "--noinput", "-v0"], check=True, env=env)
        extract(releases[1], work / "warm-root", env)
        results = {
            "python": platform.python_version(),
            "runs": runs,
            "extra_requirements": list(extra),
            "build_seconds": [seconds for _, seconds in built],
            "pip_build_seconds": pip_seconds,
            "baseline_seconds": baseline_seconds,
            "build_over_baseline": statistics.median(seconds for _, seconds in built) / baseline_seconds,
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
        "server    warm      new release  new/warm  its extraction  cold      cold/warm  files alone",
        "--------  --------  -----------  --------  --------------  --------  ---------  -----------",
    ]
    for server, row in results["servers"].items():
        lines.append(
            f"{server:<8}  {row['warm']:6.2f} s  {row['new']:9.2f} s  {row['new_over_warm']:7.2f}×  "
            f"{row['extraction']:12.2f} s  {row['cold']:6.2f} s  {row['cold_over_warm']:8.2f}×  "
            f"{row['floor']:9.2f} s"
        )
    disk = results["disk"]
    lines += [
        "",
        f"disk: {disk['kept']} releases {disk['kept_bytes'] / 1e6:.1f} MB, "
        f"one {disk['one_bytes'] / 1e6:.1f} MB, ratio {disk['ratio']:.2f}×",
        "build: "
        + ", ".join(f"{seconds:.0f} s" for seconds in results["build_seconds"])
        + f" (uv); {results['pip_build_seconds']:.0f} s with pip; baseline (uv install + collectstatic) "
        f"{results['baseline_seconds']:.0f} s; build/baseline {results['build_over_baseline']:.2f}×",
    ]
    return "\n".join(lines)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", type=int, default=5)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--big", action="store_true", help="add " + ", ".join(BIG_REQUIREMENTS))
    parser.add_argument("--output", default=None)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    extra = BIG_REQUIREMENTS if args.big else ()
    results = measure(max(args.releases, 2), args.runs, extra)
    output = Path(args.output or HERE / "results" / ("releases-big.json" if args.big else "releases.json"))
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n")
    print(render_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
