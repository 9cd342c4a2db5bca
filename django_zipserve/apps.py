from importlib import import_module

from django.apps import AppConfig


class ZipserveAppConfig(AppConfig):
    """The Django app: its commands, checks and URLs (the configuration class
    is conf.ZipserveConfig)."""

    name = "django_zipserve"
    verbose_name = "django-zipserve"

    def ready(self):
        import_module(f"{self.name}.checks")  # registers the system checks
