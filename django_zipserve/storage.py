"""Static files storage: WhiteNoise's hashed, compressed files, built once.

``collectstatic`` runs when the artifact is built and writes hashed names
(``site.3f2a1c.css``) with gzip copies into the package, so every release
serves immutable files that browsers may cache forever.

Running from a source tree, before anything was collected (the project's
own tests, ``runserver``), there is no manifest; Django's manifest storage
would then fail on every ``{% static %}`` tag. This storage falls back to
plain names in that one case; the server commands refuse to start without a
manifest (system check ``zipserve.E003``), so production never takes the
fallback.

While collecting, a file that refers to another one that is not among the
static files (a vendored script's ``//# sourceMappingURL=`` to a map that
was not shipped, a CSS ``url()`` to a missing image) stops ``collectstatic``
with :class:`MissingStaticReference`, which names both files and the ways
out, instead of Django's "could not be found with <storage object>".
"""

import fnmatch
import posixpath
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urldefrag

from django.conf import settings
from django.core.management.base import CommandError
from whitenoise.storage import CompressedManifestStaticFilesStorage

#: The Django setting listing static files (glob patterns, such as
#: ``"vendor/*"``) whose references to missing files stay as they are.
UNHASHED_REFERENCES_SETTING = "ZIPSERVE_UNHASHED_REFERENCES"


class MissingStaticReference(CommandError):
    """A static file refers to a file that is not among the static files."""

    def __init__(self, referrer: str, missing: str, matched: str) -> None:
        self.referrer, self.missing, self.matched = referrer, missing, matched
        reference = matched.strip()
        if "sourceMappingURL" in reference:
            how_to_remove = "delete its `//# sourceMappingURL=...` line"
        else:
            how_to_remove = f"delete or change `{reference[:120]}`"
        super().__init__(
            f"collectstatic: {referrer} refers to {missing}, which is not among the static files "
            f"(`{reference[:120]}`). Either:\n"
            f"  - add {missing} to the static files (the static directory that holds {referrer});\n"
            f"  - remove the reference from {referrer}: {how_to_remove};\n"
            f"  - or leave that reference unhashed, as it is: add {referrer!r} to "
            f"{UNHASHED_REFERENCES_SETTING} in settings.py (a list of glob patterns of static files "
            "whose references to missing files are kept), e.g. "
            f'{UNHASHED_REFERENCES_SETTING} = ["{referrer}"].'
        )


def keeps_unhashed(name: str) -> bool:
    patterns = getattr(settings, UNHASHED_REFERENCES_SETTING, None) or ()
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


class ZipserveStaticFilesStorage(CompressedManifestStaticFilesStorage):
    def manifest_exists(self) -> bool:
        return self.exists(self.manifest_name)

    def stored_name(self, name: str) -> str:
        if not self.hashed_files and not self.manifest_exists():
            return name
        return super().stored_name(name)

    def url_converter(
        self, name: str, hashed_files: Any, *args: Any, **kwargs: Any
    ) -> Callable[[re.Match], str]:
        """Django's converter, with a reference to a missing file reported
        as :class:`MissingStaticReference`, or kept as it is for the files
        listed in ``ZIPSERVE_UNHASHED_REFERENCES``. (Django 6.1 added an
        argument; the others are passed on as they come.)"""
        convert = super().url_converter(name, hashed_files, *args, **kwargs)
        referrer = name.replace("\\", "/")

        def converter(matchobj: re.Match) -> str:
            try:
                return convert(matchobj)
            except ValueError:
                missing = self.referenced_name(referrer, matchobj.groupdict().get("url") or "")
                if missing is None or self.exists(missing):
                    raise
                matched = matchobj.groupdict().get("matched") or matchobj.group(0)
                if keeps_unhashed(referrer):
                    return matched
                raise MissingStaticReference(referrer, missing, matched) from None

        return converter

    @staticmethod
    def referenced_name(referrer: str, url: str) -> str | None:
        """The static file name a URL in ``referrer`` points to, as Django's
        converter works it out; None when it points to no static file."""
        url_path = urldefrag(url)[0].partition("?")[0]
        if not url_path:
            return None
        static_url = settings.STATIC_URL or "/"
        if url_path.startswith("/"):
            if not url_path.startswith(static_url):
                return None
            target = url_path[len(static_url) :]
        else:
            target = posixpath.join(posixpath.dirname(referrer), url_path)
        return posixpath.normpath(unquote(target))
