"""Django settings for the example project.

Deployment-specific values (DEBUG, SECRET_KEY, ALLOWED_HOSTS, DATABASES,
static files storage, security settings) come from ``Config`` and are set
by ``config.apply()`` at the end of this module.
"""

from pathlib import Path

from django_zipserve.conf import Field, ZipserveConfig

BASE_DIR = Path(__file__).resolve().parent


class Config(ZipserveConfig):
    """Configuration of the example project."""

    model_config = {
        "file_env_var": "EXAMPLE_PROJECT_CONFIG",
        "default_files": ["/etc/example_project/config.yml", "example_project.yml"],
    }
    name = "example_project"

    GREETING: str = Field(
        default="Hello from a zipapp",
        description="Headline shown on the home page.",
    )


config = Config.load()

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_zipserve",
    "django_tasks_db",
    "example_project.guestbook",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "example_project.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "example_project.wsgi.application"
ASGI_APPLICATION = "example_project.asgi.application"

# Tasks are stored in the site's database and run by the `worker` process.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# What the site runs besides its web server: `./example_project.pyz run NAME`,
# and a systemd unit each (`systemd render`).
ZIPSERVE_PROCESSES = {
    "worker": {
        "command": ["db_worker", "--interval", "0.2"],
        "description": "runs the tasks the site enqueues",
        "stop_timeout": 40,
    },
    "clearsessions": {
        "command": ["clearsessions"],
        "description": "deletes expired sessions",
        "schedule": "daily",
    },
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# The languages the site offers; the build keeps only their translations.
LANGUAGES = [("en", "English")]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

config.apply(globals())
