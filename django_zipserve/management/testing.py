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
