"""Render bench/results/*.json into docs/benchmarks.rst.

Usage: python bench/report.py
"""

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
DOC = HERE.parent / "docs" / "benchmarks.rst"

HEADER = """\
==========
Benchmarks
==========

Measured by ``make bench`` on one machine, every configuration side by side
in the same run; absolute numbers move between machines and runs, the ratios
much less. Raw numbers are in ``bench/results/*.json``.
"""


def startup_section(data):
    lines = [
        "Start-up and size",
        "=================",
        "",
        "Time from spawning the server to its first ``200`` answer for ``/``, median",
        f"of {data['runs']} runs, Python {data['python']}, 2 workers. *Warm*: the",
        "artifact's extraction already exists; *cold*: an empty extraction root (the",
        "first start of a release on a host); *venv*: the same project and package",
        "versions installed in a virtualenv, started with the same interpreter.",
        "",
        "========  ========  ======  ==========  ========  =========",
        "server    pyz warm  venv    warm/venv   pyz cold  cold/warm",
        "========  ========  ======  ==========  ========  =========",
    ]
    for server, row in data["servers"].items():
        lines.append(f"{server:<8}  {row['pyz_warm']:6.2f} s  {row['venv']:4.2f} s  {row['warm_over_venv']:8.2f}×  "
                     f"{row['pyz_cold']:6.2f} s  {row['cold_over_warm']:7.2f}×")
    lines.append("========  ========  ======  ==========  ========  =========")
    size = data["size"]
    parts = size["image_estimate_parts"]
    lines += [
        "",
        "===========================================  ==========",
        "what                                         size",
        "===========================================  ==========",
        f"the example artifact (``.pyz``)              {size['pyz_bytes'] / 1e6:6.1f} MB",
        f"its extraction on disk                       {size['extracted_bytes'] / 1e6:6.1f} MB",
        f"container image it replaces (estimate)       {size['image_estimate_bytes'] / 1e6:6.1f} MB",
        "===========================================  ==========",
        "",
        "The image estimate adds, as installed sizes: Debian's *required* packages",
        f"({(parts['debian_required'] or 0) / 1e6:.0f} MB, the content of a slim Debian base), the Python",
        f"installation ({parts['python'] / 1e6:.0f} MB: standard library and interpreter, no tests) and the",
        f"same packages ({parts['packages'] / 1e6:.0f} MB). It is computed, not built: no container",
        "engine is involved. The artifact itself needs only a Python on the host.",
        "",
    ]
    return "\n".join(lines)


def main():
    sections = [HEADER]
    startup = RESULTS / "startup.json"
    if startup.is_file():
        sections.append(startup_section(json.loads(startup.read_text())))
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text("\n".join(sections))
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
