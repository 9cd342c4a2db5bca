"""The test project whose home page redirects to a broken login page."""

from tests.testproject.settings import *  # noqa: F403

ROOT_URLCONF = "tests.servers.urls_login_redirect"
