"""Leave declared files of the installed packages out of the artifact
(the ``exclude`` build setting), never one the site imports when it starts.

Big packages carry weight nothing imports: plotly's Jupyter extensions,
test suites, examples. A glob names them, relative to site-packages; ``**``
crosses folders, ``*`` and ``?`` stay within one, and a folder that matches
goes with everything in it. Before anything is removed, a process of the
installed copy starts the site as a server would (Django set up, the URL
configuration and the WSGI application loaded) and lists the files of
every module it imported: a glob that matches one of them stops the build,
naming the glob and the module.
"""

import json
import re
from pathlib import Path

#: Run against the installed copy: the files of the modules a start imports.
STARTUP_IMPORTS = (
    "import json, django; django.setup(); "
    "from django.urls import get_resolver; get_resolver().url_patterns; "
    "from django.core.wsgi import get_wsgi_application; get_wsgi_application(); "
    "print(json.dumps(sorted({m.__file__ for m in list(sys.modules.values()) "
    "if isinstance(getattr(m, '__file__', None), str)})))"
)


def pattern(glob):
    """A compiled regular expression for one glob, matched against a path
    relative to site-packages (``/`` separated)."""
    text, index = "", 0
    glob = glob.strip("/")
    while index < len(glob):
        if glob.startswith("**/", index):
            text, index = text + "(?:.*/)?", index + 3
        elif glob.startswith("**", index):
            text, index = text + ".*", index + 2
        elif glob[index] == "*":
            text, index = text + "[^/]*", index + 1
        elif glob[index] == "?":
            text, index = text + "[^/]", index + 1
        else:
            text, index = text + re.escape(glob[index]), index + 1
    return re.compile(text + r"\Z")


def matching_glob(relative, compiled):
    """The first glob that matches the file or one of its folders, or None."""
    parts = relative.split("/")
    candidates = ["/".join(parts[:depth]) for depth in range(1, len(parts) + 1)]
    for glob, regex in compiled:
        if any(regex.match(candidate) for candidate in candidates):
            return glob
    return None


def matched_files(site, globs):
    """``{glob: [relative paths]}`` of the files each glob leaves out."""
    compiled = [(glob, pattern(glob)) for glob in globs]
    found: dict[str, list[str]] = {glob: [] for glob in globs}
    for path in sorted(site.rglob("*")):
        if path.is_file() or path.is_symlink():
            relative = path.relative_to(site).as_posix()
            glob = matching_glob(relative, compiled)
            if glob is not None:
                found[glob].append(relative)
    return found


def imported_files(output, site):
    """The files (relative to site-packages) of the modules a start imported,
    from the output of :data:`STARTUP_IMPORTS`."""
    prefix = str(site).rstrip("/") + "/"
    lines = [line for line in output.splitlines() if line.startswith("[")]
    files = json.loads(lines[-1]) if lines else []
    return {name[len(prefix) :] for name in files if name.startswith(prefix)}


def conflicts(found, imported):
    """``(glob, file)`` of each imported module file a glob would remove."""
    return [(glob, name) for glob, names in found.items() for name in names if name in imported]


def remove(site, found):
    """Remove the matched files, then the folders they leave empty;
    ``{glob: (files, bytes)}``."""
    removed = {}
    folders: set[Path] = set()
    for glob, names in found.items():
        size = 0
        for name in names:
            path = site / name
            size += path.lstat().st_size
            path.unlink()
            folders.update(parent for parent in path.parents if site in parent.parents)
        removed[glob] = (len(names), size)
    for folder in sorted(folders, key=lambda item: len(item.parts), reverse=True):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    return removed


def refusal(clashes):
    """The build's error for globs that match modules a start imports."""
    shown = "; ".join(f"{glob!r} matches {name}" for glob, name in clashes[:5])
    more = f" (and {len(clashes) - 5} more)" if len(clashes) > 5 else ""
    return (
        f"exclude would leave out modules the site imports when it starts: {shown}{more}; "
        "narrow the glob (the exclude setting)"
    )
