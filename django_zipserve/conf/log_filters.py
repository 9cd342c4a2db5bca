"""Logging filters that a merged ``LOGGING`` names by dotted path."""

import logging


class NotYetOnConsole(logging.Filter):
    """Lets through the records of every logger but ``names`` and their
    children: those wrote to a console of the project's own on their way up
    to the root logger, and a second line would be the same record."""

    def __init__(self, names=()):
        super().__init__()
        self.names = tuple(names)

    def filter(self, record):
        return not any(record.name == name or record.name.startswith(name + ".") for name in self.names)
