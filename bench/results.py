"""The results file (bench/results/throughput.json, read by report.py) and
the table printed at the end."""

import json
import os
import platform
from pathlib import Path

from common import HOST
from static_files import STATIC_HEADERS
from stats import ratios_to_nginx
from tools import tool_version


def new_results(settings, installation, configurations, work, wrk, nginx):
    """What is known before the first round: the machine, the settings, the
    command lines (without this machine's paths)."""
    return {
        "python": platform.python_version(),
        "machine": {
            "cpus": os.cpu_count(),
            "kernel": platform.release(),
            "wrk": tool_version([wrk, "--version"]),
            "nginx": tool_version([nginx, "-v"]) if nginx else None,
        },
        "settings": dict(settings, static_request_headers=list(STATIC_HEADERS)),
        "configs": {
            c.name: {
                "server": c.server,
                "description": c.describe(installation),
                "argv": public_argv(c.argv(installation, f"{HOST}:PORT"), installation, work),
                "environment": dict(c.environment),
                "loads": list(c.loads),
                "static_front": c.static_front,
            }
            for c in configurations
        },
        "problems": [],
    }


def public_argv(argv, installation, work):
    """A command line without this machine's paths."""
    venv, python, pyz = str(installation.venv), installation.python, installation.pyz
    out = []
    for arg in argv:
        arg = arg.replace(venv + "/bin/", "venv/bin/").replace(pyz, "example_project.pyz")
        arg = arg.replace(python, "python").replace(venv, "venv").replace(str(work), "$WORK")
        out.append(arg)
    return out


def save(results, summary, output):
    """Write the results so far, with the summaries of the samples; returns them."""
    data = dict(
        results,
        dynamic=summary["dynamic"],
        memory=summary["memory"],
        ratios=summary["ratios"],
        noise=summary["noise"],
        problems=results["problems"] + summary["run_problems"],
    )
    for kind in ("static", "media"):
        runs = summary[f"{kind}_runs"]
        data[kind] = dict(results.get(kind) or {}, runs=runs)
        to_nginx = ratios_to_nginx(runs)
        if to_nginx is not None:
            data[kind]["ratios_to_nginx"] = to_nginx
    data["static"]["ratios"] = summary["static_ratios"]
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    # Never a half-written file, should the run be interrupted.
    partial = output.with_suffix(".json.tmp")
    partial.write_text(json.dumps(data, indent=2) + "\n")
    partial.replace(output)
    return data


def render_table(results):
    return "\n".join(
        [
            *_dynamic_lines(results),
            "",
            *_ratio_lines(results["ratios"]),
            *_file_lines(results["static"], "gzip", results["configs"]),
            *_ratio_lines(results["static"].get("ratios") or []),
            *_file_lines(results.get("media") or {}, "an upload"),
            "",
            _size_line(results),
            *(f"PROBLEM: {problem}" for problem in results["problems"]),
        ]
    )


def _dynamic_lines(results):
    lines = [
        "configuration         req/s (min-max)          p50 ms   p99 ms   worker RSS  peak RSS",
        "--------------------  -----------------------  -------  -------  ----------  --------",
    ]
    for name, row in results["dynamic"].items():
        mem = results["memory"][name]
        lines.append(
            f"{name:<20}  {row['rps']:7.0f} ({row['rps_min']:5.0f}-{row['rps_max']:5.0f})      "
            f"{row['p50_ms']:7.2f}  {row['p99_ms']:7.2f}  {mem['worker_rss_mb']:7.1f} MB  "
            f"{mem['worker_hwm_mb']:5.1f} MB"
        )
    return lines


def _ratio_lines(ratios):
    lines = []
    for ratio in ratios:
        rounds = ", ".join(f"{r:.2f}" for r in ratio["per_round"])
        lines.append(
            f"{ratio['numerator']} / {ratio['denominator']}: {ratio['ratio']:.3f}  "
            f"(per round {rounds}; {ratio['meaning']})"
        )
    return lines


def _file_lines(section, what, configs=None):
    """A line a server; `configs` given, whether our static front answered."""
    runs = section.get("runs") or {}
    if not runs:
        return []
    lines = ["", f"file {section['path']} ({what}):"]
    for name, row in runs.items():
        ratio = section.get("ratios_to_nginx", {}).get(name)
        tail = f"  {ratio:.3f} of nginx" if ratio else ""
        front = f"{_front(configs.get(name)):<8} " if configs is not None else ""
        lines.append(f"  {name:<20} {front}{row['rps']:8.0f} req/s  p99 {row['p99_ms']:6.2f} ms{tail}")
    return lines


def _front(config):
    """Whether our static front answered (nothing for nginx)."""
    if config is None:
        return ""
    return "front" if config.get("static_front") else "no front"


def _size_line(results):
    size = results["size"]
    build = results.get("build_seconds")
    return f"artifact {size['pyz_bytes'] / 1e6:.1f} MB, extracted {size['extracted_bytes'] / 1e6:.1f} MB" + (
        f", build {build:.0f} s" if build else ""
    )
