from importlib import import_module

from django.apps import AppConfig


class ZipserveConfig(AppConfig):
    name = "django_zipserve"
    verbose_name = "django-zipserve"

    def ready(self):
        import_module(f"{self.name}.checks")  # registers the system checks
