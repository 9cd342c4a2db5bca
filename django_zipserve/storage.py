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
static files (a CSS ``url()`` to a missing image) stops ``collectstatic``
with :class:`MissingStaticReference`, which names every such reference of
the whole post-processing (each with both files) and the ways out once,
instead of Django's "could not be found with <storage object>" for the
first one. A ``//# sourceMappingURL=`` to a map that was not shipped (a
vendored, minified script: NetBox's graphiql) is kept as it is and said
in one line: only a browser's developer tools ask for source maps, and a
page works the same without them.
"""

import fnmatch
import posixpath
import re
import sys
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urldefrag

from django.conf import settings
from django.core.management.base import CommandError
from whitenoise.storage import CompressedManifestStaticFilesStorage

#: The Django setting listing static files (glob patterns, such as
#: ``"vendor/*"``) whose references to missing files stay as they are.
UNHASHED_REFERENCES_SETTING = "ZIPSERVE_UNHASHED_REFERENCES"


def how_to_remove(reference: str) -> str:
    return f"delete or change `{reference[:120]}`"


class MissingStaticReference(CommandError):
    """Static files refer to files that are not among the static files:
    every such reference of a ``collectstatic``, in one error."""

    def __init__(self, references: list[tuple[str, str, str]]) -> None:
        #: (referring file, missing file, the reference as written), in order.
        self.references = [(referrer, missing, matched.strip()) for referrer, missing, matched in references]
        referrers = list(dict.fromkeys(referrer for referrer, _, _ in self.references))
        unhashed = ", ".join(f'"{referrer}"' for referrer in referrers)
        ways_out = (
            f"  - or leave those references unhashed, as they are: add the referring files to "
            f"{UNHASHED_REFERENCES_SETTING} in {settings_module()} (a list of glob patterns of static files "
            f"whose references to missing files are kept), e.g. {UNHASHED_REFERENCES_SETTING} = [{unhashed}]."
        )
        if len(self.references) == 1:
            referrer, missing, reference = self.references[0]
            message = (
                f"collectstatic: {referrer} refers to {missing}, which is not among the static files "
                f"(`{reference[:120]}`). Either:\n"
                f"  - add {missing} to the static files (the static directory that holds {referrer});\n"
                f"  - remove the reference from {referrer}: {how_to_remove(reference)};\n" + ways_out
            )
        else:
            lines = [
                f"collectstatic: {len(self.references)} references to files that are not among the "
                "static files (referring file -> missing file):"
            ]
            for referrer, missing, reference in self.references:
                lines.append(f"  {referrer} -> {missing} (`{reference[:120]}`)")
            lines += [
                "Either, for each of them:",
                "  - add the missing file to the static files (the static directory that holds the "
                "referring file);",
                "  - remove the reference from the referring file (a `url(...)` or an import: delete or "
                "change it);",
                ways_out,
            ]
            message = "\n".join(lines)
        super().__init__(message)


def settings_module() -> str:
    """The settings module the collecting process runs with, where the setting goes."""
    return getattr(settings, "SETTINGS_MODULE", None) or "the settings"


def is_source_map(reference: str) -> bool:
    return "sourceMappingURL" in reference


def keeps_unhashed(name: str) -> bool:
    patterns = getattr(settings, UNHASHED_REFERENCES_SETTING, None) or ()
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


class ZipserveStaticFilesStorage(CompressedManifestStaticFilesStorage):
    #: (referring file, missing file) -> the reference as written, of the
    #: ``collectstatic`` under way: reported all at once when it ends.
    missing_references: dict[tuple[str, str], str]
    #: The same for source maps, which are kept as they are and said.
    missing_source_maps: dict[tuple[str, str], str]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.missing_references = {}
        self.missing_source_maps = {}

    def post_process(self, *args: Any, **kwargs: Any) -> Any:
        self.missing_references = {}
        self.missing_source_maps = {}
        yield from super().post_process(*args, **kwargs)
        self.report_missing_references()  # with --dry-run, no manifest is saved
        self.report_missing_source_maps()

    def report_missing_source_maps(self) -> None:
        found, self.missing_source_maps = self.missing_source_maps, {}
        if found:
            pairs = ", ".join(f"{referrer} -> {missing}" for referrer, missing in found)
            sys.stderr.write(
                f"collectstatic: kept {len(found)} source map reference(s) as written, their maps are not "
                f"among the static files ({pairs}): only browsers' developer tools ask for them\n"
            )

    def save_manifest(self) -> None:
        self.report_missing_references()  # before a manifest that would hide them is written
        super().save_manifest()

    def report_missing_references(self) -> None:
        found = getattr(self, "missing_references", None)
        if found:
            self.missing_references = {}
            raise MissingStaticReference([(*key, matched) for key, matched in found.items()])

    def manifest_exists(self) -> bool:
        return self.exists(self.manifest_name)

    def stored_name(self, name: str) -> str:
        if not self.hashed_files and not self.manifest_exists():
            return name
        return super().stored_name(name)

    def url_converter(
        self, name: str, hashed_files: Any, *args: Any, **kwargs: Any
    ) -> Callable[[re.Match], str]:
        """Django's converter, with a reference to a missing file kept as
        it is and reported when post-processing ends (as
        :class:`MissingStaticReference`), or kept for good for the files
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
                # Reported when post-processing ends, with every other one.
                found = self.missing_source_maps if is_source_map(matched) else self.missing_references
                found.setdefault((referrer, missing), matched)
                return matched

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
