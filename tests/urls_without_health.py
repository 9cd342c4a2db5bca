"""A URL configuration that does not include django_zipserve.urls."""

urlpatterns = []
