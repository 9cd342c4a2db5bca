"""The one error hierarchy of django-zipserve.

Every failure an operator has to act on (bad configuration, a failed build,
a release that cannot be installed, a blue/green switch or a warm-up that
failed) is a :class:`ZipserveError` whose message is the whole report: no
traceback is needed to understand it. Management commands turn these into
Django's ``CommandError`` in one place (``management.base``); the build's own
command line prints them the same way.

This module is a leaf: it imports nothing, so every layer may use it.
"""


class ZipserveError(Exception):
    """A failure with a complete, operator-readable message."""

    #: Exit status of a process stopped by this error.
    exit_status = 1

    def report(self) -> str:
        return str(self)
