"""Shaped like a Celery app module: it sets the development settings as the
default, as Celery's documented Django pattern does, when the package is
imported."""

import os

# set the default Django settings module for the 'celery' program.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")


class TaskApp:
    """Stands in for celery.Celery: the shape matters here, not the broker."""

    def __init__(self, main):
        self.main = main
        self.tasks = {}

    def task(self, function):
        self.tasks[function.__name__] = function
        return function


app = TaskApp("bookshelf")
