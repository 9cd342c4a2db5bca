"""One in-process request before serving: a broken release refuses to start.

The request goes through the real WSGI application (every middleware, the
URL resolver, the database), so an import error, a bad setting or an
unreachable database shows up as a clear message at start instead of as
errors served to users. It asks for the health view over HTTPS, with a host
the site accepts, so neither the HTTPS redirect nor ALLOWED_HOSTS gets in
the way.
"""

import io
import sys

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from ..errors import ZipserveError


class WarmupFailed(ZipserveError):
    """The warm-up request was not answered 200: the release must not serve."""


def health_path():
    try:
        return reverse("zipserve:health")
    except NoReverseMatch:
        return None


def accepted_host():
    """A Host header that ALLOWED_HOSTS accepts."""
    for host in settings.ALLOWED_HOSTS:
        if host == "*":
            break
        host = host.lstrip(".")
        if host and "*" not in host:
            return host
    return "localhost"


def build_environ(path, host):
    return {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": host.strip("[]"),
        "SERVER_PORT": "443",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": host,
        "HTTP_USER_AGENT": "django-zipserve warm-up",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "https",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def warm_up(application):
    """Send one request to the health view; return its path, or None when
    the project does not include ``django_zipserve.urls``.

    Raises WarmupFailed with a readable reason when the answer is not 200.
    """
    path = health_path()
    if path is None:
        return None
    status = []

    def start_response(status_line, headers, exc_info=None):
        status.append(status_line)

    response = application(build_environ(path, accepted_host()), start_response)
    try:
        body = b"".join(response)
    finally:
        if hasattr(response, "close"):
            response.close()
    if not status or not status[0].startswith("200"):
        answer = status[0] if status else "no response"
        detail = body[:300].decode("utf-8", "replace").strip()
        raise WarmupFailed(f"refusing to start: warm-up request GET {path} answered {answer}: {detail}")
    return path
