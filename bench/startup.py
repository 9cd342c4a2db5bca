"""Start-up and size of the example artifact, measured side by side.

For each server (pyuwsgi, gunicorn) it alternates runs of

- the zipapp with its extraction already present (warm),
- the same project and package versions installed in a virtualenv,
- the zipapp with an empty extraction root (cold: extraction included),

all with the same interpreter (the virtualenv's), so that only the way the
project is packaged differs,

timing each from the spawn of the process to its first 200 answer, and
reports medians and the ratios pyz/venv and cold/warm. It also reports the
artifact's size, its extracted size and an estimate of the container image
one would otherwise ship: a Debian base (the installed size of Debian's
"required" packages), the Python installation and the same packages.

Usage: python bench/startup.py --pyz dist/example_project.pyz [--runs 5]
Writes bench/results/startup.json and prints a table.
"""

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.request
from pathlib import Path

from common import HERE, REPO, SECRET_KEY, directory_size, free_port, make_venv

START_TIMEOUT = 120


def time_to_first_200(command, env, port):
    """Seconds from spawn to the first 200 on /; then a graceful stop."""
    started = time.monotonic()
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        while time.monotonic() - started < START_TIMEOUT:
            if process.poll() is not None:
                raise RuntimeError(f"{command[:3]} exited with {process.returncode}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    if response.status == 200:
                        return time.monotonic() - started
            except OSError:
                time.sleep(0.01)
        raise RuntimeError(f"no answer within {START_TIMEOUT} s")
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def server_args(server, port):
    return (
        ["pyuwsgi", "--http", f"127.0.0.1:{port}"]
        if server == "pyuwsgi"
        else ["gunicorn", "--bind", f"127.0.0.1:{port}"]
    )


def debian_required_size():
    """Installed size (bytes) of Debian's 'Priority: required' packages:
    roughly the content of a slim Debian base image."""
    try:
        dump = subprocess.run(["apt-cache", "dumpavail"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    total, seen = 0, set()
    for stanza in dump.split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in stanza.splitlines() if ": " in line and not line[0].isspace()
        )
        if fields.get("Priority") == "required" and fields.get("Package") not in seen:
            seen.add(fields.get("Package"))
            total += int(fields.get("Installed-Size", "0")) * 1024
    return total or None


def python_installation_size():
    """The interpreter's standard library and binary, as a slim image ships
    them: no site-packages, no test suite, no static library."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    size = sum(
        f.stat().st_size
        for f in stdlib.rglob("*")
        if f.is_file()
        and not f.is_symlink()
        and f.suffix != ".a"
        and not {"site-packages", "test", "__pycache__"} & set(f.parts)
    )
    return size + Path(sys.executable).resolve().stat().st_size


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pyz", default=str(REPO / "dist" / "example_project.pyz"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--output", default=str(HERE / "results" / "startup.json"))
    return parser.parse_args(argv)


def bench_env(work):
    # The caller's SHIV_/DJANGO_ variables would change what is measured; everything lives under `work`.
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SHIV_", "DJANGO_"))}
    env.update(
        SECRET_KEY=SECRET_KEY,
        HTTPS="false",
        STATE_DIR=str(work / "state"),
        WORKERS="2",
        HOME=str(work / "home"),
        SHIV_ROOT=str(work / "warm-root"),
    )
    return env


def prepare(venv, python, pyz, env):
    """Migrate the database every start uses; extract the artifact into the warm root."""
    subprocess.run(
        [str(venv / "bin" / "example-project"), "migrate", "--noinput", "-v0"], check=True, env=env
    )
    subprocess.run([python, str(pyz), "zipapp", "extract"], check=True, env=env, capture_output=True)


def time_start(command, server, env):
    port = free_port()
    return time_to_first_200([*command, *server_args(server, port)], env, port)


def time_server(server, runs, pyz_command, venv_command, env, work):
    """The three ways of starting `server`, alternated run by run so that a
    slow spell of the machine weighs on all three alike."""
    warm, in_venv, cold = [], [], []
    for run in range(runs):
        warm.append(time_start(pyz_command, server, env))
        in_venv.append(time_start(venv_command, server, env))
        # A root of its own for each cold run: the one before has filled its root.
        cold_env = dict(env, SHIV_ROOT=str(work / f"cold-root-{server}-{run}"))
        cold.append(time_start(pyz_command, server, cold_env))
    return server_result(warm, in_venv, cold)


def server_result(warm, in_venv, cold):
    medians = {
        name: statistics.median(values)
        for name, values in (("pyz_warm", warm), ("venv", in_venv), ("pyz_cold", cold))
    }
    return dict(
        medians,
        warm_over_venv=medians["pyz_warm"] / medians["venv"],
        cold_over_warm=medians["pyz_cold"] / medians["pyz_warm"],
        samples={"pyz_warm": warm, "venv": in_venv, "pyz_cold": cold},
    )


def measure_sizes(pyz, warm_root):
    extraction = next(warm_root.glob(f"{pyz.name}_*"))
    base = debian_required_size()
    python_size = python_installation_size()
    packages = directory_size(extraction / "site-packages")
    return {
        "pyz_bytes": pyz.stat().st_size,
        "extracted_bytes": directory_size(extraction),
        "image_estimate_bytes": (base or 0) + python_size + packages,
        "image_estimate_parts": {"debian_required": base, "python": python_size, "packages": packages},
    }


def measure(pyz, record, runs):
    with tempfile.TemporaryDirectory(prefix="zipserve-bench-") as tmp:
        work = Path(tmp)
        venv = make_venv(work, record)
        env = bench_env(work)
        # The virtualenv's interpreter for the artifact too: only the packaging differs.
        python = str(venv / "bin" / "python")
        prepare(venv, python, pyz, env)
        results = {"python": platform.python_version(), "runs": runs, "servers": {}}
        for server in ("pyuwsgi", "gunicorn"):
            results["servers"][server] = time_server(
                server, runs, [python, str(pyz)], [str(venv / "bin" / "example-project")], env, work
            )
        results["size"] = measure_sizes(pyz, work / "warm-root")
    return results


def main(argv=None):
    args = parse_args(argv)
    pyz = Path(args.pyz).resolve()
    record = json.loads(next(pyz.parent.glob("example_project-*.json")).read_text())
    results = measure(pyz, record, args.runs)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n")
    print(render_table(results))
    return 0


def render_table(results):
    lines = [
        "server    pyz warm  venv    ratio  pyz cold  cold/warm",
        "--------  --------  ------  -----  --------  ---------",
    ]
    for server, row in results["servers"].items():
        lines.append(
            f"{server:<8}  {row['pyz_warm']:6.2f} s  {row['venv']:4.2f} s  {row['warm_over_venv']:4.2f}×  "
            f"{row['pyz_cold']:6.2f} s  {row['cold_over_warm']:7.2f}×"
        )
    size = results["size"]
    lines.append("")
    lines.append(
        f"artifact {size['pyz_bytes'] / 1e6:.1f} MB, extracted {size['extracted_bytes'] / 1e6:.1f} MB, "
        f"container image estimate {size['image_estimate_bytes'] / 1e6:.0f} MB"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
