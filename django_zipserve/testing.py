"""A test runner that finds the project's tests wherever the project is.

Django's runner discovers tests below the current directory; inside a zipapp
the project lives in the extraction directory, so ``./mysite.pyz test`` would
find nothing. Without labels, this runner tests the project's package (the
package that holds the settings module) instead.
"""

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.test.runner import DiscoverRunner


def project_package() -> str | None:
    return (getattr(settings, "SETTINGS_MODULE", "") or "").rpartition(".")[0] or None


class ProjectTestRunner(DiscoverRunner):
    def build_suite(self, test_labels: Sequence[str] | None = None, *args: Any, **kwargs: Any) -> Any:
        package = project_package()
        if not test_labels and package:
            test_labels = [package]
        return super().build_suite(test_labels, *args, **kwargs)
