from pathlib import Path

from tests.testproject.config import Config

BASE_DIR = Path(__file__).resolve().parent

config = Config.load()

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.staticfiles",
    "django_zipserve",
]
MIDDLEWARE = ["django.middleware.security.SecurityMiddleware", "django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "tests.testproject.urls"
WSGI_APPLICATION = "tests.testproject.wsgi.application"
TEMPLATES = []
USE_TZ = True
STATIC_URL = "static/"
# No static files here; the example project covers them.
SILENCED_SYSTEM_CHECKS = ["zipserve.E003"]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

config.apply(globals())
