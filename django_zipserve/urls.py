"""URLs a project includes in one line: ``path("", include("django_zipserve.urls"))``."""

from django.urls import path

from . import views

app_name = "zipserve"

urlpatterns = [
    path("-/health/", views.health, name="health"),
]
