"""What the build bundles, said out loud: which requirements file and why,
the largest installed distributions, and the known mistakes of a
requirements file written for another platform (warnings, not errors)."""

from fnmatch import fnmatch

from .tree import distributions, tree_size

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


def mib(size):
    return f"{size / MIB:.1f} MiB"


def size_lines(site):
    """The total and the largest installed distributions, by the size of their files."""
    found = distributions(site)
    sized = sorted(((distribution.size(site), distribution) for distribution in found), key=lambda x: -x[0])
    width = max((len(f"{d.name} {d.version}") for _, d in sized[:LARGEST]), default=0)
    lines = [f"{len(found)} distributions, {mib(tree_size(site))} installed; the largest:"]
    lines += [f"  {f'{d.name} {d.version}':<{width}}  {mib(size):>10}" for size, d in sized[:LARGEST]]
    return lines


def warnings(site):
    """One line per known problem of what was installed."""
    found = distributions(site)
    keys = {distribution.key for distribution in found}
    lines = []
    if {"uwsgi", "pyuwsgi"} <= keys:
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
