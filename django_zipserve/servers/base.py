"""What both server commands share: argument pass-through, defaults, start-up.

A server command hands every argument after its name to the server
unchanged. Django's own global options (``--settings``, ``--pythonpath``)
are taken out first: Django has already applied them, and the servers would
misread them (gunicorn has a ``--pythonpath`` of its own, uWSGI's parser is
strict).

``sys.argv`` is never touched: both servers re-execute the original command
line to reload, so it must stay the command the operator typed.
"""

import argparse
import os
import sys
import textwrap
from dataclasses import dataclass

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser, handle_default_options
from django.db import connections

DJANGO_GLOBAL_OPTIONS = ("--settings", "--pythonpath")
HELP_FLAGS = ("-h", "--help")
SERVER_HELP_FLAG = "--server-help"


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

    def resolve(self, conf=None):
        if callable(self.value):
            return self.value(settings if conf is None else conf)
        return self.value

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


def split_django_options(args):
    """Return ``(server_args, django_options)`` with --settings/--pythonpath
    taken out, in either ``--opt value`` or ``--opt=value`` form."""
    server_args, django_options = [], {}
    iterator = iter(args)
    for arg in iterator:
        name, has_value, value = arg.partition("=")
        if name in DJANGO_GLOBAL_OPTIONS:
            if not has_value:
                value = next(iterator, None)
            django_options[name[2:]] = value
        else:
            server_args.append(arg)
    return server_args, django_options


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


class PassThroughParser(CommandParser):
    """A parser that keeps every argument for the server.

    ``call_command("gunicorn", "--bind", "127.0.0.1:8001")`` goes through
    this parser as well, so the command behaves the same from Python.
    """

    def parse_args(self, args=None, namespace=None):
        args = list(sys.argv[1:] if args is None else args)
        if any(arg in HELP_FLAGS for arg in args):
            self.print_help()
            self.exit()
        server_args, django_options = split_django_options(args)
        return argparse.Namespace(
            server_args=server_args,
            settings=django_options.get("settings"),
            pythonpath=django_options.get("pythonpath"),
            verbosity=1,
            traceback=False,
            no_color=False,
            force_color=False,
            skip_checks=False,
        )


class ServerCommand(BaseCommand):
    """Base class of the ``pyuwsgi`` and ``gunicorn`` commands."""

    server_name = ""  # shown in help and messages
    server_help_hint = ""
    requires_system_checks = []  # run below, deploy checks included
    suppressed_base_arguments = set()

    def defaults(self):
        """The server's production defaults, a list of :class:`Default`."""
        raise NotImplementedError

    def run_server(self, server_args, application):
        """Start the server; does not return while it runs."""
        raise NotImplementedError

    def show_server_help(self):
        raise NotImplementedError

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = PassThroughParser(
            prog=f"{os.path.basename(prog_name)} {subcommand}",
            usage=f"%(prog)s [{self.server_name.upper()} OPTIONS ...]",
            description=self.help,
            epilog=self.help_epilog(),
            formatter_class=argparse.RawDescriptionHelpFormatter,
            called_from_command_line=getattr(self, "_called_from_command_line", None),
            add_help=False,
            **kwargs,
        )
        parser.add_argument("server_args", nargs="*", metavar="OPTION", help=argparse.SUPPRESS)
        parser.add_argument("--settings", help=argparse.SUPPRESS)
        parser.add_argument("--pythonpath", help=argparse.SUPPRESS)
        return parser

    def help_epilog(self):
        lines = ["production defaults (any option you give replaces the default for that option):"]
        for default in self.defaults():
            lines.append(f"  {default.describe()}")
            lines.extend(textwrap.wrap(default.reason, 74, initial_indent="      ", subsequent_indent="      "))
        lines += [
            "",
            "Bind address, workers, threads and timeout come from the configuration",
            "(BIND, WORKERS, THREADS, TIMEOUT); command-line options override it.",
            f"For {self.server_name}'s own options: {SERVER_HELP_FLAG}",
        ]
        return "\n".join(lines)

    def run_from_argv(self, argv):
        self._called_from_command_line = True
        if SERVER_HELP_FLAG in argv[2:]:
            self.show_server_help()
            return
        parser = self.create_parser(argv[0], argv[1])
        options = parser.parse_args(argv[2:])
        handle_default_options(options)
        try:
            self.execute(**vars(options))
        except CommandError as exc:
            self.stderr.write(f"{type(exc).__name__}: {exc}")
            sys.exit(exc.returncode)
        finally:
            connections.close_all()

    def handle(self, *args, server_args=(), **options):
        from django.core.exceptions import ImproperlyConfigured
        from django.core.servers.basehttp import get_internal_wsgi_application

        self.check(include_deployment_checks=True, display_num_errors=False)
        try:
            application = get_internal_wsgi_application()
        except ImproperlyConfigured as exc:
            cause = f" ({type(exc.__cause__).__name__}: {exc.__cause__})" if exc.__cause__ else ""
            raise CommandError(f"refusing to start: {exc}{cause}") from None
        self.warm_up(application)
        self.check_migrations()  # a notice only: migrating is a release step
        # Nothing opened in this process may be shared with forked workers.
        connections.close_all()
        self.run_server(list(server_args), application)

    def warm_up(self, application):
        from . import warmup

        if not getattr(settings, "ZIPSERVE_WARMUP", True):
            return
        try:
            path = warmup.warm_up(application)
        except warmup.WarmupFailed as exc:
            raise CommandError(f"refusing to start: {exc}") from None
        if path is None:
            self.stderr.write("warm-up skipped: django_zipserve.urls is not included (zipserve.W001)")
