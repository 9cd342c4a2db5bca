"""Running a project's own tests from the code that runs, artifact included.

Django's runner discovers tests below the current directory. Inside a
zipapp the project lives in the extraction directory, so ``./mysite.pyz
test`` would find nothing, or, run from a checkout where a folder is named
like the package, import the source tree instead of the artifact. Without
labels, the tests of the project's own packages are found where those
packages were imported from (inside the artifact: the extraction), with the
directory above them as the top level, whatever the working directory and
the settings layout (``mysite.settings`` or ``mysite.settings.production``).

The project's own ``TEST_RUNNER`` still runs them; ``manage.py test``
(django-zipserve's override of Django's command) only gives it the labels,
and stops with an error when they hold no test at all.
"""

from collections.abc import Sequence
from importlib import import_module, metadata
from pathlib import Path
from typing import Any

from django.conf import settings
from django.test.runner import DiscoverRunner

from ..errors import ZipserveError


class NoTestsFound(ZipserveError):
    """A test run that would run nothing, and say OK."""


#: The runner the ``test`` command hands to Django through its
#: ``--testrunner`` option: the project's own, made to count its suite.
counted_runner: type | None = None


def project_packages() -> list[str]:
    """The top-level packages of the project: those its distribution
    installed when running from a built artifact, else the package that
    holds the settings module."""
    from ..zipapp.artifact import build_record

    record = build_record()
    packages = distribution_packages(record["distribution"]) if record else []
    if packages:
        return packages
    module = getattr(settings, "SETTINGS_MODULE", "") or ""
    return [module.partition(".")[0]] if module else []


def distribution_packages(distribution: str) -> list[str]:
    """Top-level import packages an installed distribution provides."""
    try:
        found = metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return []
    listed = (found.read_text("top_level.txt") or "").split()
    if not listed:
        listed = [
            file.parts[0] for file in found.files or () if len(file.parts) > 1 and file.name == "__init__.py"
        ]
    return sorted({name for name in listed if name.isidentifier()})


def default_labels() -> tuple[list[str], str | None]:
    """``(labels, top_level)``: the directories of the project's packages as
    imported, and the directory that holds them."""
    directories = [Path(import_module(name).__file__ or "").resolve().parent for name in project_packages()]
    if not directories:
        return [], None
    return [str(directory) for directory in directories], str(directories[0].parent)


def counting(runner_class: type[DiscoverRunner]) -> type[DiscoverRunner]:
    """``runner_class`` made to refuse a suite without tests."""

    class Counted(runner_class):
        def build_suite(self, test_labels: Sequence[str] | None = None, *args: Any, **kwargs: Any) -> Any:
            suite = super().build_suite(test_labels, *args, **kwargs)
            if suite.countTestCases() == 0:
                looked_in = ", ".join(test_labels or ()) or "the current directory"
                raise NoTestsFound(f"no tests found in {looked_in}: nothing was tested")
            return suite

    Counted.__name__ = Counted.__qualname__ = runner_class.__name__
    Counted.__module__ = runner_class.__module__
    return Counted


class ProjectTestRunner(DiscoverRunner):
    """Django's runner, defaulting to the project's own packages."""

    def build_suite(self, test_labels: Sequence[str] | None = None, *args: Any, **kwargs: Any) -> Any:
        if not test_labels:
            test_labels, top_level = default_labels()
            self.top_level: str | None = getattr(self, "top_level", None) or top_level
        return super().build_suite(test_labels, *args, **kwargs)


# A pytest suite --------------------------------------------------------------

#: pytest's exit status when it collected no test.
NO_TESTS_COLLECTED = 5


class PytestMissing(ZipserveError):
    """The project's tests are a pytest suite, and pytest is not there to run them."""


def recorded_pytest() -> dict | None:
    """The project's pytest configuration, as the build recorded it (inside an artifact only)."""
    from ..zipapp.artifact import build_record

    record = build_record() or {}
    found = record.get("pytest")
    return found if isinstance(found, dict) else None


def pytest_labels(labels: Sequence[str]) -> list[str]:
    """Django's dotted labels (``mysite.users``) as the paths pytest
    collects; a path or a pytest node id is kept as it is."""
    paths = []
    for label in labels:
        try:
            module = import_module(label) if label.replace(".", "").isidentifier() else None
        except ImportError:
            module = None
        location = Path(module.__file__) if module is not None and module.__file__ else None
        if location is not None and location.name == "__init__.py":
            location = location.parent
        paths.append(str(location) if location else label)
    return paths


def pytest_ini(configuration: dict, directory: Path) -> Path:
    """An ini file of the recorded options: pytest must not read one of the
    working directory's (a checkout's pyproject.toml is not the artifact's)."""
    import configparser

    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # pytest's names are case-sensitive
    parser["pytest"] = {str(key): str(value) for key, value in configuration.get("options", {}).items()}
    path = directory / "pytest.ini"
    with path.open("w", encoding="utf-8") as file:
        parser.write(file)
    return path


def pytest_arguments(ini: Path, labels: Sequence[str], settings_module: str, options: dict) -> list[str]:
    """pytest's command line: the project's options, the settings this
    command runs with (given last, so that an ``--ds`` of the project's
    options does not silently test other settings), no cache (the
    extraction is read-only)."""
    packages, top_level = default_labels()
    paths = pytest_labels(labels) if labels else packages
    arguments = ["-c", str(ini), "--rootdir", top_level or str(ini.parent), "-p", "no:cacheprovider"]
    if importable("pytest_django"):
        arguments += ["--ds", settings_module]
    if options.get("failfast"):
        arguments.append("-x")
    if options.get("keepdb"):
        arguments.append("--reuse-db")
    arguments += (
        ["-k", " or ".join(options["test_name_patterns"])] if options.get("test_name_patterns") else []
    )
    arguments += ["-v"] * max(0, int(options.get("verbosity", 1)) - 1)
    return [*arguments, *paths]


def importable(name: str) -> bool:
    from importlib.util import find_spec

    return find_spec(name) is not None


def project_test_settings(configuration: dict) -> str | None:
    """The settings module the project's pytest configuration names:
    ``--ds=...`` in its addopts, else its ``DJANGO_SETTINGS_MODULE`` option."""
    options = configuration.get("options", {})
    words = str(options.get("addopts", "")).split()
    for index, word in enumerate(words):
        if word.startswith("--ds="):
            return word.partition("=")[2]
        if word == "--ds" and index + 1 < len(words):
            return words[index + 1]
    named = options.get("DJANGO_SETTINGS_MODULE")
    return str(named) if named else None


def pytest_settings(configuration: dict, given: str | None, running: str) -> tuple[str, str | None]:
    """``(settings, why)``: ``--settings`` when given, else the project's
    test settings (its suite is written for them: a test email backend, a
    fast password hasher), else the settings this command runs."""
    if given:
        return given, None
    named = project_test_settings(configuration)
    if named and named != running:
        return named, f"its pytest configuration in {configuration.get('file')}"
    return running, None


def run_pytest(configuration: dict, labels: Sequence[str], settings_module: str, options: dict) -> int:
    """Run the project's pytest suite against the code that runs; pytest's
    exit status. With the settings this process runs, in this process;
    with other ones (the project's test settings), in a new interpreter on
    the same packages, since Django's settings are set up once per process.
    Finding no test is an error, as with Django's runner."""
    import sys
    import tempfile

    if not importable("pytest"):
        raise PytestMissing(
            f"the project's tests are a pytest suite ({configuration.get('file')}), but pytest is not in "
            "this artifact: list pytest and pytest-django in test-requirements in [tool.django-zipserve]"
        )
    chosen, why = pytest_settings(configuration, options.get("settings"), settings_module)
    if why:
        sys.stderr.write(
            f"django-zipserve: pytest runs the settings {chosen} ({why}); --settings MODULE runs others\n"
        )
    with tempfile.TemporaryDirectory(prefix="zipserve-pytest-") as directory:
        arguments = pytest_arguments(pytest_ini(configuration, Path(directory)), labels, chosen, options)
        status = (
            run_in_this_process(arguments)
            if chosen == settings_module
            else run_in_a_new_one(arguments, chosen)
        )
    if status == NO_TESTS_COLLECTED:
        looked_in = ", ".join(labels) or "the project's packages"
        raise NoTestsFound(f"pytest collected no tests in {looked_in}: nothing was tested")
    return status


def run_in_this_process(arguments: list[str]) -> int:
    import sys

    import pytest

    # Assertion rewriting would write bytecode beside the tests: in the extraction, which is read-only.
    sys.dont_write_bytecode = True
    status = int(pytest.main(arguments))
    sys.stdout.flush()  # pytest's report before the error that ends it
    return status


def run_in_a_new_one(arguments: list[str], settings_module: str) -> int:
    """pytest in a new interpreter that imports what this one does (the
    extraction and the test sidecar), with the configuration's values in
    its environment as this process exported them."""
    import os
    import subprocess
    import sys

    environment = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(entry for entry in sys.path if entry),
        PYTHONDONTWRITEBYTECODE="1",
        DJANGO_SETTINGS_MODULE=settings_module,
    )
    code = "import sys, pytest; sys.exit(pytest.main(sys.argv[1:]))"
    sys.stdout.flush()
    return subprocess.run(
        [sys.executable, "-S", "-c", code, *arguments], env=environment, check=False
    ).returncode
