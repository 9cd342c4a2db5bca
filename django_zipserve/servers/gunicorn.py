"""gunicorn, run in-process through its own ``Application`` extension points.

:class:`DjangoApplication` is gunicorn's ``WSGIApplication`` with three
hooks filled in, and nothing of gunicorn's copied:

- ``init()`` returns our production defaults, which gunicorn applies at the
  lowest precedence: a config file (``-c``, or ``./gunicorn.conf.py``), then
  ``GUNICORN_CMD_ARGS``, then the command line all rank above them;
- ``load_config()`` feeds our argument list to gunicorn's own parser;
- ``load()`` serves the Django application that was already loaded and
  warmed up, unless the operator named another one.

gunicorn's ``Application.run`` stays, so ``--check-config``,
``--print-config``, ``--daemon`` and ``pythonpath`` work as in plain gunicorn.
"""

import os
import sys

from gunicorn.app.wsgiapp import WSGIApplication
from gunicorn.config import KNOWN_SETTINGS as SETTING_CLASSES

from .base import RECYCLE_AFTER, RECYCLE_REASON, Default, asgi_app_path, wsgi_app_path

#: The settings the installed gunicorn knows, by name.
KNOWN_SETTINGS = frozenset(setting.name for setting in SETTING_CLASSES)


def control_socket_settings(environ=None):
    """gunicorn 26+ opens a control socket in $XDG_RUNTIME_DIR or
    ~/.gunicorn; under systemd's DynamicUser or ProtectHome the home is
    read-only. Use the service's RuntimeDirectory when there is one, and
    turn the socket off rather than warn when nothing writable is known.
    An older gunicorn (a project that pins 23, as Baby Buddy does) has no
    control socket and no such setting: nothing to set."""
    if "control_socket" not in KNOWN_SETTINGS:
        return {}
    environ = os.environ if environ is None else environ
    for variable in ("RUNTIME_DIRECTORY", "XDG_RUNTIME_DIR"):
        directory = (environ.get(variable) or "").split(":")[0]
        if directory and os.path.isdir(directory) and os.access(directory, os.W_OK):
            return {"control_socket": os.path.join(directory, "gunicorn.ctl")}
    home = os.path.expanduser("~")
    if os.path.isdir(home) and os.access(home, os.W_OK):
        return {}  # gunicorn's own default, ~/.gunicorn/gunicorn.ctl, works
    return {"control_socket_disable": True}


DEFAULTS = (
    Default.configured(
        "--bind",
        "BIND",
        "listen address; under socket activation gunicorn uses the inherited socket instead",
        setting="bind",
    ),
    Default.configured("--workers", "WORKERS", "worker processes", setting="workers"),
    Default.configured(
        "--threads",
        "THREADS",
        "threads per worker (more than 1 selects the gthread worker)",
        setting="threads",
    ),
    Default.configured(
        "--timeout", "TIMEOUT", "kill and replace a worker silent this long", setting="timeout"
    ),
    Default.configured(
        "--graceful-timeout",
        "TIMEOUT",
        "seconds in-flight requests get to finish on SIGTERM or reload",
        setting="graceful_timeout",
    ),
    Default("--max-requests", RECYCLE_AFTER, RECYCLE_REASON, setting="max_requests"),
    Default(
        "--max-requests-jitter",
        500,
        "spread those recycles so workers do not restart together",
        setting="max_requests_jitter",
    ),
    Default(
        "--access-logfile",
        "-",
        "log requests to standard output (gunicorn logs none by default)",
        setting="accesslog",
    ),
    Default("--error-logfile", "-", "errors to standard error", setting="errorlog"),
    Default.configured(
        "--name",
        "NAME",
        "ps shows `gunicorn: master [NAME]` and `gunicorn: worker [NAME]` (gunicorn sets process "
        "titles only with the setproctitle package, a dependency of django-zipserve)",
        setting="proc_name",
    ),
    # No single setting: control_socket_settings() picks one at start.
    Default(
        "--control-socket",
        "$RUNTIME_DIRECTORY/gunicorn.ctl",
        "a control socket that works with a read-only home: the service's RuntimeDirectory, "
        "else $XDG_RUNTIME_DIR, else ~/.gunicorn, else none",
    ),
)


def defaults(conf=None):
    """gunicorn's production defaults; ``default_settings(conf)`` resolves
    their values (``conf`` here is accepted for callers that pass one)."""
    return list(DEFAULTS)


def default_settings(conf=None, environ=None):
    """Our defaults as gunicorn setting names and values."""
    values = {default.setting: default.resolve(conf) for default in defaults(conf) if default.setting}
    values.update(control_socket_settings(environ))
    return values


def asgi_refusal():
    """Why this gunicorn cannot serve ASGI, or "" when it can (24 and later
    have their own asyncio worker)."""
    import gunicorn
    from gunicorn.workers import SUPPORTED_WORKERS

    if "asgi" in SUPPORTED_WORKERS:
        return ""
    return f"gunicorn {gunicorn.__version__} has no asgi worker: --asgi needs gunicorn 24 or later"


def stop_gracefully_on_sigint(arbiter):
    """gunicorn's ``on_starting`` hook: SIGINT (Ctrl-C) stops as gracefully
    as SIGTERM, letting requests in flight finish; gunicorn's own SIGINT
    drops them (SIGQUIT still does). The arbiter looks its signal handlers
    up by name on itself, so an attribute of this arbiter replaces one."""
    # gunicorn has no setting or public hook for what SIGINT does: this
    # relies on its main loop's getattr(self, "handle_" + signal name),
    # checked against gunicorn 23.0.0 to 27.0.1 (tests/test_internals.py).
    arbiter.handle_int = arbiter.handle_term


def also_run_operators_hook(operators_hook):
    """``on_starting`` that keeps our graceful SIGINT and then runs the
    operator's own hook (from their gunicorn config file)."""

    def stop_gracefully_on_sigint_then_operators_hook(arbiter):
        stop_gracefully_on_sigint(arbiter)
        operators_hook(arbiter)

    return stop_gracefully_on_sigint_then_operators_hook


class DjangoApplication(WSGIApplication):
    """gunicorn's WSGI application, fed our argument list instead of
    ``sys.argv`` and serving the already loaded Django application unless
    the operator names another (APP_MODULE, a config file's ``wsgi_app``)."""

    def __init__(self, server_args, django_application, prog=None, conf=None, environ=None, asgi=False):
        self.server_args = list(server_args)
        self.django_application = django_application
        self.asgi = asgi  # django_application is the ASGI application
        self.conf = conf
        self.environ = environ
        super().__init__("%(prog)s [OPTIONS] [APP_MODULE]", prog=prog)

    def init(self, parser, opts, args):
        """What this returns gunicorn applies below everything the operator
        sets (config file, GUNICORN_CMD_ARGS, command line)."""
        super().init(parser, opts, args)  # a positional APP_MODULE, or --paste
        return {
            **default_settings(self.conf, self.environ),
            "wsgi_app": self.app_path(),
            "on_starting": stop_gracefully_on_sigint,
            # gunicorn's own asyncio worker: keep-alive, lifespan, streaming.
            **({"worker_class": "asgi"} if self.asgi else {}),
        }

    def app_path(self):
        return asgi_app_path(self.conf) if self.asgi else wsgi_app_path(self.conf)

    def load_config(self):
        """gunicorn's own loading, reading our arguments. Its parser reads
        ``sys.argv``, which must be the operator's again afterwards: USR2
        re-executes it. HUP (``reload()``) comes back here."""
        # gunicorn takes no argument list: Application.load_config() calls
        # parser.parse_args() with none, which reads sys.argv[1:]. Its public
        # alternative (a load_config() that sets self.cfg itself) would lose
        # the config file and GUNICORN_CMD_ARGS. Checked against gunicorn
        # 23.0.0 to 27.0.1 (tests/test_internals.py).
        operators_argv = sys.argv
        sys.argv = [operators_argv[0], *self.server_args]
        try:
            super().load_config()
        finally:
            sys.argv = operators_argv
        self.keep_graceful_sigint()

    def keep_graceful_sigint(self):
        # A config file's on_starting replaces our default like any other
        # setting would; chain theirs after ours so that neither is lost.
        if self.cfg.on_starting is not stop_gracefully_on_sigint:
            self.cfg.set("on_starting", also_run_operators_hook(self.cfg.on_starting))

    def load(self):
        if self.cfg.paste is None and self.app_uri == self.app_path():
            return self.django_application  # already loaded and warmed up
        return super().load()


def run(server_args, application, asgi_application=None, prog="gunicorn"):
    if asgi_application is not None:
        DjangoApplication(server_args, asgi_application, prog=prog, asgi=True).run()
    else:
        DjangoApplication(server_args, application, prog=prog).run()


def show_help(prog="gunicorn"):
    DjangoApplication(["--help"], None, prog=prog)
