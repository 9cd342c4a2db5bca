"""Django's ``test``, made to test the code that runs.

Without labels it tests the project's own packages where they were imported
from (inside an artifact: its extraction, never a source tree), whatever the
settings layout and the working directory; the project's ``TEST_RUNNER``
still runs them. A run that finds no test at all fails instead of saying OK.
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
        if not test_labels:
            test_labels, top_level = testing.default_labels()
            if "top_level" in options and not options["top_level"]:
                options["top_level"] = top_level
        # Django's --testrunner option is the hook: it names the runner that
        # counts the suite before running it.
        testing.counted_runner = testing.counting(get_runner(settings, options["testrunner"]))
        options["testrunner"] = "django_zipserve.management.testing.counted_runner"
        try:
            super().handle(*test_labels, **options)
        except ZipserveError as exc:
            raise CommandError(exc.report(), returncode=exc.exit_status) from exc
