from pathlib import Path

from tests.testproject.config import Config

BASE_DIR = Path(__file__).resolve().parent

config = Config.load()

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.staticfiles",
    "django_zipserve",
    "tests.testproject",  # its management commands: the declared processes below
]
MIDDLEWARE = ["django.middleware.security.SecurityMiddleware", "django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "tests.testproject.urls"
WSGI_APPLICATION = "tests.testproject.wsgi.application"
ASGI_APPLICATION = "tests.testproject.asgi.application"
ZIPSERVE_PROCESSES = {
    "worker": {
        "command": ["queue_worker", "--seconds", "2"],
        "description": "works off the queue directory",
        "stop_timeout": 20,
    },
    "waiter": {"command": ["wait_forever"]},
    "cleanup": {"command": ["check"], "schedule": "daily"},
    "printer": {"module": "tests.testproject.module_process", "args": ["-A", "proj", "worker"]},
}
TEMPLATES = []
USE_TZ = True
STATIC_URL = "static/"
# No static files here; the example project covers them.
SILENCED_SYSTEM_CHECKS = ["zipserve.E003"]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

config.apply(globals())
