"""The test project without ASGI_APPLICATION, as most Django projects are."""

from tests.testproject.settings import *  # noqa: F403

del ASGI_APPLICATION  # noqa: F821
