"""System checks with stable ids, run by ``manage.py check`` and before the
servers start, so misconfigurations stop a release instead of surfacing as
runtime surprises.

Each check is declared once in :data:`CHECKS` (id, level, what it catches,
how to fix it); the functions below only decide *whether* it fires, and the
reference in ``docs/reference/checks.md`` is generated from the same
declarations.
"""

import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core import checks

from .conf.django_settings import HEALTH_PATH, SECURITY_MIDDLEWARE, WHITENOISE_MIDDLEWARE


@dataclass(frozen=True)
class Check:
    """One system check: declared once, reported and documented from here."""

    id: str
    level: type  # checks.Error or checks.Warning
    summary: str  # what it catches, for the reference
    hint: str
    deploy: bool = False  # only with ``check --deploy`` (the servers include it)

    def message(self, text):
        """The check's message with ``text`` naming what was found."""
        return self.level(text, hint=self.hint, id=self.id)


CHECKS = (
    Check(
        "zipserve.E001",
        checks.Error,
        "WhiteNoise is missing from `MIDDLEWARE` or is not right after `SecurityMiddleware`.",
        "Call config.apply(globals()) at the end of settings.py, or place "
        f"{WHITENOISE_MIDDLEWARE!r} right after {SECURITY_MIDDLEWARE!r}.",
    ),
    Check(
        "zipserve.E002",
        checks.Error,
        "The directory of an SQLite database is not a writable directory.",
        "Set STATE_DIR (or DATABASE_URL) in the configuration to a writable directory; "
        "under systemd use StateDirectory=.",
    ),
    Check(
        "zipserve.E003",
        checks.Error,
        "Static files were not collected into `STATIC_ROOT`.",
        "Run `manage.py collectstatic` when building the release; a zipapp built by "
        "django-zipserve already contains them.",
        deploy=True,
    ),
    Check(
        "zipserve.W001",
        checks.Warning,
        "`django_zipserve.urls` is not included in the URL configuration: no health view, no warm-up.",
        f'Add path("", include("django_zipserve.urls")) to urlpatterns for the health view at '
        f"/{HEALTH_PATH}; the servers warm up through it.",
    ),
)

BY_ID = {check.id: check for check in CHECKS}


@checks.register(checks.Tags.staticfiles)
def check_whitenoise_middleware(app_configs, **kwargs):
    middleware = list(getattr(settings, "MIDDLEWARE", []))
    if WHITENOISE_MIDDLEWARE in middleware:
        position = middleware.index(WHITENOISE_MIDDLEWARE)
        if position > 0 and middleware[position - 1] == SECURITY_MIDDLEWARE:
            return []
    return [BY_ID["zipserve.E001"].message("WhiteNoiseMiddleware must come right after SecurityMiddleware.")]


@checks.register("zipserve")
def check_sqlite_directory(app_configs, databases=None, **kwargs):
    errors = []
    for alias, database in settings.DATABASES.items():
        directory = _sqlite_directory(database)
        if directory is not None and not (directory.is_dir() and os.access(directory, os.W_OK | os.X_OK)):
            errors.append(
                BY_ID["zipserve.E002"].message(
                    f"The SQLite database of {alias!r} is in {directory}, which is not a writable directory."
                )
            )
    return errors


def _sqlite_directory(database):
    """The directory of an SQLite database file, or None (another engine,
    an in-memory database)."""
    if database.get("ENGINE") != "django.db.backends.sqlite3":
        return None
    name = str(database.get("NAME", ""))
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(name).parent


@checks.register(checks.Tags.staticfiles, deploy=True)
def check_static_collected(app_configs, **kwargs):
    from django.contrib.staticfiles.storage import staticfiles_storage

    manifest_exists = getattr(staticfiles_storage, "manifest_exists", None)
    if manifest_exists is None or manifest_exists():
        return []
    return [
        BY_ID["zipserve.E003"].message(
            f"Static files were not collected into STATIC_ROOT ({settings.STATIC_ROOT})."
        )
    ]


@checks.register(checks.Tags.urls)
def check_health_url(app_configs, **kwargs):
    from .servers.warmup import health_path

    if health_path() is not None:
        return []
    return [BY_ID["zipserve.W001"].message("django_zipserve.urls is not included in the URL configuration.")]
