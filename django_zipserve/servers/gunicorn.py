"""gunicorn, run in-process: production defaults at the lowest precedence.

gunicorn's own order applies unchanged above our defaults: a config file
(``-c``, or ``./gunicorn.conf.py``), then ``GUNICORN_CMD_ARGS``, then the
command line. Our defaults sit below all of them, so any way an operator
sets an option wins.
"""

import os
import sys

from gunicorn import util
from gunicorn.app.wsgiapp import WSGIApplication
from gunicorn.arbiter import Arbiter
from gunicorn.config import get_default_config_file

from .base import Default


def control_socket_settings(environ=None):
    """gunicorn 25+ opens a control socket in $XDG_RUNTIME_DIR or
    ~/.gunicorn; under systemd's DynamicUser or ProtectHome the home is
    read-only. Use the service's RuntimeDirectory when there is one, and
    turn the socket off rather than warn when nothing writable is known."""
    environ = os.environ if environ is None else environ
    for variable in ("RUNTIME_DIRECTORY", "XDG_RUNTIME_DIR"):
        directory = (environ.get(variable) or "").split(":")[0]
        if directory and os.path.isdir(directory) and os.access(directory, os.W_OK):
            return {"control_socket": os.path.join(directory, "gunicorn.ctl")}
    home = os.path.expanduser("~")
    if os.path.isdir(home) and os.access(home, os.W_OK):
        return {}  # gunicorn's own default, ~/.gunicorn/gunicorn.ctl, works
    return {"control_socket_disable": True}


def defaults(conf=None):
    if conf is None:
        from django.conf import settings as conf

    return [
        Default("--bind", lambda s: [s.ZIPSERVE_BIND], "listen address; under socket activation gunicorn "
                "uses the inherited socket instead", "BIND", setting="bind"),
        Default("--workers", lambda s: s.ZIPSERVE_WORKERS, "worker processes", "WORKERS", setting="workers"),
        Default("--threads", lambda s: s.ZIPSERVE_THREADS, "threads per worker (more than 1 selects the "
                "gthread worker)", "THREADS", setting="threads"),
        Default("--timeout", lambda s: s.ZIPSERVE_TIMEOUT, "kill and replace a worker silent this long",
                "TIMEOUT", setting="timeout"),
        Default("--graceful-timeout", lambda s: s.ZIPSERVE_TIMEOUT, "seconds in-flight requests get to finish "
                "on SIGTERM or reload", "TIMEOUT", setting="graceful_timeout"),
        Default("--max-requests", 5000, "recycle each worker after 5000 requests to bound slow memory leaks",
                setting="max_requests"),
        Default("--max-requests-jitter", 500, "spread those recycles so workers do not restart together",
                setting="max_requests_jitter"),
        Default("--access-logfile", "-", "log requests to standard output (gunicorn logs none by default)",
                setting="accesslog"),
        Default("--error-logfile", "-", "errors to standard error", setting="errorlog"),
        Default("--proc-name", getattr(conf, "ZIPSERVE_NAME", "django"), "ps shows the project's name",
                setting="proc_name"),
        Default("--control-socket", "$RUNTIME_DIRECTORY/gunicorn.ctl", "a control socket that works with a "
                "read-only home: the service's RuntimeDirectory, else $XDG_RUNTIME_DIR, else ~/.gunicorn, "
                "else none"),
    ]


def default_settings(conf=None, environ=None):
    """Our defaults as gunicorn setting names and values."""
    values = {default.setting: default.resolve(conf) for default in defaults(conf) if default.setting}
    values.update(control_socket_settings(environ))
    return values


class GracefulArbiter(Arbiter):
    """SIGINT stops as gracefully as SIGTERM: requests in flight finish.
    (gunicorn's own SIGINT drops them; SIGQUIT still does.)"""

    def handle_int(self):
        self.handle_term()


class DjangoApplication(WSGIApplication):
    """gunicorn's WSGI application, fed our argument list instead of
    ``sys.argv`` and serving the already configured Django application
    unless the operator names another APP_MODULE."""

    def __init__(self, server_args, django_application, prog=None, conf=None):
        self.server_args = list(server_args)
        self.django_application = django_application
        self.conf = conf
        super().__init__("%(prog)s [OPTIONS] [APP_MODULE]", prog=prog)

    def load_config(self):
        parser = self.cfg.parser()
        args = parser.parse_args(self.server_args)
        self.app_uri = args.args[0] if args.args else None
        if self.app_uri:
            self.cfg.set("default_proc_name", self.app_uri)
        for name, value in default_settings(self.conf).items():
            self.cfg.set(name, value)
        self.chdir()
        env_args = parser.parse_args(self.cfg.get_cmd_args_from_env())
        config_file = args.config or env_args.config or get_default_config_file()
        if config_file:
            self.load_config_from_file(config_file)
        for layer in (env_args, args):
            for name, value in vars(layer).items():
                if value is not None and name != "args":
                    self.cfg.set(name.lower(), value)
        self.chdir()

    def load(self):
        if self.app_uri:
            return util.import_app(self.app_uri)
        return self.django_application

    def run(self):
        try:
            GracefulArbiter(self).run()
        except RuntimeError as exc:
            print(f"\nError: {exc}\n", file=sys.stderr)
            sys.stderr.flush()
            sys.exit(1)


def run(server_args, application, prog="gunicorn"):
    DjangoApplication(server_args, application, prog=prog).run()


def show_help(prog="gunicorn"):
    DjangoApplication(["--help"], None, prog=prog)
