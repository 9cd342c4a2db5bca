"""The test project with a catch-all URL pattern before the health view."""

from tests.testproject.settings import *  # noqa: F403

ROOT_URLCONF = "tests.testproject.urls_catch_all"
