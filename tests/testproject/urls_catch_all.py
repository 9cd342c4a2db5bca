"""The test project's URLs behind a catch-all pattern (a CMS page tree)
that comes before the health view's include: it shadows it."""

from django.urls import include, path, re_path

from . import views

urlpatterns = [
    path("info/", views.info),
    re_path(r"^(?P<slug>.*)$", views.page),
    path("", include("django_zipserve.urls")),
]
