"""The build's settings, declared once.

Each :class:`BuildSetting` is a key of ``[tool.django-zipserve]`` in the
project's ``pyproject.toml``, a command-line flag of ``python -m
django_zipserve build``, or both. The build's argument parser is made from
:data:`BUILD_SETTINGS`, ``pyproject.toml`` is checked against it (an
unknown key or a value of the wrong type stops the build), and the reference
documentation is generated from it.

This module imports nothing of django-zipserve and has no side effects, so a
documentation generator can import it anywhere.
"""

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

#: The table of ``pyproject.toml`` that holds the build's settings.
TABLE = "tool.django-zipserve"
#: Lock or requirements files the build installs from when present, in this order.
LOCK_FILES = ("requirements.lock", "uv.lock", "requirements.txt")
#: What the build never copies from the project's source (nor searches for .po files).
IGNORED_SOURCE = (
    ".git",
    ".hg",
    ".tox",
    ".venv",
    "venv",
    "dist",
    "build",
    "__pycache__",
    "*.pyc",
    "*.egg-info",
    "static_collected",
    "node_modules",
    ".pytest_cache",
)

#: What a value of each kind must be in ``pyproject.toml``.
EXPECTED = {"text": "a non-empty string", "path": "a non-empty string (a path)", "list": "a list of strings"}


def normalise_name(name):
    """A distribution name as an importable package name (PEP 503, then ``_``)."""
    return re.sub(r"[-_.]+", "_", name).lower()


def default_shebang(options=None):
    """The exact minor version that builds: the bundled compiled extensions
    load in no other, and a plain ``python3`` may be another one."""
    return f"/usr/bin/env python{sys.version_info.major}.{sys.version_info.minor}"


def found_lock_file(options):
    found = (options.project_dir / name for name in LOCK_FILES)
    return next((path for path in found if path.is_file()), None)


@dataclass(frozen=True)
class BuildSetting:
    """One setting of the build.

    ``kind`` is ``"text"``, ``"path"`` (relative to the project directory in
    ``pyproject.toml``, to the current directory on the command line),
    ``"list"`` (``pyproject.toml``'s items, then each repeated flag's) or
    ``"switch"`` (a flag without a value). ``derive`` computes the default
    from the options resolved before it; ``default_text`` says the same in words.
    ``choices``, when given, are the only values a text setting takes.
    """

    key: str | None  # in [tool.django-zipserve]; None: a flag about this run only
    flag: str  # the long command-line flag
    default_text: str
    help: str
    kind: str = "text"
    derive: Callable | None = None
    short_flag: str | None = None
    metavar: str | None = None
    choices: tuple[str, ...] | None = None

    @property
    def dest(self):
        """The attribute that holds the value in the parsed and resolved options."""
        return (self.key or self.flag.lstrip("-")).replace("-", "_")

    def problem(self, value):
        """What is wrong with a value from ``pyproject.toml``, or None."""
        if self.kind == "list":
            valid = isinstance(value, list) and all(isinstance(item, str) for item in value)
        elif self.choices:
            valid = value in self.choices
            expected = f"one of {', '.join(map(repr, self.choices))}"
            return None if valid else f"expected {expected}, got {type(value).__name__} {value!r}"
        else:
            valid = isinstance(value, str) and bool(value.strip())
        return None if valid else f"expected {EXPECTED[self.kind]}, got {type(value).__name__} {value!r}"

    def resolve(self, given, declared, options):
        """The value to build with: the flag's, else ``pyproject.toml``'s,
        else the derived default. A list collects both."""
        if self.kind == "list":
            return [*(declared or []), *(given or [])]
        if given is not None:
            return Path(given).resolve() if self.kind == "path" else given
        if declared is not None:
            return (options.project_dir / declared).resolve() if self.kind == "path" else declared
        return None if self.derive is None else self.derive(options)


BUILD_SETTINGS = (
    BuildSetting(
        None,
        "--project-dir",
        "the current directory",
        "The project's directory, which holds its pyproject.toml; nothing in it is written to.",
        kind="path",
    ),
    BuildSetting(
        "package",
        "--package",
        "the project name, normalised (My-Site: my_site)",
        "The project's Python package.",
        derive=lambda options: normalise_name(options.distribution),
    ),
    BuildSetting(
        "entry-point",
        "--entry-point",
        "<package>.__main__:main",
        "The module:function the artifact runs.",
        derive=lambda options: f"{options.package}.__main__:main",
    ),
    BuildSetting(
        "settings",
        "--settings",
        "<package>.settings",
        "The Django settings module the build runs collectstatic and compilemessages with.",
        derive=lambda options: f"{options.package}.settings",
    ),
    BuildSetting(
        "python",
        "--python",
        "/usr/bin/env python3.X, where 3.X is the version of the Python that builds",
        "The interpreter of the artifact's shebang line. The artifact runs only on the Python minor "
        "version it was built with, and refuses another in one line before extracting anything.",
        derive=default_shebang,
    ),
    BuildSetting(
        "requirements",
        "--requirements",
        f"{' or '.join(LOCK_FILES)} when present",
        "The lock or requirements file to install the project's dependencies from. A uv.lock is "
        "exported with uv (production dependencies only: no dependency group, not the project itself); "
        "the lock files of Poetry, PDM and Pipenv are refused with the command that exports them.",
        kind="path",
        derive=found_lock_file,
    ),
    BuildSetting(
        "extra-requirements",
        "--require",
        "none",
        "Extra requirements or local paths to install besides the project (the flag is repeatable "
        "and adds to the list in pyproject.toml).",
        kind="list",
        metavar="REQUIREMENT",
    ),
    BuildSetting(
        "installer",
        "--installer",
        "uv, unless pip's configuration sets an option uv has no equivalent for",
        "What installs the packages: uv (several times faster) or pip. pip's configuration (its files "
        "and PIP_* variables: indexes, find-links, constraints, trusted hosts, certificate, timeout) "
        "is given to uv as its own options, so that both install from the same places; an option "
        "of pip that uv has no equivalent for makes the default pip. The build names the installer "
        "and why.",
        choices=("uv", "pip"),
        # None: chosen when the build installs, from pip's configuration then.
        derive=lambda options: None,
    ),
    BuildSetting(
        "data-dirs",
        "--data-dir",
        "none",
        "Directories or files of the project, relative to its root (templates, static, a CHANGELOG.md "
        "the settings read), copied into site-packages under the same relative path, so that "
        "BASE_DIR / 'templates' still finds them in the artifact when BASE_DIR is the directory that "
        "holds the package.",
        kind="list",
        metavar="PATH",
    ),
    BuildSetting(
        "include-ignored",
        "--include-ignored",
        "none",
        "Git-ignored files or directories of the project, relative to its root, to package all the same. "
        "The build leaves every file git ignores out of the artifact (a local configuration.py or .env "
        "holding this machine's secrets) and names what it left out; data-dirs entries count as named.",
        kind="list",
        metavar="PATH",
    ),
    BuildSetting(
        "exclude",
        "--exclude",
        "none",
        "Files of the installed packages left out of the artifact (globs relative to site-packages; "
        "** crosses folders, a folder that matches goes whole): data nothing imports, such as "
        "'plotly/**/jupyterlab*' or '*/tests'. The build's report names the largest folders of the "
        "largest packages. It refuses a glob that would drop a module the site imports when it "
        "starts, naming both, and warns about a glob that matches nothing.",
        kind="list",
        metavar="GLOB",
    ),
    BuildSetting(
        "not-secrets",
        "--not-secret",
        "none",
        "Files of the project (globs, relative to its root) declared to hold no secret. The build refuses "
        "to package a secret written into the project's files (a literal SECRET_KEY, password, token or "
        "private key), naming the file and line; a single line is declared with a "
        "'# zipserve: not-a-secret' comment instead.",
        kind="list",
        metavar="GLOB",
    ),
    BuildSetting(
        "shell-steps",
        "--shell-step",
        "none",
        "Shell commands run, in order, in the build's copy of the source before it is installed (a "
        "front-end build writing into a static directory): what they write is packaged.",
        kind="list",
        metavar="COMMAND",
    ),
    BuildSetting(
        "manage-steps",
        "--manage-step",
        "none",
        "Management commands with their arguments (compress --force), run in order against the "
        "installed copy before the build's own collectstatic, so that what they write is in the artifact. "
        'For django-compressor\'s offline compression: ["collectstatic --noinput", "compress --force"] '
        "(compress reads the collected files; the build's collectstatic then runs again, as the final "
        "collection, to collect what compress wrote).",
        kind="list",
        metavar="COMMAND",
    ),
    BuildSetting(
        "test-requirements",
        "--test-require",
        "none",
        "Requirements that only the tests need (-r FILE for a requirements file): installed into "
        "<name>-<version>.tests.zip beside the artifact, which only the artifact's test command uses.",
        kind="list",
        metavar="REQUIREMENT",
    ),
    BuildSetting(
        "output-dir",
        "--output-dir",
        "<project>/dist",
        "The directory the artifact, its .sha256, its .json record and its test sidecar are written to.",
        kind="path",
        derive=lambda options: options.project_dir / "dist",
    ),
    BuildSetting(
        "output-name",
        "--name",
        "<package>",
        "The base name of the artifact: <name>-<version>.pyz.",
        derive=lambda options: options.package,
    ),
    BuildSetting(
        None,
        "--quiet",
        "off",
        "Print only the artifact's path (warnings still go to standard error).",
        kind="switch",
        short_flag="-q",
    ),
)

#: The settings ``[tool.django-zipserve]`` may hold, by key: no other key is allowed.
BY_KEY = {setting.key: setting for setting in BUILD_SETTINGS if setting.key}
