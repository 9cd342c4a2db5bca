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

from .conf import sources

USAGE = "usage: {prog} [--config FILE] COMMAND [ARGS ...]"


# Commands that describe the project rather than run it: they must work
# before a valid configuration exists.
DESCRIBING_COMMANDS = (["config", "template"], ["config", "docs"], ["zipapp", "version"], ["systemd", "render"])
# Commands that manage releases run on the server as an operator, before the
# service's credentials exist: they need no secret either.
RELEASE_COMMANDS = ("deploy", "rollback", "releases")


class UsageError(Exception):
    pass


def split_global_options(argv):
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


def run(settings_module, argv=None):
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
    if django_argv[1:3] in DESCRIBING_COMMANDS or django_argv[1:2] and django_argv[1] in RELEASE_COMMANDS:
        sources.use_defaults_only()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    from django.core.management import execute_from_command_line

    execute_from_command_line(django_argv)


def make_main(settings_module):
    """Build the ``main()`` function of a project's entry point."""

    def main(argv=None):
        run(settings_module, argv)

    main.__doc__ = f"Run a management command of {settings_module.rpartition('.')[0] or settings_module}."
    return main
