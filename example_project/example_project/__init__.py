"""Example Django project served from a zipapp by django-zipserve."""

__version__ = "1.0.0"
