from django.apps import AppConfig


class ZipserveConfig(AppConfig):
    name = "django_zipserve"
    verbose_name = "django-zipserve"

    def ready(self):
        from . import checks  # noqa: F401  (registers the system checks)
