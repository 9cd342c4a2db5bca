"""Settings of a site shaped like NetBox: what a deployment varies is read
from a configuration module the administrator writes on each machine
(netbox/configuration.py, copied from configuration_example.py, and kept out
of the repository), or from the module $NETBOX_CONFIGURATION names."""

import importlib
import os

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CONFIGURATION_MODULE = os.getenv("NETBOX_CONFIGURATION", "netbox.configuration")
try:
    configuration = importlib.import_module(CONFIGURATION_MODULE)
except ModuleNotFoundError as exc:
    if exc.name == CONFIGURATION_MODULE:
        raise ImproperlyConfigured(
            f"configuration module {CONFIGURATION_MODULE} not found: copy "
            "netbox/configuration_example.py to netbox/configuration.py and fill it in"
        ) from exc
    raise

for parameter in ("ALLOWED_HOSTS", "DATABASE", "SECRET_KEY"):
    if not hasattr(configuration, parameter):
        raise ImproperlyConfigured(f"required parameter {parameter} is missing from the configuration")

# Required parameters.
ALLOWED_HOSTS = configuration.ALLOWED_HOSTS
DATABASE = configuration.DATABASE
SECRET_KEY = configuration.SECRET_KEY

# Optional parameters, each with the project's own default.
API_TOKEN_PEPPERS = getattr(configuration, "API_TOKEN_PEPPERS", {})
BANNER_TOP = getattr(configuration, "BANNER_TOP", "")
BANNER_BOTTOM = getattr(configuration, "BANNER_BOTTOM", "")
CORS_ORIGIN_WHITELIST = getattr(configuration, "CORS_ORIGIN_WHITELIST", [])
DEBUG = getattr(configuration, "DEBUG", False)
EMAIL = getattr(configuration, "EMAIL", {})
LOGIN_REQUIRED = getattr(configuration, "LOGIN_REQUIRED", True)
MAINTENANCE_MODE = getattr(configuration, "MAINTENANCE_MODE", False)
MEDIA_ROOT = getattr(configuration, "MEDIA_ROOT", None) or os.path.join(BASE_DIR, "media")
PAGINATE_COUNT = getattr(configuration, "PAGINATE_COUNT", 50)
REDIS = getattr(configuration, "REDIS", {})
TIME_ZONE = getattr(configuration, "TIME_ZONE", "UTC")

if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters long")
for number, pepper in API_TOKEN_PEPPERS.items():
    if len(pepper) < 50:
        raise ImproperlyConfigured(f"API_TOKEN_PEPPERS: pepper {number} must be at least 50 characters long")

# The configuration's DATABASE is the default database; PostgreSQL unless it says otherwise.
DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", **DATABASE}}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "netbox.urls"
WSGI_APPLICATION = "netbox.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
USE_TZ = True
STATIC_URL = "/static/"
STATIC_ROOT = os.path.join(BASE_DIR, "static")
MEDIA_URL = "/media/"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
