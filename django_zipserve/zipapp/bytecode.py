"""The compiled bytecode the artifact ships: every module compiled once, at
build time, into hash-based ``.pyc`` files that are never checked against
their source. The artifact is immutable, so a start (even on a read-only
extraction, even with PYTHONDONTWRITEBYTECODE) never compiles anything, and
the first start does not spend seconds compiling either.

The same input must give the same files, or two builds of one commit would
differ: marshal writes a value differently when something else in the
process holds it too, so a module's ``.pyc`` depends on what its process
compiled before it. A pool that hands out modules as workers come free
would make that differ from build to build. Here the modules are cut, in
sorted order, into a fixed number of shares of about equal size
(:data:`SHARES`, not the machine's number of cores, which differs between
the builder and CI), each compiled in order by a fresh process with a fixed
hash seed; the shares run side by side on the cores there are. On the
big-project benchmark (plotly, pandas, numpy) that step took 14 s in one
process.
"""

import os
import subprocess
import sys
import tempfile

#: How many processes compile the modules, each a share fixed by the tree
#: alone: changing it changes the bytes of the artifact.
SHARES = 4


def compile_bytecode(site, env):
    """Compile every module under ``site`` in place; the ``.pyc`` files, sorted."""
    sources = sorted(site.rglob("*.py"))
    with tempfile.TemporaryDirectory(prefix="zipserve-bytecode-") as work:
        commands = []
        for number, share in enumerate(shares(sources, SHARES)):
            listing = os.path.join(work, f"share-{number}.txt")
            with open(listing, "w", encoding="utf-8") as stream:
                stream.write("".join(f"{path}\n" for path in share))
            commands.append(compile_command(site, listing))
        run_side_by_side(commands, dict(env, PYTHONWARNINGS="ignore", PYTHONHASHSEED="0"))
    return sorted(site.rglob("*.pyc"))


def shares(paths, count):
    """``paths`` cut into ``count`` runs of neighbours of about equal bytes."""
    sizes = [path.stat().st_size for path in paths]
    total = sum(sizes) or 1
    cut: list[list] = [[] for _ in range(count)]
    done = 0
    for path, size in zip(paths, sizes, strict=True):
        # Where its middle falls: a big module does not drag its neighbours along.
        cut[min(count - 1, (2 * done + size) * count // (2 * total))].append(path)
        done += size
    return [share for share in cut if share]


def compile_command(site, listing):
    return [
        sys.executable,
        "-m",
        "compileall",
        "-qq",  # a SyntaxWarning or error in a dependency's example file is not the user's to fix
        # The directory name only shows in code objects, which the import
        # system points at the real file when it loads them; a fixed one
        # keeps builds identical.
        "-s",
        str(site),
        "-p",
        "site-packages",
        "--invalidation-mode",
        "unchecked-hash",
        "-i",
        listing,
    ]


def run_side_by_side(commands, env):
    """Run the commands, as many at once as this process may use cores.
    Their exit status says whether every file compiled; one that does not
    (a packaged example in old syntax) is left as source, as pip leaves it."""
    slots = max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    waiting = list(commands)
    running: list[subprocess.Popen] = []
    while waiting or running:
        while waiting and len(running) < slots:
            running.append(
                subprocess.Popen(
                    waiting.pop(0), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
            )
        running.pop(0).wait()
