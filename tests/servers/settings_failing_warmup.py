"""The test project with a middleware that answers every request with 503:
the warm-up request fails, as it would for a release whose database is down."""

from django.http import HttpResponse

from tests.testproject.settings import *  # noqa: F403


def unavailable(get_response):
    def middleware(request):
        return HttpResponse("down for the test", status=503)

    return middleware


MIDDLEWARE = [*MIDDLEWARE, "tests.servers.settings_failing_warmup.unavailable"]  # noqa: F405
