"""The in-process warm-up request run before a server starts."""

import pytest
from django.core.wsgi import get_wsgi_application
from django.test import override_settings

from django_zipserve.servers import warmup


@pytest.fixture
def application(django_project):
    return get_wsgi_application()


def test_warm_up_requests_the_health_view(application):
    assert warmup.warm_up(application) == "/-/health/"


@pytest.mark.parametrize(
    ("allowed", "expected"),
    [
        (["example.com", "localhost"], "example.com"),
        ([".example.org"], "example.org"),
        (["*"], "localhost"),
        ([], "localhost"),
        (["[::1]"], "[::1]"),
    ],
)
def test_host_is_one_the_site_accepts(django_project, allowed, expected):
    with override_settings(ALLOWED_HOSTS=allowed):
        assert warmup.accepted_host() == expected


def test_warm_up_passes_https_redirect_and_strict_hosts(application):
    with override_settings(SECURE_SSL_REDIRECT=True, ALLOWED_HOSTS=["shop.example.com"]):
        assert warmup.warm_up(application) == "/-/health/"


def test_failed_warm_up_says_what_answered(django_project):
    def broken(environ, start_response):
        start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
        return [b"database is on fire"]

    message = (
        "^refusing to start: warm-up request GET /-/health/ answered 500 Internal Server Error: "
        "database is on fire$"
    )
    with pytest.raises(warmup.WarmupFailed, match=message):
        warmup.warm_up(broken)


def test_no_health_url_means_no_warm_up(django_project):
    with override_settings(ROOT_URLCONF="tests.urls_without_health"):
        assert warmup.warm_up(lambda environ, start_response: []) is None
