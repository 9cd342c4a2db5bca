"""URLs a project includes in one line: ``path("", include("django_zipserve.urls"))``."""

from django.urls import path

from . import health

app_name = "zipserve"

urlpatterns = [
    path("-/health/", health.health, name="health"),
]
