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
"""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class ZipserveStaticFilesStorage(CompressedManifestStaticFilesStorage):
    def manifest_exists(self) -> bool:
        return self.exists(self.manifest_name)

    def stored_name(self, name: str) -> str:
        if not self.hashed_files and not self.manifest_exists():
            return name
        return super().stored_name(name)
