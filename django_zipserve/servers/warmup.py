"""In-process requests before serving: a broken release refuses to start.

The requests go through the real WSGI application (every middleware, the
URL resolver, the database, the templates), so an import error, a bad
setting, an unreachable database or a missing template shows up as one
clear line at start instead of as errors served to users. They ask over
HTTPS, with a host the site accepts, so neither the HTTPS redirect nor
ALLOWED_HOSTS gets in the way.

First the health view, which must answer 200; then each of ``WARMUP_PATHS``
(``/`` by default), for which any answer below 500 will do (a 404 for a
site without a home page). A redirect within the site (a relative Location,
or one on the host asked) is followed, at most ``MAX_REDIRECTS`` times, so
the page it leads to (the login page a home page sends visitors to) must
answer below 500 as well; a redirect to another site is not followed. An
answer of 500 or more, or an exception, refuses the start with one line
naming the URL (the one a redirect led to), the status and the exception
(caught through Django's ``got_request_exception`` signal), never a page
of HTML. The exception's traceback goes to standard error exactly once,
whatever the project's LOGGING does: while a warm-up request runs,
Django's ``django.request`` records keep their message but lose their
traceback, which every handler (the project's console, ours) would
otherwise print again.
"""

import io
import logging
import re
import sys
import traceback
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.core.signals import got_request_exception
from django.urls import NoReverseMatch, reverse

from ..conf import setting
from ..errors import ZipserveError

#: Content types whose body a report may quote (one line, bounded).
QUOTABLE_TYPES = ("application/json", "text/plain")
QUOTED_LENGTH = 300
MESSAGE_LENGTH = 200
#: Same-site redirects a warm-up request follows, at most.
MAX_REDIRECTS = 3


class WarmupFailed(ZipserveError):
    """A warm-up request failed: the release must not serve."""


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


def build_environ(path, host, scheme="https"):
    path_info, _, query = path.partition("?")
    return {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path_info,
        "QUERY_STRING": query,
        "SERVER_NAME": host.strip("[]"),
        "SERVER_PORT": "443" if scheme == "https" else "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": host,
        "HTTP_USER_AGENT": "django-zipserve warm-up",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def one_line(text, limit):
    text = re.sub(r"\s+", " ", str(text)).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class WarmupAnswer:
    """What one warm-up request got."""

    path: str
    status: str = ""  # the status line, "" when the application raised
    content_type: str = ""
    location: str = ""
    body: bytes = b""
    #: The paths asked before ``path``, whose redirects led to it.
    redirected_from: list = field(default_factory=list)
    #: ``sys.exc_info()`` of each exception raised while answering.
    exceptions: list = field(default_factory=list)

    @property
    def code(self):
        try:
            return int(self.status.split()[0])
        except (IndexError, ValueError):
            return None

    def exception_text(self):
        if not self.exceptions:
            return ""
        kind, value, _ = self.exceptions[-1]
        message = one_line(value, MESSAGE_LENGTH)
        return f"{kind.__name__}: {message}" if message else kind.__name__

    def report(self):
        """One line: the URL, the status and the exception, or a short
        quote of a JSON or plain text answer; never a page of HTML."""
        start = f"refusing to start: warm-up request GET {self.path}"
        if self.redirected_from:
            start += f" (redirected from {' -> '.join(self.redirected_from)})"
        if self.code is None:
            return f"{start} raised {self.exception_text() or 'no response'}"
        line = f"{start} answered {self.code}"
        if self.exceptions:
            return f"{line} ({self.exception_text()})"
        quoted = one_line(self.body[:QUOTED_LENGTH].decode("utf-8", "replace"), QUOTED_LENGTH)
        if quoted and self.content_type.split(";")[0].strip().lower() in QUOTABLE_TYPES:
            return f"{line}: {quoted}"
        return line


class WithoutTraceback(logging.Filter):
    """Drops the traceback of a record, keeps its message: the warm-up
    prints each traceback itself, once."""

    def filter(self, record):
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return True


#: Django's logger of a request's exceptions ("Internal Server Error: ...").
REQUEST_LOGGER = "django.request"


def request(application, path):
    """Send ``GET path`` to the WSGI application in this process."""
    answer = WarmupAnswer(path)

    def capture(sender, **kwargs):
        answer.exceptions.append(sys.exc_info())

    def start_response(status_line, headers, exc_info=None):
        answer.status = status_line
        answer.content_type = next((value for name, value in headers if name.lower() == "content-type"), "")
        answer.location = next((value for name, value in headers if name.lower() == "location"), "")

    got_request_exception.connect(capture, weak=False)
    request_logger = logging.getLogger(REQUEST_LOGGER)
    without_traceback = WithoutTraceback()
    request_logger.addFilter(without_traceback)
    try:
        response = application(build_environ(path, accepted_host()), start_response)
        try:
            answer.body = b"".join(response)
        finally:
            if hasattr(response, "close"):
                response.close()
    except Exception:
        answer.status = ""
        answer.exceptions.append(sys.exc_info())
    finally:
        request_logger.removeFilter(without_traceback)
        got_request_exception.disconnect(capture)
    return answer


def redirect_target(answer, host):
    """The path a same-site redirect of ``answer`` leads to (a relative
    Location, or one on ``host``); None for any other answer."""
    if answer.code not in (301, 302, 303, 307, 308) or not answer.location:
        return None
    location = urlsplit(urljoin(f"https://{host}{answer.path}", answer.location.strip()))
    if location.scheme not in ("http", "https") or location.netloc.lower() != host.lower():
        return None
    path = location.path or "/"
    return f"{path}?{location.query}" if location.query else path


def request_following(application, path):
    """``request``, following same-site redirects (at most MAX_REDIRECTS):
    the answer of the last page reached."""
    host = accepted_host()
    asked: list[str] = []
    answer = request(application, path)
    while len(asked) < MAX_REDIRECTS:
        target = redirect_target(answer, host)
        if target is None:
            break
        asked.append(answer.path)
        answer = request(application, target)
        answer.redirected_from = list(asked)
    return answer


def show_tracebacks(answer, stream=None):
    """Each exception of a failed request, with its traceback, on standard
    error: the project's LOGGING may send Django's report anywhere."""
    stream = sys.stderr if stream is None else stream
    for exc_info in answer.exceptions:
        print(f"warm-up request GET {answer.path} raised:", file=stream)
        traceback.print_exception(*exc_info, file=stream)
    stream.flush()


def fail(answer):
    show_tracebacks(answer)
    raise WarmupFailed(answer.report())


def warm_up(application, paths=None):
    """Request the health view (it must answer 200), then each of ``paths``
    (default: ``WARMUP_PATHS``; each must answer below 500). Returns the
    paths requested; raises WarmupFailed with a one-line reason."""
    requested = []
    health = health_path()
    if health is not None:
        answer = request(application, health)
        if answer.code != 200:
            fail(answer)
        requested.append(health)
    for path in setting("WARMUP_PATHS") if paths is None else paths:
        answer = request_following(application, path)
        if answer.code is None or answer.code >= 500:
            fail(answer)
        requested.append(path)
    return requested
