"""The test project as a site whose uploads are behind a login
(urls_private_media): the user from a session kept in a signed cookie."""

from tests.testproject.settings import *  # noqa: F403

ROOT_URLCONF = "tests.testproject.urls_private_media"
MIDDLEWARE = [
    *MIDDLEWARE,  # noqa: F405
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
