"""The test project's URLs with one part of its uploads behind a login:
media/private/ is the project's own, the rest of media/ is public."""

from django.urls import include, path

from .urls import urlpatterns as site_patterns
from .urls_private_media import protected_upload

private = [path("private/<path:path>", protected_upload, {"directory": "private"})]
urlpatterns = [path("media/", include(private)), *site_patterns]
