"""The base class of django-zipserve's management commands.

One place turns the errors of every subsystem (configuration, build,
release, switch, warm-up: :class:`~django_zipserve.errors.ZipserveError`)
into Django's ``CommandError``, so each command reports a failure the same
way: one readable message on standard error, the subsystem's exit status,
and a traceback only with ``--traceback``.
"""

from collections.abc import Sequence
from typing import Literal

from django.core.management.base import BaseCommand, CommandError

from ..errors import ZipserveError


class ZipserveCommand(BaseCommand):
    # Commands that need checks run them themselves (the server commands
    # include the deployment checks); the others describe or manage releases.
    requires_system_checks: Sequence[str] | Literal["__all__"] = []

    #: Actions (a command's first argument, e.g. ``config template``) that run
    #: with the configuration's defaults only, reading no file, variable or
    #: secret: they describe the project, or manage releases as an operator
    #: before the service's secrets exist. ``True`` means every action.
    runs_without_configuration: Literal[True] | frozenset[str] = frozenset()

    @classmethod
    def needs_configuration(cls, args):
        """Whether ``args`` (what follows the command name) needs the real
        configuration; the entry point asks before Django loads settings."""
        if cls.runs_without_configuration is True:
            return False
        action = next((arg for arg in args if not arg.startswith("-")), None)
        return action not in cls.runs_without_configuration

    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except ZipserveError as exc:
            raise CommandError(exc.report(), returncode=exc.exit_status) from exc
