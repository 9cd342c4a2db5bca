"""The test project with WhiteNoise taken out of the middleware after
``config.apply()``: the real system check zipserve.E001 fails."""

from django_zipserve.conf.django_settings import WHITENOISE_MIDDLEWARES
from tests.testproject.settings import *  # noqa: F403

MIDDLEWARE = [entry for entry in MIDDLEWARE if entry not in WHITENOISE_MIDDLEWARES]  # noqa: F405
