"""The test project's settings with its database built from variables of its
own through a local dict, as Baby Buddy builds it from DB_ENGINE, DB_HOST…"""

import os

from tests.testproject.settings import *  # noqa: F403

database = {
    "ENGINE": os.environ.get("DB_ENGINE", "django.db.backends.sqlite3"),
    "NAME": os.environ.get("DB_NAME", "db.sqlite3"),
    "HOST": os.environ.get("DB_HOST", ""),
}
DATABASES = {"default": database}

config.apply(globals())  # noqa: F405
