"""Releases on a server: ``<root>/releases/<version>-<build id>/<name>.pyz``
and a ``current`` link that the services run. The release folder ``<root>``
is ``/srv/<name>`` unless given.

The link is switched with ``rename(2)``, which replaces it in one step: at
every moment ``current`` exists and points to a complete release. A log of
activations (``<root>/history``) tells which release was current before, so
a rollback is one more switch.
"""

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import ZipserveError
from ..zipapp.boot import read_build_record

#: The folder that holds each site's release folder.
SITES_FOLDER = "/srv"


def default_root(name):
    """The release folder of the site ``name`` when none is given."""
    return f"{SITES_FOLDER}/{name}"


class ReleaseError(ZipserveError):
    pass


@dataclass
class Release:
    id: str
    path: Path
    installed: float
    current: bool
    record: dict


@dataclass
class Deployed:
    release_id: str
    previous: str | None
    removed: list


def read_record(artifact):
    """The build record inside an artifact, read without running it; None
    when it is not an artifact built by django-zipserve."""
    return read_build_record(str(artifact))


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class ReleaseStore:
    """The release folder of one site; ``root`` None means the default."""

    def __init__(self, root, name):
        self.root = Path(root or default_root(name))
        self.name = name
        self.releases = self.root / "releases"
        self.current_link = self.root / "current"
        self.history_file = self.root / "history"

    def artifact_of(self, release_id):
        return self.releases / release_id / f"{self.name}.pyz"

    @property
    def current_artifact(self):
        """The path the services run: whatever ``current`` points to."""
        return self.current_link / f"{self.name}.pyz"

    def deploy(self, artifact, record, keep, before_activating=None):
        """Install an artifact, make it current and keep the ``keep`` newest
        releases. ``record`` is its build record (None: not an artifact).
        ``before_activating(release_id)`` runs between installing and
        activating; when it raises, ``current`` does not move."""
        if record is None:
            raise ReleaseError(f"{artifact} is not an artifact built by django-zipserve (no build record)")
        try:
            release_id = self.install(artifact, record)
            if before_activating is not None:
                before_activating(release_id)
            previous = self.activate(release_id)
            return Deployed(release_id, previous, self.prune(keep))
        except OSError as exc:  # e.g. the release folder is not writable
            raise ReleaseError(f"cannot deploy {artifact} into {self.root}: {exc}") from None

    def stage(self, artifact, record, prepare=None):
        """Install an artifact and prepare it (``prepare(release_id)``)
        without moving ``current``: a rollout across hosts stages the new
        release everywhere before any host switches, so that a later deploy
        of the same artifact finds it ready, and every host holds the new
        release's files while some still serve the old one."""
        if record is None:
            raise ReleaseError(f"{artifact} is not an artifact built by django-zipserve (no build record)")
        try:
            release_id = self.install(artifact, record)
        except OSError as exc:
            raise ReleaseError(f"cannot stage {artifact} into {self.root}: {exc}") from None
        if prepare is not None:
            prepare(release_id)
        return release_id

    def install(self, artifact, record):
        """Copy an artifact into its release folder (once); return its id."""
        artifact = Path(artifact)
        if not artifact.is_file():
            raise ReleaseError(f"no artifact at {artifact}")
        expected = self._published_checksum(artifact)
        actual = sha256_of(artifact)
        if expected and expected != actual:
            raise ReleaseError(f"{artifact} does not match its .sha256 file: refusing to install it")
        release_id = f"{record.get('version', '0')}-{record.get('build_id') or actual[:16]}"
        folder = self.releases / release_id
        if (folder / f"{self.name}.pyz").is_file():
            return release_id
        staging = self.releases / f".{release_id}.tmp-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        shutil.copy2(artifact, staging / f"{self.name}.pyz")
        (staging / f"{self.name}.pyz").chmod(0o755)
        (staging / "release.json").write_text(
            json.dumps(dict(record, sha256=actual, installed=time.time()), indent=2, sort_keys=True) + "\n"
        )
        os.rename(staging, folder)
        return release_id

    @staticmethod
    def _published_checksum(artifact):
        checksum = artifact.with_name(artifact.name + ".sha256")
        if checksum.is_file():
            return checksum.read_text().split()[0]
        return None

    def current_id(self):
        try:
            return Path(os.readlink(self.current_link)).name
        except OSError:
            return None

    def activate(self, release_id):
        """Point ``current`` at a release in one rename; return the old id."""
        if not self.artifact_of(release_id).is_file():
            raise ReleaseError(f"no release {release_id} in {self.releases}")
        previous = self.current_id()
        self._point_current_at(release_id)
        with self.history_file.open("a") as history:
            history.write(f"{time.time():.3f} {release_id}\n")
        return previous

    def restore(self, release_id):
        """Undo the last activation: ``current`` back at ``release_id`` and
        the history as it was, so that a switch that failed leaves no entry
        a later rollback would follow to the release that failed."""
        try:
            self._point_current_at(release_id)
            entries = self.history_file.read_text().splitlines(keepends=True)
            self.history_file.write_text("".join(entries[:-1]))
        except OSError as exc:
            raise ReleaseError(f"cannot point {self.current_link} back at {release_id}: {exc}") from None

    def _point_current_at(self, release_id):
        temporary = self.root / f".current.tmp-{os.getpid()}"
        if temporary.is_symlink() or temporary.exists():
            temporary.unlink()
        os.symlink(Path("releases") / release_id, temporary)
        os.rename(temporary, self.current_link)

    def history(self):
        if not self.history_file.is_file():
            return []
        entries = [line.split() for line in self.history_file.read_text().splitlines()]
        return [entry[1] for entry in entries if len(entry) == 2]

    def previous_id(self):
        """The release that was current before the current one."""
        current = self.current_id()
        for release_id in reversed(self.history()):
            if release_id != current and self.artifact_of(release_id).is_file():
                return release_id
        return None

    def rollback(self, before_activating=None):
        """Make the previous release current again; return its id.
        ``before_activating(release_id)`` as for :meth:`deploy`."""
        previous = self.previous_id()
        if previous is None:
            raise ReleaseError("there is no previous release to roll back to")
        if before_activating is not None:
            before_activating(previous)
        try:
            self.activate(previous)
        except OSError as exc:
            raise ReleaseError(f"cannot roll back in {self.root}: {exc}") from None
        return previous

    def list(self):
        current = self.current_id()
        found: list[Release] = []
        if not self.releases.is_dir():
            return found
        for folder in self.releases.iterdir():
            if folder.name.startswith(".") or not (folder / f"{self.name}.pyz").is_file():
                continue
            try:
                record = json.loads((folder / "release.json").read_text())
            except (OSError, ValueError):
                record = {}
            found.append(
                Release(
                    folder.name,
                    folder,
                    record.get("installed", folder.stat().st_mtime),
                    folder.name == current,
                    record,
                )
            )
        return sorted(found, key=lambda release: release.installed, reverse=True)

    def prune(self, keep):
        """Remove all but the ``keep`` newest releases; never the current or
        the previous one (the rollback target)."""
        protected = {self.current_id(), self.previous_id()}
        removed = []
        for index, release in enumerate(self.list()):
            if index < keep or release.id in protected:
                continue
            shutil.rmtree(release.path)
            removed.append(release.id)
        return removed
