"""System checks with stable ids, run by ``manage.py check`` and before the
servers start, so misconfigurations stop a release instead of surfacing as
runtime surprises.

==================  =========================================================
zipserve.E001       WhiteNoise is missing from MIDDLEWARE or is not right
                    after SecurityMiddleware.
zipserve.E002       The directory of the SQLite database cannot be written.
zipserve.E003       Static files were not collected (deploy check).
zipserve.W001       ``django_zipserve.urls`` is not included: no health view,
                    no warm-up.
==================  =========================================================
"""

import os
from pathlib import Path

from django.conf import settings
from django.core import checks

from .conf.django_settings import SECURITY_MIDDLEWARE, WHITENOISE_MIDDLEWARE


@checks.register(checks.Tags.staticfiles)
def check_whitenoise_middleware(app_configs, **kwargs):
    middleware = list(getattr(settings, "MIDDLEWARE", []))
    if WHITENOISE_MIDDLEWARE in middleware:
        position = middleware.index(WHITENOISE_MIDDLEWARE)
        if position > 0 and middleware[position - 1] == SECURITY_MIDDLEWARE:
            return []
    return [
        checks.Error(
            "WhiteNoiseMiddleware must come right after SecurityMiddleware.",
            hint="Call config.apply(globals()) at the end of settings.py, or "
            f"place {WHITENOISE_MIDDLEWARE!r} after {SECURITY_MIDDLEWARE!r}.",
            id="zipserve.E001",
        )
    ]


@checks.register("zipserve")
def check_sqlite_directory(app_configs, databases=None, **kwargs):
    errors = []
    for alias, database in settings.DATABASES.items():
        if database.get("ENGINE") != "django.db.backends.sqlite3":
            continue
        name = str(database.get("NAME", ""))
        if not name or name == ":memory:" or name.startswith("file:"):
            continue
        directory = Path(name).parent
        if not (directory.is_dir() and os.access(directory, os.W_OK | os.X_OK)):
            errors.append(
                checks.Error(
                    f"The SQLite database of {alias!r} is in {directory}, which is "
                    "not a writable directory.",
                    hint="Set STATE_DIR (or DATABASE_URL) in the configuration to a "
                    "writable directory; under systemd use StateDirectory=.",
                    id="zipserve.E002",
                )
            )
    return errors


@checks.register(checks.Tags.staticfiles, deploy=True)
def check_static_collected(app_configs, **kwargs):
    from django.contrib.staticfiles.storage import staticfiles_storage

    manifest_exists = getattr(staticfiles_storage, "manifest_exists", None)
    if manifest_exists is None or manifest_exists():
        return []
    return [
        checks.Error(
            f"Static files were not collected into STATIC_ROOT ({settings.STATIC_ROOT}).",
            hint="Run `manage.py collectstatic` when building the release; a "
            "zipapp built by django-zipserve already contains them.",
            id="zipserve.E003",
        )
    ]


@checks.register(checks.Tags.urls)
def check_health_url(app_configs, **kwargs):
    from .servers.warmup import health_path

    if health_path() is not None:
        return []
    return [
        checks.Warning(
            "django_zipserve.urls is not included in the URL configuration.",
            hint='Add path("", include("django_zipserve.urls")) to urlpatterns '
            "for the health view at /-/health/; the servers warm up through it.",
            id="zipserve.W001",
        )
    ]
