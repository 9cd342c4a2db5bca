"""The console-script entry point of a project that uses django-zipserve.

A project's ``__main__.py`` holds two lines::

    from django_zipserve.entrypoint import make_main
    main = make_main("mysite.settings")

and its packaging names ``mysite.__main__:main`` as the entry point, for
``shiv -e`` and ``[project.scripts]`` alike. Then::

    ./mysite.pyz --config /etc/mysite.yml pyuwsgi --http :8000

``--config FILE`` (before the command name) chooses the configuration file.

``sys.argv`` is never modified: uWSGI's reload and gunicorn's binary upgrade
re-execute the process with its original arguments, so the re-executed
process reads the same ``--config`` and runs the same command.
"""

import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from .conf import sources

if TYPE_CHECKING:
    from .management.base import ZipserveCommand

USAGE = "usage: {prog} [--config FILE] COMMAND [ARGS ...]"


#: What asks Django for help rather than running a command: it must work
#: before any valid configuration exists.
HELP_WORDS = ("help", "-h", "--help")
#: Where django-zipserve's own commands live; each declares whether it needs
#: the configuration (``ZipserveCommand.runs_without_configuration``).
OWN_COMMANDS = "django_zipserve.management.commands"


class UsageError(Exception):
    pass


def split_global_options(argv: Sequence[str]) -> tuple[str | None, list[str]]:
    """Return ``(config_file, django_argv)`` from a full argv.

    Only options before the command name are ours; everything from the
    command name on belongs to Django and to the command.
    """
    prog, rest = argv[0], list(argv[1:])
    config_file = None
    while rest and rest[0].startswith("--config"):
        option = rest.pop(0)
        if option == "--config":
            if not rest or rest[0].startswith("-"):
                raise UsageError("--config needs a file name: --config FILE")
            config_file = rest.pop(0)
        elif option.startswith("--config="):
            config_file = option.partition("=")[2]
            if not config_file:
                raise UsageError("--config needs a file name: --config=FILE")
        else:
            raise UsageError(f"unknown option {option}")
    return config_file, [prog, *rest]


def run(settings_module: str, argv: Sequence[str] | None = None) -> None:
    """Run a management command the way ``manage.py`` would."""
    argv = list(sys.argv if argv is None else argv)
    prog = os.path.basename(argv[0]) if argv else "manage.py"
    try:
        config_file, django_argv = split_global_options(argv)
    except UsageError as exc:
        print(f"{prog}: {exc}\n{USAGE.format(prog=prog)}", file=sys.stderr)
        raise SystemExit(2) from None
    if config_file is not None:
        sources.set_command_line_file(config_file)
    if django_argv[1:] in (["version"], ["--version"]):
        # Django answers these itself, with its own version only.
        django_argv = [django_argv[0], "zipapp", "version"]
    if not needs_configuration(django_argv[1:]):
        sources.use_defaults_only()
    choose_settings(settings_module, django_argv[1:])
    load_settings_printing_to_stderr(django_argv)
    if django_argv[1:2] == ["test"] and not asks_for_help(django_argv[2:]):
        run_own_test_command(django_argv)
        return
    from django.core.management import execute_from_command_line

    execute_from_command_line(django_argv)


def load_settings_printing_to_stderr(argv: Sequence[str]) -> None:
    """Import the settings with whatever they print sent to standard error:
    standard output is the command's (``config template yaml > file``,
    ``zipapp version --json``), and a warning a settings module prints at
    import would spoil it. ``--settings`` and ``--pythonpath`` are applied
    first, as Django's own start does, so that it is the same module. A
    settings module that fails to import fails again where Django loads it,
    and is reported there as always."""
    import contextlib

    from django.conf import settings

    apply_default_options(argv)
    with contextlib.redirect_stdout(sys.stderr):
        try:
            settings.INSTALLED_APPS  # noqa: B018 - the access imports the module
        except Exception:  # reported by Django's own loading, below
            pass


def asks_for_help(args: Sequence[str]) -> bool:
    return "--help" in args or "-h" in args


def apply_default_options(argv: Sequence[str]) -> None:
    """What Django's ManagementUtility.execute() does before any command:
    ``--settings`` and ``--pythonpath`` first."""
    from django.core.management.base import CommandParser, handle_default_options

    parser = CommandParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--settings")
    parser.add_argument("--pythonpath")
    options, _ = parser.parse_known_args(list(argv[2:]))
    handle_default_options(options)


def run_own_test_command(argv: Sequence[str]) -> None:
    """Run ``test`` with django-zipserve's command, whatever the settings
    install: test settings of the project's own (``--settings
    mysite.settings.test``) rarely list django_zipserve, and Django's own
    command then finds no test below the working directory and says OK."""
    import django

    from .management.commands.test import Command

    apply_default_options(argv)
    django.setup()
    Command().run_from_argv(list(argv))


#: The start-up module every artifact runs first (``zipapp/boot.py``); it
#: notes the process's DJANGO_SETTINGS_MODULE before any project code runs.
BOOT_MODULE = "_zipserve_boot"


def choose_settings(settings_module: str, args: Sequence[str]) -> None:
    """Make ``settings_module`` the one Django loads.

    An artifact runs the settings it was built with, whatever set
    DJANGO_SETTINGS_MODULE before: a package ``__init__`` that imports a
    Celery app doing ``os.environ.setdefault(..., "config.settings.local")``
    (Celery's documented pattern, so every cookiecutter-django project),
    or the operator's shell. Another module is run only when the command
    line asks with ``--settings``, and then it says so. From source
    (``python -m mysite``), the environment may choose, as with manage.py."""
    boot = sys.modules.get(BOOT_MODULE)
    if boot is None:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
        return
    asked = settings_option(args)
    if asked and asked != settings_module:
        notice(f"running the settings {asked} (--settings), not this artifact's own {settings_module}")
    inherited = getattr(boot, "INHERITED_SETTINGS", None)
    if inherited and inherited != settings_module and not asked:
        notice(
            f"DJANGO_SETTINGS_MODULE={inherited} in the environment is ignored: this artifact runs "
            f"its own settings, {settings_module} (--settings MODULE runs another)"
        )
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module


def settings_option(args: Sequence[str]) -> str | None:
    """The module a ``--settings`` option names, as Django's parser reads it."""
    for index, arg in enumerate(args):
        if arg == "--settings" and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith("--settings="):
            return arg.partition("=")[2]
    return None


def notice(text: str) -> None:
    print(f"django-zipserve: {text}", file=sys.stderr, flush=True)


def needs_configuration(args: Sequence[str]) -> bool:
    """Whether the command line ``args`` (after the program name) needs the
    site's real configuration: help never does, and each of our commands
    says so for itself. Decided before Django loads the settings, which is
    where the configuration is read."""
    if not args or args[0] in HELP_WORDS or "--help" in args or "-h" in args[:2]:
        return False
    command_class = own_command(args[0])
    return command_class is None or command_class.needs_configuration(args[1:])


def own_command(name: str) -> "type[ZipserveCommand] | None":
    """The Command class of one of django-zipserve's commands, or None."""
    from importlib import import_module
    from importlib.util import find_spec

    from .management.base import ZipserveCommand

    if not name.isidentifier() or find_spec(f"{OWN_COMMANDS}.{name}") is None:
        return None
    command_class = getattr(import_module(f"{OWN_COMMANDS}.{name}"), "Command", None)
    return (
        command_class
        if isinstance(command_class, type) and issubclass(command_class, ZipserveCommand)
        else None
    )


def make_main(settings_module: str) -> Callable[..., None]:
    """Build the ``main()`` function of a project's entry point."""

    def main(argv: Sequence[str] | None = None) -> None:
        run(settings_module, argv)

    main.__doc__ = f"Run a management command of {settings_module.rpartition('.')[0] or settings_module}."
    return main
