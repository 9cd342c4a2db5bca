"""URLs a project includes in one line: ``path("", include("django_zipserve.urls"))``."""

from django.urls import path

from . import health
from .conf.django_settings import HEALTH_PATH

app_name = "zipserve"

urlpatterns = [
    path(HEALTH_PATH, health.health, name="health"),
]
