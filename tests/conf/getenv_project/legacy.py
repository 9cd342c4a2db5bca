"""The project's own settings, unchanged: everything deployment-specific
comes from ``os.getenv`` / ``os.environ``, read when the module is imported."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent

SECRET_KEY = os.environ["SECRET_KEY"]  # required: a KeyError without it
SITE_NAME = os.getenv("SITE_NAME", "Unnamed site")
EMAIL_HOST_PASSWORD = os.getenv("EMAIL_HOST_PASSWORD")
ADMIN_EMAILS = [address for address in os.getenv("ADMIN_EMAILS", "").split(",") if address]
SIGNUP_OPEN = os.getenv("SIGNUP_OPEN", "False") == "True"
CACHE_SECONDS = int(os.getenv("CACHE_SECONDS", "60"))

INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "django.contrib.staticfiles"]
MIDDLEWARE = ["django.middleware.security.SecurityMiddleware"]
ROOT_URLCONF = "tests.testproject.urls"
USE_TZ = True
