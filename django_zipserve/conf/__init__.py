"""Configuration: a goodconf class read from one file and the environment,
turned into Django settings.

A project subclasses :class:`ZipserveConfig`, loads it once in its settings
and applies it::

    from django_zipserve.conf import Field, ZipserveConfig

    class Config(ZipserveConfig):
        \"\"\"Configuration of mysite.\"\"\"
        name = "mysite"
        GREETING: str = Field(default="Hello", description="Home page headline.")

    config = Config.load()
    ...
    config.apply(globals())

This package is the bottom layer: it imports nothing else of django-zipserve
but the leaf ``django_zipserve.errors``.
"""

from goodconf import Field

from .config import ZipserveConfig, default_workers, generate_secret_key, setting
from .errors import ConfigError, Problem

__all__ = [
    "ConfigError",
    "Field",
    "Problem",
    "ZipserveConfig",
    "default_workers",
    "generate_secret_key",
    "setting",
]
