"""What both server commands share: argument pass-through, defaults, start-up.

A server command hands every argument after its name to the server
unchanged, except the few options the command reads itself
(:data:`COMMAND_OPTIONS`): Django's ``--settings``, ``--pythonpath`` and
``--traceback``, which the servers would misread (gunicorn has a
``--pythonpath`` of its own, uWSGI's parser is strict), and our
``--server-help``.

The rest is Django's own machinery: Django's ``run_from_argv`` (failing
system checks printed in Django's format, ``--traceback``), Django's base
options with their real defaults, and ``call_command("gunicorn", "--bind",
"127.0.0.1:8001")`` going through the same parser as the command line.

``sys.argv`` is never touched: both servers re-execute the original command
line to reload, so it must stay the command the operator typed.
"""

import argparse
import sys
import textwrap

from django.conf import settings
from django.core import checks
from django.core.management.base import CommandParser
from django.db import connections

from ..conf import setting
from ..errors import ZipserveError
from ..servers import front, warmup
from ..servers.base import asgi_app_path
from .base import ZipserveCommand

HELP_FLAGS = ("-h", "--help")
SERVER_HELP_FLAG = "--server-help"

#: The options the command reads itself and never passes to the server, each
#: with whether it takes a value. Every other argument is the server's.
ASGI_FLAG = "--asgi"
COMMAND_OPTIONS = {
    "--settings": True,
    "--pythonpath": True,
    "--traceback": False,
    SERVER_HELP_FLAG: False,
    ASGI_FLAG: False,
}


#: The system checks a server start runs (deployment checks included): those
#: whose answer the host's configuration can change, URLs included (a
#: configured base path moves them). The others depend on the code alone
#: (models, and the checks an app registers without a tag, such as
#: drf-spectacular's, which builds the whole API schema): the build runs
#: them all, and so can ``check --deploy`` on the host.
START_CHECK_TAGS = (
    checks.Tags.security,
    checks.Tags.caches,
    checks.Tags.files,
    checks.Tags.staticfiles,
    checks.Tags.templates,
    checks.Tags.urls,
    checks.Tags.async_support,
    "zipserve",
)


def split_command_options(args):
    """Return ``(command_args, server_args)``: the :data:`COMMAND_OPTIONS`
    (``--opt value`` or ``--opt=value``) and everything else, in order."""
    command_args, server_args = [], []
    iterator = iter(args)
    for arg in iterator:
        name, has_value, _ = arg.partition("=")
        if name not in COMMAND_OPTIONS:
            server_args.append(arg)
            continue
        command_args.append(arg)
        if COMMAND_OPTIONS[name] and not has_value:
            value = next(iterator, None)
            if value is not None:  # a missing value is argparse's to report
                command_args.append(value)
    return command_args, server_args


class PassThroughParser(CommandParser):
    """Django's parser, with every argument but the command's own options
    kept for the server as ``server_args``; ``-h``/``--help`` anywhere shows
    our help (the server's is ``--server-help``)."""

    def parse_args(self, args=None, namespace=None):
        args = list(sys.argv[1:] if args is None else args)
        if any(arg in HELP_FLAGS for arg in args):
            self.print_help()
            self.exit()
        command_args, server_args = split_command_options(args)
        options = super().parse_args(command_args, namespace)
        options.server_args = server_args
        return options


class ApplicationNotLoaded(ZipserveError):
    """WSGI_APPLICATION cannot be imported: the server would only serve errors."""


class AsgiNotServed(ZipserveError):
    """ASGI was asked of a server that does not serve it, or of a project
    without ASGI_APPLICATION."""

    exit_status = 2


def asgi_refusal(command):
    """Why ``command`` (a ServerCommand) cannot serve the
    project's ASGI application, or None."""
    if command.asgi_refusal:
        return command.asgi_refusal
    if asgi_app_path() is None:
        return (
            f"{ASGI_FLAG}: ASGI_APPLICATION is not set; set it in the settings to the "
            "project's ASGI application, e.g. ASGI_APPLICATION = 'mysite.asgi.application'"
        )
    return None


def static_front_line(count):
    """What the command prints once the static front is on: how many static
    files it answers before Django."""
    return f"static front: {count} static files answered before Django"


class ServerCommand(ZipserveCommand):
    """Base class of the ``pyuwsgi`` and ``gunicorn`` commands."""

    server_name = ""  # shown in help and messages

    @property
    def asgi_refusal(self):
        """Why ``--asgi`` is refused, for a server that serves WSGI only;
        "" when it serves ASGI. A command overrides it with a class attribute
        (``pyuwsgi``) or a property (``gunicorn``: it depends on the version)."""
        return ""

    def defaults(self):
        """The server's production defaults, a list of :class:`Default`."""
        raise NotImplementedError

    def run_server(self, server_args, application, asgi_application=None):
        """Start the server; does not return while it runs. With
        ``asgi_application`` it serves that instead of ``application``."""
        raise NotImplementedError

    def show_server_help(self):
        raise NotImplementedError

    def create_parser(self, prog_name, subcommand, **kwargs):
        # Django builds a CommandParser itself; argparse's parents= carries its
        # base options, with their real defaults, into our parser class.
        django_parser = super().create_parser(prog_name, subcommand, add_help=False, **kwargs)
        return PassThroughParser(
            prog=django_parser.prog,
            usage=f"%(prog)s [{self.server_name.upper()} OPTIONS ...]",
            description=textwrap.fill(self.help, 79),
            epilog=self.help_epilog(),
            formatter_class=argparse.RawDescriptionHelpFormatter,
            called_from_command_line=django_parser.called_from_command_line,
            parents=[django_parser],
        )

    def add_base_argument(self, parser, *args, **kwargs):
        # Django's other base options (-v, --no-color, ...) reach the server
        # as they are: our help lists only the options the command reads.
        if not COMMAND_OPTIONS.keys() & set(args):
            kwargs["help"] = argparse.SUPPRESS
        super().add_base_argument(parser, *args, **kwargs)

    def add_arguments(self, parser):
        parser.add_argument(
            SERVER_HELP_FLAG, action="store_true", help=f"show {self.server_name}'s own options and exit"
        )
        parser.add_argument(
            ASGI_FLAG,
            action="store_true",
            help=self.asgi_refusal
            or "serve ASGI_APPLICATION (async views, streaming) instead of WSGI_APPLICATION",
        )

    def help_epilog(self):
        lines = ["production defaults (any option you give replaces the default for that option):"]
        for default in self.defaults():
            lines.append(f"  {default.describe()}")
            lines.extend(
                textwrap.wrap(default.reason, 74, initial_indent="      ", subsequent_indent="      ")
            )
        lines += [
            "",
            "Bind address, workers, threads and timeout come from the configuration",
            "(BIND, WORKERS, THREADS, TIMEOUT); command-line options override it.",
            f"For {self.server_name}'s own options: {SERVER_HELP_FLAG}",
        ]
        return "\n".join(lines)

    def handle(self, *args, server_args=(), server_help=False, asgi=False, **options):
        if server_help:
            self.show_server_help()
            return
        refusal = asgi_refusal(self) if asgi else None
        if refusal:
            raise AsgiNotServed(refusal)
        # The warm-up goes through the WSGI application either way: the same
        # project, views and database, and what a broken release fails.
        application, static_front = self.prepare_application()
        if asgi:
            asgi_application = load_asgi_application()
            if static_front is not None:
                asgi_application = static_front.asgi(asgi_application)
        else:
            asgi_application = None
            if static_front is not None:
                application = static_front.wsgi(application)
        self.run_server(list(server_args), application, asgi_application)

    def prepare_application(self):
        """Check what a host can change (START_CHECK_TAGS), load its WSGI
        application, warm it up and learn the static front (None when it
        stands aside). A failure raises Django's SystemCheckError or a
        ZipserveError; Django's run_from_argv reports either once, with a
        traceback only under ``--traceback``."""
        self.check(tags=START_CHECK_TAGS, include_deployment_checks=True, display_num_errors=False)
        application = load_application()
        self.warm_up(application)
        static_front, reason = front.build(application)
        if static_front is not None:
            self.stderr.write(static_front_line(len(static_front.files)))
        else:
            self.stderr.write(f"static files answered through Django: {reason}")
        self.check_migrations()  # a notice only: migrating is a release step
        # Nothing opened in this process may be shared with forked workers.
        connections.close_all()
        return application, static_front

    def warm_up(self, application):
        """The health view and WARMUP_PATHS, in this process: an answer of
        500 or more refuses the start (see ``warmup``)."""
        if not setting("WARMUP"):
            return
        if warmup.health_path() is None:
            self.stderr.write(
                "warm-up without the health view: django_zipserve.urls is not included (zipserve.W001)"
            )
        warmup.warm_up(application)


def load_asgi_application():
    """The project's ASGI application, imported from ASGI_APPLICATION."""
    from django.utils.module_loading import import_string

    try:
        return import_string(settings.ASGI_APPLICATION)
    except ImportError as exc:
        raise ApplicationNotLoaded(f"refusing to start: ASGI_APPLICATION cannot be imported: {exc}") from None


def load_application():
    """The project's WSGI application, as Django's runserver loads it."""
    from django.core.exceptions import ImproperlyConfigured
    from django.core.servers.basehttp import get_internal_wsgi_application

    try:
        return get_internal_wsgi_application()
    except ImproperlyConfigured as exc:
        cause = f" ({type(exc.__cause__).__name__}: {exc.__cause__})" if exc.__cause__ else ""
        raise ApplicationNotLoaded(f"refusing to start: {exc}{cause}") from None
