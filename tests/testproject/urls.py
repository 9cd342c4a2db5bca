from django.urls import include, path

from . import async_views, views

urlpatterns = [
    path("", views.hello),
    path("slow/", views.slow),
    path("info/", views.info),
    path("broken/", views.broken),
    path("async/", async_views.async_info),
    path("stream/", async_views.stream),
    path("", include("django_zipserve.urls")),
]
