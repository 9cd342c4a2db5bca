import argparse
import contextlib
import importlib.util
import os
import runpy
import signal
import socket
import sys

from django.core.management import ManagementUtility, get_commands, load_command_class
from django.core.management.base import BaseCommand, CommandError

from django_zipserve.deploy import processes
from django_zipserve.management.base import ZipserveCommand


class Command(ZipserveCommand):
    help = (
        "Run a process the project declares in ZIPSERVE_PROCESSES (a task worker, a long-running "
        "command, a periodic job) with the site's configuration and logging: `run worker`; "
        "`run --list` lists them. SIGTERM stops a command that does not handle it as Ctrl-C would; "
        "under systemd the process reports itself ready once the project is loaded and checked."
    )
    requires_system_checks = "__all__"  # a worker must not start on a broken project either

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
        parser.epilog = help_epilog()
        return parser

    def add_arguments(self, parser):
        parser.add_argument("name", nargs="?", help="the process to run")
        parser.add_argument(
            "--list", dest="list_only", action="store_true", help="list the declared processes and exit"
        )

    def handle(self, *args, name=None, list_only=False, **options):
        declared = processes.declared()
        if list_only or name is None:
            if name is None and not list_only:
                raise CommandError(f"name a process to run; {describe_names(declared)}")
            for line in listing(declared):
                self.stdout.write(line)
            return
        if name not in declared:
            raise CommandError(f"no process {name!r}: {describe_names(declared)}")
        process = declared[name]
        load_process(process)
        if process.notify:
            notify_ready()
        with sigterm_as_ctrl_c():
            try:
                run_process(process)
            except KeyboardInterrupt:
                # Asked to stop (SIGTERM or Ctrl-C) and the command did not
                # handle it: a clean stop, not a failure.
                return


def help_epilog():
    """The declared processes and the keys of a declaration, for --help."""
    try:
        declared = processes.declared()
    except processes.ProcessDeclarationError as exc:
        lines = [f"{processes.SETTING} is malformed: {exc}"]
    else:
        lines = [f"declared in {processes.SETTING}:", *(f"  {line}" for line in listing(declared))]
    lines += ["", "keys of a declaration (see docs/reference/processes.md):"]
    lines += [f"  {key.name}: {key.kind}" for key in processes.KEYS]
    return "\n".join(lines)


def describe_names(declared):
    if not declared:
        return f"the project declares none ({processes.SETTING} is empty or not set)"
    return f"declared: {', '.join(declared)}"


def listing(declared):
    if not declared:
        return [describe_names(declared)]
    width = max(len(name) for name in declared)
    lines = []
    for process in declared.values():
        kind = f"job, {process.schedule}" if process.is_job else "service"
        lines.append(f"{process.name:<{width}}  {process.command_line()}  ({kind})")
        if process.description:
            lines.append(f"{'':<{width}}  {process.description}")
    return lines


def load_process(process):
    """Import what the process runs before it reports itself ready: a command
    or module that cannot be imported (an optional dependency the web never
    imports, a typo) then fails the unit's start, which `systemctl start` and
    `deploy --switch` see, instead of a READY=1 followed by an exit that
    systemd answers by restarting it for ever."""
    try:
        if process.module:
            find_module(process.module)
        else:
            load_command(process.command[0])
    except ImportError as exc:
        raise CommandError(f"process {process.name!r} cannot start: {exc}") from None


def find_module(module):
    """What ``python -m MODULE`` would run (a package's ``__main__``), found
    as runpy finds it: the packages above it are imported, it is not run."""
    try:
        spec = importlib.util.find_spec(module)
    except ValueError as exc:  # a name it cannot take ("", ".relative")
        raise ImportError(f"{module!r}: {exc}") from None
    if spec is None:
        raise ImportError(f"no module named {module!r}")
    if spec.submodule_search_locations is not None:  # a package: python -m runs its __main__
        find_module(f"{module}.__main__")


def load_command(command):
    """Import the management command's module, as ``manage.py COMMAND`` will."""
    app = get_commands().get(command)
    if app is None:
        raise ImportError(f"no management command {command!r} in the project's installed apps")
    if not isinstance(app, BaseCommand):  # an instance where a test registered one, as Django allows
        load_command_class(app, command)


def run_process(process):
    if process.module:
        # The module reads its arguments from sys.argv, as under `python -m`.
        sys.argv = [process.module, *process.args]
        runpy.run_module(process.module, run_name="__main__", alter_sys=True)
    else:
        ManagementUtility([sys.argv[0], *process.command]).execute()


@contextlib.contextmanager
def sigterm_as_ctrl_c():
    """SIGTERM (systemctl stop, a deploy restarting workers) raises
    KeyboardInterrupt, as Ctrl-C does, so a command written to stop on Ctrl-C
    finishes what it can; a command that installs its own SIGTERM handler
    (Celery, django-tasks' db_worker) replaces this one."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def notify_ready(environ=None):
    """``READY=1`` to systemd's notify socket (``Type=notify``), if any."""
    address = (os.environ if environ is None else environ).get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):  # an abstract socket
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.sendto(b"READY=1", address)
    return True
