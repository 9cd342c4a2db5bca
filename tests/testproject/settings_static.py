"""The test project collecting static files from a directory a test wrote."""

import os

from tests.testproject.settings import *  # noqa: F403

STATICFILES_DIRS = [os.environ["TESTPROJECT_STATIC_SOURCE"]]
STATIC_ROOT = os.environ["TESTPROJECT_STATIC_ROOT"]
