"""What a running zipapp knows about itself: its build record and the
extraction it runs from.

The extractions on disk (listing them, their sizes as ``du`` counts them,
pruning old ones without touching one in use) are implemented once, in
``extractions``, a standard-library-only companion of the start-up module,
which answers ``zipapp info`` and ``zipapp prune`` with it before extracting
anything; they are re-exported here for the management command and for code
that runs inside the project, with the start-up module's ``version`` lines.
"""

import importlib
import importlib.metadata
import json
import sys
from pathlib import Path

from .boot import runtime_line, version_lines  # noqa: F401 - re-exported
from .extractions import (  # noqa: F401 - re-exported
    MIB,
    RECORD_NAME,
    SIZE_UNIT,
    Extraction,
    disk_usage,
    extractions,
    in_use,
    info_lines,
    prune,
    prune_lines,
    remove_unless_in_use,
)


def build_record():
    """The record written at build time, or None outside a built artifact."""
    for entry in sys.path:
        path = Path(entry) / RECORD_NAME
        if path.is_file():
            try:
                return json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return None
    return None


def current_extraction():
    """The extraction directory this process runs from, or None."""
    for entry in sys.path:
        path = Path(entry)
        if path.name == "site-packages" and (path / RECORD_NAME).is_file():
            return path.parent
    return None


def project_version(settings_module=None):
    """The project's version: the ``__version__`` of the nearest package
    around the settings module (``mysite.settings.production`` looks in
    ``mysite.settings``, then ``mysite``), else the version of the installed
    distribution that provides the top-level package; None when neither
    says."""
    if settings_module is None:
        from django.conf import settings

        settings_module = getattr(settings, "SETTINGS_MODULE", "")
    module = settings_module
    parts = (module or "").split(".")[:-1]
    for end in range(len(parts), 0, -1):
        try:
            version = getattr(importlib.import_module(".".join(parts[:end])), "__version__", None)
        except ImportError:
            continue
        if version:
            return str(version)
    if parts:
        for distribution in importlib.metadata.packages_distributions().get(parts[0], []):
            try:
                return importlib.metadata.version(distribution)
            except importlib.metadata.PackageNotFoundError:
                continue
    return None
