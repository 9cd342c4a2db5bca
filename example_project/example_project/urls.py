"""URL configuration for the example project."""

from django.contrib import admin
from django.urls import include, path

from example_project import api
from example_project.guestbook import views

urlpatterns = [
    path("", views.home, name="home"),
    path("admin/", admin.site.urls),
    path("api/clock/", api.clock),
    path("api/countdown/", api.countdown),
    path("api/tasks/", api.enqueue_shout),
    path("api/tasks/<str:result_id>/", api.task_result),
    path("", include("django_zipserve.urls")),
]
