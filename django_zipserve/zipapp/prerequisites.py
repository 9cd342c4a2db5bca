"""What a build needs before it starts working, checked all at once: a
build that fails after minutes for a missing tool, then again for a missing
file, wastes the first run."""

import fnmatch
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath

from . import lockfiles, node
from .options import IGNORED_SOURCE
from .steps import PREREQUISITES, BuildError

#: Modules the building interpreter needs (it runs ``python -m pip`` and ``python -m shiv``;
#: packaging reads requires-python), with the fix.
TOOLS = {
    "pip": "python -m ensurepip, or a virtualenv with pip",
    "shiv": "pip install 'django-zipserve[build]'",
    "packaging": "pip install 'django-zipserve[build]'",
}
#: The Python minor versions a build may suggest, in the order tried.
KNOWN_MINORS = range(10, 15)
FIND_MODULES = (
    "import importlib.util as u, sys; print(' '.join(m for m in sys.argv[1:] if u.find_spec(m) is None))"
)


def missing(problems):
    """The error that lists every missing prerequisite."""
    if len(problems) == 1:
        return BuildError(PREREQUISITES, problems[0])
    listed = "".join(f"\n  - {problem}" for problem in problems)
    return BuildError(PREREQUISITES, f"{len(problems)} prerequisites are missing:{listed}")


def tool_problems(python=sys.executable):
    """pip and shiv, as the build will run them: ``python -m ...``."""
    try:
        result = subprocess.run(
            [python, "-c", FIND_MODULES, *TOOLS], capture_output=True, text=True, timeout=60, check=False
        )
        absent = result.stdout.split() if result.returncode == 0 else list(TOOLS)
    except (OSError, subprocess.TimeoutExpired):
        absent = list(TOOLS)
    return [f"{module} is not importable by {python} ({TOOLS[module]})" for module in absent]


def project_problems(options):
    """Files and tools the project's settings name or imply."""
    problems = python_problems(options)
    if settings_file(options) is None:
        relative = options.settings.replace(".", "/")
        problems.append(
            f"settings module {options.settings}: neither {relative}.py nor {relative}/__init__.py "
            f"in {', '.join(str(root) for root in source_roots(options))} (the settings setting)"
        )
    if options.requirements is not None and not options.requirements.is_file():
        problems.append(f"requirements file {options.requirements} does not exist")
    elif options.requirements is not None:
        problems += lockfiles.lock_problems(options)
    problems += [f"data-dirs: {problem}" for problem in directory_problems(options)]
    problems += [f"test-requirements: {problem}" for problem in requirement_file_problems(options)]
    # Before any step runs: npm only warns about engines.node, and the build tool then fails.
    problems += node.problems(options.project_dir, options.shell_steps)
    example = first_po_file(options.project_dir)
    if example is not None and shutil.which("msgfmt") is None:
        problems.append(
            f"the project has .po files ({example.relative_to(options.project_dir)}) but msgfmt "
            "(GNU gettext) is not on PATH"
        )
    return problems


def python_problems(options, running=None):
    """The project's ``requires-python`` against the Python that builds,
    which is the one the artifact runs on. Otherwise pip refuses the project
    only once its build backend is set up, in words about the package."""
    declared = options.pyproject.get("project", {}).get("requires-python")
    if declared is None:
        return []
    try:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet
    except ImportError:  # reported with the tools
        return []
    where = options.project_dir / "pyproject.toml"
    try:
        allowed = SpecifierSet(str(declared))
    except InvalidSpecifier:
        return [f"requires-python {declared!r} in {where} is not a version specifier (such as '>=3.12')"]
    # As pip compares it: a release candidate counts as its release.
    running = running or "{}.{}.{}".format(*sys.version_info[:3])
    if allowed.contains(running, prereleases=True):
        return []
    fitting = [
        f"python3.{minor}" for minor in KNOWN_MINORS if allowed.contains(f"3.{minor}.0", prereleases=True)
    ]
    with_what = (
        f"{fitting[0]} (a virtualenv of it with django-zipserve[build])" if fitting else "a Python that fits"
    )
    return [
        f"the project needs Python {declared} (requires-python in {where}) but this build runs Python "
        f"{running} ({sys.executable}), and the artifact runs on the Python that builds it: "
        f"build with {with_what}"
    ]


def source_roots(options):
    """Where the project's packages may live: its root, ``src``, and the
    folders setuptools is told to look in."""
    tool = options.pyproject.get("tool", {}).get("setuptools", {})
    found = tool.get("packages", {}).get("find", {}) if isinstance(tool.get("packages"), dict) else {}
    named = [*found.get("where", []), tool.get("package-dir", {}).get("", ".")]
    roots = [options.project_dir, options.project_dir / "src"]
    roots += [(options.project_dir / folder).resolve() for folder in named if isinstance(folder, str)]
    return list(dict.fromkeys(roots))


def settings_file(options):
    relative = Path(*options.settings.split("."))
    for root in source_roots(options):
        for candidate in (root / relative.with_suffix(".py"), root / relative / "__init__.py"):
            if candidate.is_file():
                return candidate
    return None


def data_directory(base, name):
    """The relative path a data-dirs entry (a directory or a file) names,
    and why it cannot be used under ``base`` (None when it can)."""
    relative = PurePosixPath(name)
    if relative.is_absolute() or ".." in relative.parts or str(relative) in ("", "."):
        return None, f"{name!r} must be a directory or file inside the project, relative to its root"
    path = base / relative
    if not (path.is_dir() or path.is_file()):
        return relative, f"{name!r}: no directory or file {path}"
    return relative, None


def directory_problems(options):
    """A data directory may be missing from the source when a shell step
    writes it (a front-end build's output): then the copy step checks it."""
    problems = []
    for name in options.data_dirs:
        relative, problem = data_directory(options.project_dir, name)
        if problem and (relative is None or not options.shell_steps):
            problems.append(problem)
    return problems


def requirement_arguments(item):
    """pip's arguments for one test-requirements entry: ``-r FILE`` or a requirement."""
    words = shlex.split(item)
    if words[:1] in (["-r"], ["--requirement"]) and len(words) == 2:
        return ["-r", words[1]]
    return [item]


def requirement_file_problems(options):
    problems = []
    for item in options.test_requirements:
        arguments = requirement_arguments(item)
        if arguments[0] == "-r" and not (options.project_dir / arguments[1]).is_file():
            problems.append(f"no requirements file {options.project_dir / arguments[1]}")
    return problems


def ignored(name):
    return any(fnmatch.fnmatch(name, pattern) for pattern in IGNORED_SOURCE)


def first_po_file(project_dir):
    """A translation source of the project (outside what is never copied), or None."""
    for root, directories, files in os.walk(project_dir):
        directories[:] = sorted(
            name
            for name in directories
            if not any(fnmatch.fnmatch(name, pattern) for pattern in IGNORED_SOURCE)
        )
        for name in sorted(files):
            if name.endswith(".po"):
                return Path(root) / name
    return None
