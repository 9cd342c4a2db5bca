"""The in-process warm-up requests run before a server starts."""

import json

import pytest
from django.core.wsgi import get_wsgi_application
from django.test import override_settings

from django_zipserve.servers import warmup


@pytest.fixture
def application(django_project):
    return get_wsgi_application()


def test_warm_up_requests_the_health_view_then_the_warmup_paths(application):
    assert warmup.warm_up(application) == ["/-/health/", "/"]


def test_warmup_paths_come_from_the_configuration(application):
    with override_settings(ZIPSERVE_WARMUP_PATHS=["/info/", "/slow/?s=0"]):
        assert warmup.warm_up(application) == ["/-/health/", "/info/", "/slow/?s=0"]


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
        assert warmup.warm_up(application) == ["/-/health/", "/"]


def test_redirects_and_client_errors_are_fine(application):
    # /slow without its slash: CommonMiddleware redirects; /nowhere/: 404.
    assert warmup.warm_up(application, ["/slow", "/nowhere/"]) == ["/-/health/", "/slow", "/nowhere/"]


@pytest.mark.parametrize("debug", [False, True])
def test_a_page_that_raises_refuses_with_one_line_and_its_traceback(application, capsys, debug):
    # With DEBUG on, the answer is Django's technical 500 page: never quoted.
    with override_settings(DEBUG=debug), pytest.raises(warmup.WarmupFailed) as info:
        warmup.warm_up(application, ["/", "/broken/"])
    message = str(info.value)
    assert (
        message
        == "refusing to start: warm-up request GET /broken/ answered 500 (TemplateDoesNotExist: home.html)"
    )
    err = capsys.readouterr().err
    assert "warm-up request GET /broken/ raised:" in err
    assert "Traceback (most recent call last)" in err
    assert "django.template.exceptions.TemplateDoesNotExist: home.html" in err


def test_an_html_error_page_is_never_quoted(django_project):
    def broken(environ, start_response):
        start_response("502 Bad Gateway", [("Content-Type", "text/html; charset=utf-8")])
        return [b"<!DOCTYPE html><html><body>" + b"<p>oops</p>" * 500 + b"</body></html>"]

    with pytest.raises(warmup.WarmupFailed) as info:
        warmup.warm_up(broken, ["/"])
    assert str(info.value) == "refusing to start: warm-up request GET /-/health/ answered 502"


def test_a_failing_health_check_is_quoted_in_one_line(django_project):
    body = {"status": "error", "checks": {"database": {"default": "error: OperationalError"}}}

    def unhealthy(environ, start_response):
        start_response("503 Service Unavailable", [("Content-Type", "application/json")])
        return [json.dumps(body, indent=2).encode()]

    with pytest.raises(warmup.WarmupFailed) as info:
        warmup.warm_up(unhealthy)
    message = str(info.value)
    assert message.startswith("refusing to start: warm-up request GET /-/health/ answered 503: {")
    assert '"default": "error: OperationalError"' in message
    assert "\n" not in message


def test_the_health_view_must_answer_200(django_project):
    def redirecting(environ, start_response):
        start_response("302 Found", [("Location", "/login/")])
        return [b""]

    with pytest.raises(warmup.WarmupFailed, match=r"GET /-/health/ answered 302$"):
        warmup.warm_up(redirecting)


def test_an_application_that_raises_is_named(django_project, capsys):
    def crashing(environ, start_response):
        raise RuntimeError("no database\nat all")

    with pytest.raises(warmup.WarmupFailed) as info:
        warmup.warm_up(crashing)
    assert str(info.value) == (
        "refusing to start: warm-up request GET /-/health/ raised RuntimeError: no database at all"
    )
    assert "RuntimeError: no database" in capsys.readouterr().err


def test_without_the_health_url_only_the_pages_are_requested(django_project):
    with override_settings(ROOT_URLCONF="tests.urls_without_health"):
        assert warmup.warm_up(get_wsgi_application()) == ["/"]


REDIRECTING = "tests.servers.urls_login_redirect"


@pytest.mark.parametrize("path", ["/", "/relative/", "/same-host/"])
def test_a_same_site_redirect_is_followed_to_the_page_it_leads_to(application, path):
    with override_settings(ROOT_URLCONF=REDIRECTING), pytest.raises(warmup.WarmupFailed) as info:
        warmup.warm_up(application, [path])
    target = "/accounts/login/?next=/" if path == "/" else "/accounts/login/"
    assert str(info.value) == (
        f"refusing to start: warm-up request GET {target} (redirected from {path}) "
        "answered 500 (TemplateDoesNotExist: home.html)"
    )


def test_a_redirect_to_a_working_page_passes(application):
    with override_settings(ROOT_URLCONF=REDIRECTING):
        assert warmup.warm_up(application, ["/to-hello/"]) == ["/-/health/", "/to-hello/"]


def test_an_offsite_redirect_is_not_followed(application):
    with override_settings(ROOT_URLCONF=REDIRECTING):
        assert warmup.warm_up(application, ["/offsite/"]) == ["/-/health/", "/offsite/"]


def test_redirects_are_followed_at_most_three_times(application):
    asked = []
    original = warmup.request

    def counting(app, path):
        asked.append(path)
        return original(app, path)

    with override_settings(ROOT_URLCONF=REDIRECTING):
        warmup.request = counting
        try:
            assert warmup.warm_up(application, ["/loop/"]) == ["/-/health/", "/loop/"]
        finally:
            warmup.request = original
    assert asked == ["/-/health/", "/loop/", "/loop/?n=1", "/loop/?n=2", "/loop/?n=3"]
