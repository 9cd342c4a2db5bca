"""Django's ``test``, made to test the code that runs.

Without labels it tests the project's own packages where they were imported
from (inside an artifact: its extraction, never a source tree), whatever the
settings layout and the working directory; the project's ``TEST_RUNNER``
still runs them. An artifact built from a project configured for pytest runs
its suite with pytest instead (the options the build recorded; ``--testrunner``
still chooses Django's). A run that finds no test at all fails instead of
saying OK.
"""

from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.commands import test
from django.test.utils import get_runner

from django_zipserve.errors import ZipserveError
from django_zipserve.management import testing


class Command(test.Command):
    help = (
        "Run the project's tests. Without labels: the tests of the project's own packages, found in the "
        "code that runs (inside an artifact, its extraction), with the project's TEST_RUNNER; finding no "
        "test is an error."
    )

    def handle(self, *test_labels, **options):
        pytest = testing.recorded_pytest()
        if pytest and not options["testrunner"]:
            self.run_pytest(pytest, test_labels, options)
            return
        labels = list(test_labels)
        if not labels:
            labels, top_level = testing.default_labels()
            if "top_level" in options and not options["top_level"]:
                options["top_level"] = top_level
        # Django's --testrunner option is the hook: it names the runner that
        # counts the suite before running it.
        testing.counted_runner = testing.counting(get_runner(settings, options["testrunner"]))
        options["testrunner"] = "django_zipserve.management.testing.counted_runner"
        try:
            super().handle(*labels, **options)
        except ZipserveError as exc:
            raise CommandError(exc.report(), returncode=exc.exit_status) from exc

    def run_pytest(self, configuration, test_labels, options):
        """The project's tests are a pytest suite: pytest runs them, with the
        options the build recorded and the settings this command runs with."""
        try:
            status = testing.run_pytest(configuration, test_labels, settings.SETTINGS_MODULE, options)
        except ZipserveError as exc:
            raise CommandError(exc.report(), returncode=exc.exit_status) from exc
        if status != 0:
            raise CommandError(f"the tests failed (pytest exited with status {status})", returncode=status)
