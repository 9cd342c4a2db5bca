"""With these settings, tests run faster."""

from .base import *  # noqa: F403
from .base import TEMPLATES, env

# GENERAL
SECRET_KEY = env(
    "DJANGO_SECRET_KEY",
    default="django-insecure-test-key-for-bookshelf-only",
)
TEST_RUNNER = "django.test.runner.DiscoverRunner"

# PASSWORDS
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# EMAIL
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# DEBUGGING FOR TEMPLATES
TEMPLATES[0]["OPTIONS"]["debug"] = True  # type: ignore[index]
