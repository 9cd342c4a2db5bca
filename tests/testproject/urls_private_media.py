"""The test project's URLs with its uploads behind a login, as NetBox routes
them: a pattern of its own at media/, Django's file view behind a check of
the user. MediaMiddleware must stand aside for it."""

import os

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.urls import path
from django.views.static import serve

from .urls import urlpatterns as site_patterns


@login_required
def protected_upload(request, path, directory=""):
    """The upload at ``path`` in ``directory`` of MEDIA_ROOT, for a user."""
    # MEDIA_ROOT as of the request: the tests give each one a directory of its own.
    return serve(request, path, document_root=os.path.join(settings.MEDIA_ROOT, directory))


urlpatterns = [path("media/<path:path>", protected_upload), *site_patterns]
