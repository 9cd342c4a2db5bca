"""The test project with WhiteNoise taken out of the middleware after
``config.apply()``: the real system check zipserve.E001 fails."""

from tests.testproject.settings import *  # noqa: F403

MIDDLEWARE = [entry for entry in MIDDLEWARE if "whitenoise" not in entry]  # noqa: F405
