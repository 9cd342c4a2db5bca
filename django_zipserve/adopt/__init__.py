"""``python -m django_zipserve init``: adopt an existing Django project.

Run in a project's directory, it reads the project without importing it
(its dependencies may not be installed) and writes what makes it serve
itself from one zipapp: an entry point, production settings that load the
configuration around the project's own settings, a URLconf that puts the
health view first, and the packaging in ``pyproject.toml``.

One concern per module:

- ``source``: static reading of the settings modules (``ast``): the modules
  they run and their assignments, with ``environment`` (the environment
  variables they read), ``paths`` (the directories they point to) and
  ``syntax`` (what the three share);
- ``detect``: the project's layout, as a frozen :class:`~.detect.Layout`;
- ``templates``: the text of the Python files init writes;
- ``plan``: the files to create, with ``variables`` (which variables the
  settings read become configuration fields, and their stand-ins),
  ``pyproject`` (the ``pyproject.toml`` merge) and ``review`` (what a human
  must review);
- ``change``: one file of the plan, as a :class:`~.change.Change`;
- ``write``: print the plan, with diffs on a dry run, or apply it;
- ``cli``: the command line.
"""

from ..errors import ZipserveError


class AdoptError(ZipserveError):
    """The project cannot be adopted as it is; the message says why and what to do."""

    exit_status = 2
