"""Test settings of a project's own that do not install django_zipserve, as
a project's ``settings/test.py`` star-importing its base settings often
does not: ``test`` must still refuse to find no test."""

from tests.testproject.settings import *  # noqa: F403

INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "django_zipserve"]  # noqa: F405
