"""The health view: is this process able to serve real requests?

Load balancers and the blue/green switch probe it; the warm-up that runs
before a server starts serving sends it one request in-process.
"""

import importlib
import os

from django.conf import settings
from django.db import connections
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from .conf.django_settings import INSTANCE_VARIABLE


def check_databases():
    """Return ``({alias: "ok" | error name}, all_ok)`` for every database."""
    results = {}
    for alias in connections:
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
        except Exception as exc:  # any failure means "not healthy", never a 500
            results[alias] = f"error: {type(exc).__name__}"
        else:
            results[alias] = "ok"
    return results, all(value == "ok" for value in results.values())


def project_version():
    """The ``__version__`` of the package that holds the settings module."""
    module = getattr(settings, "SETTINGS_MODULE", "") or ""
    package = module.rpartition(".")[0]
    if not package:
        return None
    try:
        return getattr(importlib.import_module(package), "__version__", None)
    except ImportError:
        return None


def report():
    """Return ``(status_code, body)`` for the health view."""
    databases, healthy = check_databases()
    body = {
        "status": "ok" if healthy else "error",
        "version": project_version(),
        "instance": os.environ.get(INSTANCE_VARIABLE),
        "checks": {"database": databases},
    }
    return (200 if healthy else 503), body


@never_cache
@require_safe
def health(request):
    """200 with ``{"status": "ok", ...}`` when the site can serve, else 503."""
    status, body = report()
    return JsonResponse(body, status=status)
