"""Lock files of other tools than pip.

A ``uv.lock`` is read natively: the build exports it with uv into a
requirements file of the production dependencies only (no dependency
group, the project itself left to the build, which installs it from its
source), and installs from that. The lock files of Poetry, PDM and Pipenv
need their own tool, which a build machine may not have: the build refuses
them in one line that gives the command exporting one.
"""

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

from .steps import StepFailed
from .tree import canonical_name

UV_LOCK = "uv.lock"
#: Lock files pip cannot read, and the command that exports one it can.
EXPORT_COMMANDS = {
    "poetry.lock": "poetry export --only main --without-hashes -f requirements.txt -o requirements.lock",
    "pdm.lock": "pdm export --prod --without-hashes -o requirements.lock",
    "Pipfile.lock": "pipenv requirements > requirements.lock",
}
#: The distribution whose installation the build may supply itself (an
#: unpublished django-zipserve from a path in extra-requirements).
ZIPSERVE = "django-zipserve"


def is_uv_lock(path):
    return path is not None and Path(path).name == UV_LOCK


def export_command(path):
    """How to turn another tool's lock file into a requirements file, or None."""
    return EXPORT_COMMANDS.get(Path(path).name) if path is not None else None


def locked_names(path):
    """The distributions a ``uv.lock`` pins (nothing when it cannot be read)."""
    try:
        packages = tomllib.loads(Path(path).read_text(encoding="utf-8")).get("package", [])
    except (OSError, ValueError):
        return []
    return [canonical_name(str(package.get("name", ""))) for package in packages if isinstance(package, dict)]


def uv_binary():
    """uv on PATH, else the one the ``uv`` package installed beside this Python, or None."""
    found = shutil.which("uv")
    if found:
        return found
    try:
        from uv import find_uv_bin
    except ImportError:
        return None
    try:
        return find_uv_bin()
    except FileNotFoundError:
        return None


def lock_problems(options):
    """What stops the build from reading the requirements setting's lock file."""
    path = options.requirements
    command = export_command(path)
    if command:
        return [
            f"{path.name} is a lock file pip cannot read: export it with '{command}' and set "
            'requirements = "requirements.lock" in [tool.django-zipserve]'
        ]
    if is_uv_lock(path) and uv_binary() is None:
        return [f"{path} needs uv to be read: pip install 'django-zipserve[build]' (or uv)"]
    return []


def export_arguments(options, output):
    """``uv export`` of the production dependencies: frozen (the lock as it
    is, even when pyproject.toml changed since: init adds django-zipserve),
    no dependency group (``dev`` is one), no hashes (pip then requires a
    hash of the project's own source too), the project itself left out
    (it would be installed twice, once as an editable)."""
    arguments = [
        *("export", "--frozen", "--format", "requirements-txt", "--no-hashes", "--no-default-groups"),
        *("--no-emit-project", "--no-editable", "--no-header", "--no-annotate"),
        *("--project", str(options.project_dir), "--output-file", str(output)),
    ]
    if supplies_zipserve(options):
        arguments += ["--no-emit-package", ZIPSERVE]
    return arguments


def supplies_zipserve(options):
    """The extra requirements install django-zipserve (a local checkout,
    or ``django-zipserve @ URL``): the lock's own entry for it would clash."""
    return any(requirement_name(item, options.project_dir) == ZIPSERVE for item in options.extra_requirements)


def requirement_name(item, base):
    """The canonical distribution name of an extra-requirements entry: a
    PEP 508 requirement, or a directory holding a project."""
    directory = (base / item).resolve()
    if directory.is_dir():
        return project_directory_name(directory)
    name = item.split("@", 1)[0].split(";", 1)[0].strip()
    name = name.split("[", 1)[0]
    for operator in ("==", ">=", "<=", "~=", "!=", ">", "<"):
        name = name.split(operator, 1)[0]
    return canonical_name(name.strip()) if name.strip() else None


def project_directory_name(directory):
    """The name a source directory declares: ``[project] name``, else ``setup.cfg``'s."""
    try:
        with open(directory / "pyproject.toml", "rb") as file:
            name = tomllib.load(file).get("project", {}).get("name")
    except (OSError, ValueError):
        name = None
    if not name:
        parser = configparser.ConfigParser()
        parser.read(directory / "setup.cfg", encoding="utf-8")
        name = parser.get("metadata", "name", fallback=None)
    return canonical_name(name) if name else None


def absolute_paths(text, base):
    """The exported requirements with local paths (``./vendored``) made
    absolute: pip reads them relative to its working directory, not the file's."""
    lines = []
    for line in text.splitlines():
        if line.startswith(("./", "../")):
            line = str((base / line.split(" ;", 1)[0]).resolve()) + (
                " ;" + line.split(" ;", 1)[1] if " ;" in line else ""
            )
        lines.append(line)
    return "\n".join(lines) + "\n"


def export_uv_lock(options, work, env):
    """The requirements file exported from the project's ``uv.lock``, in ``work``."""
    output = work / "requirements-from-uv.lock.txt"
    result = subprocess.run(
        [uv_binary(), *export_arguments(options, output)],
        capture_output=True,
        text=True,
        env=dict(env, UV_NO_CACHE="1", UV_PYTHON_DOWNLOADS="never"),
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise StepFailed(f"uv could not export {options.requirements}: {reason}")
    output.write_text(
        absolute_paths(output.read_text(encoding="utf-8"), options.project_dir), encoding="utf-8"
    )
    return output
