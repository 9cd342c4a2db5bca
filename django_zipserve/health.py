"""The health view: is this process able to serve real requests, and which
release is it?

Load balancers and the blue/green switch probe it; the warm-up that runs
before a server starts serving sends it one request in-process.
"""

import functools
import os

from django.db import connections
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from .conf.django_settings import INSTANCE_VARIABLE
from .zipapp.artifact import build_record, project_version


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


@functools.cache
def release():
    """Which release answers: from the build record of the artifact this
    process runs from, else the project's version (no build id or commit
    outside an artifact). Read once per process: neither changes while it
    runs."""
    record = build_record()
    if record is not None:
        return {key: record.get(key) for key in ("version", "build_id", "commit")}
    return {"version": project_version(), "build_id": None, "commit": None}


def report():
    """Return ``(status_code, body)`` for the health view."""
    databases, healthy = check_databases()
    running = release()
    body = {
        "status": "ok" if healthy else "error",
        "version": running["version"],
        "release": running,
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
