"""What the build bundles, said out loud: which requirements file and why,
the largest installed distributions, and the known mistakes of a
requirements file written for another platform (warnings, not errors)."""

import re
import shlex
from fnmatch import fnmatch
from pathlib import Path

from .tree import canonical_name, distributions, tree_size

MIB = 1 << 20
LARGEST = 5
#: Distributions of cloud platforms' SDKs: tens of MiB that a Docker or
#: Heroku requirements file brings along, rarely needed by the site itself.
PLATFORM_SDKS = (
    "boto3",
    "botocore",
    "aiobotocore",
    "awscli",
    "google-cloud-*",
    "google-api-python-client",
    "azure-*",
)
WHY_REQUIREMENTS = {
    "flag": "given with --requirements",
    "pyproject": "given in pyproject.toml (requirements in [tool.django-zipserve])",
    "default": "found in the project",
}


def requirements_note(options):
    """Which requirements file the build installs from, and why."""
    if options.requirements is None:
        return "no requirements file: the project's own dependencies only ([project] dependencies)"
    path = options.requirements
    shown = path.relative_to(options.project_dir) if path.is_relative_to(options.project_dir) else path
    return f"{shown}: {WHY_REQUIREMENTS[options.origins['requirements']]}"


UWSGI_HINT = (
    "pyuwsgi is uWSGI as a wheel, and is what the artifact serves with; remove uwsgi, or give the "
    "artifact a requirements file of its own (the requirements setting, or --requirements)"
)
REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
INCLUDE_OPTIONS = ("-r", "--requirement")


def requirement_names(path, seen=None):
    """``(name, where)`` for each requirement of a requirements file and of
    the files it includes with ``-r``; an unreadable file gives nothing (pip
    says why)."""
    seen = set() if seen is None else seen
    path = Path(path)
    if path.resolve() in seen:
        return []
    seen.add(path.resolve())
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    found = []
    for number, line in enumerate(lines, 1):
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        words = line.split(maxsplit=1)
        if words[0] in INCLUDE_OPTIONS and len(words) == 2:
            found += requirement_names(path.parent / words[1].strip(), seen)
            continue
        for option in INCLUDE_OPTIONS:
            if line.startswith(f"{option}="):
                found += requirement_names(path.parent / line.split("=", 1)[1].strip(), seen)
        if line.startswith("-"):
            continue
        match = REQUIREMENT_NAME.match(line)
        if match:
            found.append((canonical_name(match.group(1)), f"{path.name} line {number}"))
    return found


def requested_names(options):
    """What the build will ask pip for, by name: the requirements file (and
    its includes) and the extra requirements."""
    requirements = getattr(options, "requirements_file", options.requirements)
    found = requirement_names(requirements) if requirements else []
    for item in options.extra_requirements:
        words = shlex.split(item)
        if words[:1] and words[0] in INCLUDE_OPTIONS and len(words) == 2:
            found += requirement_names(options.project_dir / words[1])
            continue
        match = REQUIREMENT_NAME.match(item)
        if match and not Path(item).exists() and "/" not in item:
            found.append((canonical_name(match.group(1)), "extra-requirements"))
    return found


def requirement_warnings(options):
    """Known mistakes of what is about to be installed, said before pip
    spends minutes on them."""
    places = [where for name, where in requested_names(options) if name == "uwsgi"]
    if not places:
        return []
    return [
        f"uwsgi is required ({', '.join(places)}): pip compiles uWSGI from source (a C compiler and "
        f"minutes) and the artifact does not need it; {UWSGI_HINT}"
    ]


def mib(size):
    return f"{size / MIB:.1f} MiB"


#: A distribution this large gets its largest folders listed, those of them this large.
LARGE_DISTRIBUTION = 5 * MIB
LARGE_FOLDER = 1 * MIB
FOLDERS = 3


def size_lines(site):
    """The total and the largest installed distributions, by the size of
    their files, each large one with its largest folders: where the weight
    is, for a requirement to drop or a folder nothing imports."""
    found = distributions(site)
    sized = sorted(((distribution.size(site), distribution) for distribution in found), key=lambda x: -x[0])
    width = max((len(f"{d.name} {d.version}") for _, d in sized[:LARGEST]), default=0)
    lines = [f"{len(found)} distributions, {mib(tree_size(site))} installed; the largest:"]
    for size, distribution in sized[:LARGEST]:
        line = f"  {f'{distribution.name} {distribution.version}':<{width}}  {mib(size):>10}"
        folders = largest_folders(distribution, site) if size >= LARGE_DISTRIBUTION else []
        if folders:
            line += "  (" + ", ".join(f"{folder} {mib(bytes_)}" for folder, bytes_ in folders) + ")"
        lines.append(line)
    return lines


def largest_folders(distribution, site):
    """The largest folders two levels down (``plotly/validators``) of a
    distribution's files: ``[(folder, bytes)]``, the largest first."""
    sizes: dict[str, int] = {}
    for relative in distribution.files:
        parts = relative.split("/")
        path = site / relative
        if len(parts) < 3 or not path.is_file() or path.is_symlink():
            continue
        folder = "/".join(parts[:2])
        sizes[folder] = sizes.get(folder, 0) + path.stat().st_size
    ranked = sorted(sizes.items(), key=lambda item: -item[1])
    return [(folder, size) for folder, size in ranked[:FOLDERS] if size >= LARGE_FOLDER]


def warnings(site, warned_uwsgi=False):
    """One line per known problem of what was installed (uwsgi beside
    pyuwsgi only when ``requirement_warnings`` did not already say it)."""
    found = distributions(site)
    keys = {distribution.key for distribution in found}
    lines = []
    if {"uwsgi", "pyuwsgi"} <= keys and not warned_uwsgi:
        lines.append(
            "uwsgi is installed beside pyuwsgi: it compiles uWSGI from source at every build and is "
            "not needed (pyuwsgi is uWSGI as a wheel); leave it out of the artifact's requirements"
        )
    sdks = [d for d in found if any(fnmatch(d.key, pattern) for pattern in PLATFORM_SDKS)]
    if sdks:
        listed = ", ".join(f"{d.name} ({mib(d.size(site))})" for d in sdks)
        lines.append(
            f"platform SDKs bundled: {listed}; if only the platform you deploy to needs them, give the "
            "artifact a requirements file of its own (the requirements setting, or --requirements)"
        )
    return lines
