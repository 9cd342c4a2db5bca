from pathlib import Path

from pydantic import SecretStr

from django_zipserve.conf import Field, ZipserveConfig

BASE_DIR = Path(__file__).resolve().parent


class Config(ZipserveConfig):
    """Configuration of the test project."""

    model_config = {"file_env_var": "TESTPROJECT_CONFIG"}
    name = "testproject"
    MARKER: str = Field(default="unset", description="Echoed by /info/ to show which config was read.")
    API_TOKEN: SecretStr | None = Field(default=None, description="A project secret.")


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
