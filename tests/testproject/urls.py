from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.hello),
    path("slow/", views.slow),
    path("info/", views.info),
    path("broken/", views.broken),
    path("", include("django_zipserve.urls")),
]
