"""Sphinx configuration of the documentation site (``make docs``).

The guides are reStructuredText; the reference pages in ``reference/`` are
Markdown generated from the code by ``reference.py`` (read with MyST). The
examples of generated output are produced by the code when the site is
built (``examples.py``, the ``generated`` directive).
"""

import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from django_zipserve import __version__  # noqa: E402

project = "django-zipserve"
author = "the django-zipserve authors"
copyright = "the django-zipserve authors"
release = version = __version__

extensions = ["myst_parser", "examples"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
# Text the pages include, not pages of their own.
exclude_patterns = ["_build", "includes"]

# Every cross-reference must resolve: a broken one is an error of `make docs`.
nitpicky = True
# An anchor for each heading of the Markdown reference, for links into it.
myst_heading_anchors = 2

# Options such as --force stay as written, not turned into dashes.
smartquotes = False

html_theme = "furo"
html_title = f"django-zipserve {release}"

# The link check covers the links between the pages and into their
# sections; links to other sites are not checked (the build may have no
# network, and their availability is not ours to test).
linkcheck_ignore = [re.compile(r"^https?://")]
linkcheck_anchors = True
