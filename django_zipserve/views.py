from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from . import health as health_checks


@never_cache
@require_safe
def health(request):
    """200 with ``{"status": "ok", ...}`` when the site can serve, else 503."""
    status, body = health_checks.report()
    return JsonResponse(body, status=status)
