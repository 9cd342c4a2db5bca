"""What both servers share: their production defaults (:class:`Default`),
the applications they serve, and the sockets systemd hands them.

The commands that start them (``manage.py pyuwsgi``, ``manage.py
gunicorn``) live with the other management commands, in
``django_zipserve.management.server_command``.
"""

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

from ..conf import setting

#: Both servers recycle a worker after this many requests: a slow memory
#: leak in the application (or a library) cannot grow without bound.
RECYCLE_AFTER = 5000
RECYCLE_REASON = f"recycle each worker after {RECYCLE_AFTER} requests to bound slow memory leaks"


@dataclass(frozen=True)
class Default:
    """One production default: declared once, used for the arguments, the
    ``--help`` text and the README's table."""

    option: str
    value: object  # None for a flag; a callable(conf) for a value from settings
    reason: str
    source: str = ""  # the config field or setting the value comes from
    setting: str = ""  # the server's own name for it, where it differs
    repeatable: bool = False  # a list option: added even when the operator gives their own
    replaced_by: frozenset = frozenset()  # further options, any of which replaces this default
    expand: Callable | None = None  # (conf, environ) -> arguments, where --option=value is not enough

    @classmethod
    def configured(cls, option, field, reason, **kwargs):
        """A default whose value is the configuration's ``field`` (BIND,
        WORKERS, ...) as the running site has it."""
        return cls(option, functools.partial(setting, field), reason, source=field, **kwargs)

    @property
    def name(self):
        return self.option.lstrip("-")

    def resolve(self, conf=None):
        if callable(self.value):
            return self.value(settings if conf is None else conf)
        return self.value

    def is_replaced_by(self, given):
        """Whether the operator's options (a set of names) replace this
        default: ``replaced_by`` always does; the option itself, unless the
        default is one item of a list option."""
        own = set() if self.repeatable else {self.name}
        return bool(given & (self.replaced_by | own))

    def arguments(self, conf=None, environ=None):
        """This default as command-line arguments."""
        if self.expand is not None:
            return self.expand(conf, environ)
        value = self.resolve(conf)
        return [self.option if value is None else f"{self.option}={value}"]

    def describe(self):
        if self.source:
            shown = f"from {self.source}"
        elif self.value is None:
            shown = ""
        elif callable(self.value):
            shown = "computed"
        else:
            shown = str(self.value)
        return f"{self.option} {shown}".strip()


def wsgi_app_path(conf=None):
    """Django's WSGI_APPLICATION (``pkg.wsgi.application``) as the servers
    name an application (``pkg.wsgi:application``)."""
    conf = settings if conf is None else conf
    module, _, attribute = conf.WSGI_APPLICATION.rpartition(".")
    return f"{module}:{attribute}"


def asgi_app_path(conf=None):
    """Django's ASGI_APPLICATION (``pkg.asgi.application``) as the servers
    name an application, or None when the project does not set it."""
    conf = settings if conf is None else conf
    configured = getattr(conf, "ASGI_APPLICATION", None)
    if not configured:
        return None
    module, _, attribute = configured.rpartition(".")
    return f"{module}:{attribute}"


def listen_fds(environ=None):
    """Number of sockets systemd (or a test's socket holder) passed to this
    very process; 0 without socket activation."""
    environ = os.environ if environ is None else environ
    try:
        if int(environ.get("LISTEN_PID", "")) != os.getpid():
            return 0
        return int(environ.get("LISTEN_FDS", "0"))
    except ValueError:
        return 0
