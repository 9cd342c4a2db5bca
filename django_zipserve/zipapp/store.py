"""The content-addressed store the extractions are made of.

Standard library only: the build ships it at the root of the archive as
``_zipserve_store``, beside the start-up module that imports it.

Between two releases of a site almost every extracted file is
byte-identical: the same Django, the same libraries, most of the project.
So each file is stored once, under the extraction root, by the SHA-256 of
its content (and its mode): ``<root>/.zipserve-store/ab/cdef…-444``. A
release's extraction is a tree of hard links to those files, and a new
release writes only the files that changed. The build records every file's
hash in the archive (:data:`MANIFEST_MEMBER`), so a file already stored is
not even decompressed.

- **Corruption**: a stored file is hashed again before a new extraction
  links to it, unless it is the very file last found sound (the same
  inode, size and modification time, in :data:`VERIFIED_NAME`): a write
  gives a file a new modification time, and an edit that replaces it a new
  inode. One whose content no longer matches its name is replaced from the
  archive (and said on stderr), never linked.
- **Times**: a stored file keeps the modification time it was stored with
  (the build time of the release that first brought it). Hard links share
  it, so an unchanged file has the same ``ETag`` and ``Last-Modified`` in
  every release; a changed file is a new stored file with the new release's
  time.
- **Per extraction**: the in-use lock file is never shared (a lock is held
  on the file itself: two extractions sharing it would lock each other).
- **Pruning**: removing an extraction removes its links; :func:`collect`
  then removes the stored files no extraction links to any more (a link
  count of one), under an exclusive lock that every extraction in progress
  holds shared.
- **Where hard links cannot be made** (a file system without them, the
  store on another device, a file at the file system's limit of links),
  the file is copied from the store instead, with the same mode and time.
"""

import errno
import hashlib
import json
import os
import shutil
import stat
import sys
import zipfile

#: The directory of the store, under the extraction root. Its leading dot
#: keeps it out of the listing of extractions.
STORE_NAME = ".zipserve-store"
#: The file every extraction in progress holds shared, and ``collect`` exclusively.
STORE_LOCK = ".lock"
#: The stored files the last extraction found sound, each with what would
#: change if its content did: ``{name: [inode, size, mtime_ns]}``. Hashing
#: every linked file again is most of what a new release's extraction costs.
VERIFIED_NAME = ".verified"
#: The store's own files, beside the folders of stored files.
STORE_RECORDS = (STORE_LOCK, VERIFIED_NAME)
#: The record of every file of site-packages in the archive: written by the
#: build, read only when an extraction is made.
MANIFEST_MEMBER = "zipserve_files.json"
SITE_PACKAGES = "site-packages/"
#: The permission bits that allow writing: a stored file has none.
WRITE_BITS = 0o222
CHUNK = 1 << 20


# The manifest (written by the build) ------------------------------------------


def manifest(entries, epoch):
    """The manifest's text for ``entries``: ``(member, data, mode)`` of each
    file under site-packages, ``member`` its name in the archive."""
    files = [
        [member[len(SITE_PACKAGES) :], hashlib.sha256(data).hexdigest(), stored_mode(mode)]
        for member, data, mode in entries
        if member.startswith(SITE_PACKAGES) and not member.endswith("/")
    ]
    return json.dumps({"epoch": epoch, "files": sorted(files)}, separators=(",", ":"))


def stored_mode(mode):
    """A file's mode in the store: its own, without the write bits."""
    return (mode & 0o777 or 0o644) & ~WRITE_BITS


def parse_manifest(data):
    """``(epoch, files)`` from the manifest's bytes."""
    found = json.loads(data.decode("utf-8"))
    return found.get("epoch"), [tuple(entry) for entry in found["files"]]


# The store ------------------------------------------------------------------


def store_path(root):
    return os.path.join(str(root), STORE_NAME)


def stored_file(store, digest, mode):
    return f"{store}/{digest[:2]}/{digest[2:]}-{mode:o}"


def file_digest(path):
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def identity(found):
    """What of a file's ``lstat`` changes when its content is changed."""
    return [found.st_ino, found.st_size, found.st_mtime_ns]


def read_verified(store):
    try:
        with open(os.path.join(store, VERIFIED_NAME), encoding="utf-8") as stream:
            found = json.load(stream)
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def lock(path, exclusive):
    """A descriptor holding ``path`` locked, for the caller to close."""
    import fcntl

    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    fcntl.flock(descriptor, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
    return descriptor


class Store:
    """The store under one extraction root, while one extraction is made
    from the archive at ``archive_path``."""

    def __init__(self, root, archive_path, epoch):
        self.path = store_path(root)
        self.archive_path = archive_path
        self.epoch = epoch
        self.copied = 0  # files copied where a hard link could not be made
        self.replaced = []  # stored files that no longer matched their hash
        self.folders = set()  # the store's folders known to exist
        self.verified = read_verified(self.path)  # as the last extraction left it
        self.sound = {}  # what this extraction found sound, for the next one
        self._archive = None

    @property
    def archive(self):
        """The archive, opened the first time a file has to be stored: a
        release whose files are all stored never reads its directory."""
        if self._archive is None:
            self._archive = zipfile.ZipFile(self.archive_path)
        return self._archive

    def close(self):
        if self._archive is not None:
            self._archive.close()

    def provide_all(self, files):
        """``{(digest, mode): stored path}`` for the files, each checked or
        stored once. One at a time: most files are small, and threads
        that hash them wait on each other longer than they work."""
        unique = {(digest, mode): member for member, digest, mode in files}
        return {key: self.provide(member, *key) for key, member in unique.items()}

    def provide(self, member, digest, mode):
        """The path of the stored file with this content and mode, stored
        from the archive's ``member`` unless it is there and sound."""
        path = stored_file(self.path, digest, mode)
        found = self.found_sound(path, digest)
        if found is None:
            self.store(member, digest, mode, path)
            found = os.lstat(path)
        self.sound[path[len(self.path) + 1 :]] = identity(found)
        return path

    def found_sound(self, path, digest):
        """The stored file's ``lstat`` when it holds the content ``digest``
        names, else None (missing, not a plain file, or changed)."""
        try:
            found = os.lstat(path)
        except FileNotFoundError:
            return None
        if not stat.S_ISREG(found.st_mode):
            return None
        if self.verified.get(path[len(self.path) + 1 :]) == identity(found):
            return found
        if file_digest(path) == digest:
            return found
        self.replaced.append(path)
        return None

    def record_sound(self):
        """Leave what this extraction found sound for the next one: a new
        file in one step, so a reader never sees half of it. Extractions
        that finish together each write their own; the last one stays, and
        a file missing from it is only hashed again."""
        partial = f"{os.path.join(self.path, VERIFIED_NAME)}.{os.getpid()}.partial"
        try:
            with open(partial, "w", encoding="utf-8") as stream:
                stream.write(json.dumps(self.sound, separators=(",", ":")))
            os.replace(partial, os.path.join(self.path, VERIFIED_NAME))
        except OSError:
            pass  # the next extraction hashes again

    def store(self, member, digest, mode, path):
        """Write the member into the store under ``path``: into a file of
        this process's, hashed on the way, then renamed into place in one
        step (another process storing the same content at the same moment
        renames the same bytes)."""
        folder = os.path.dirname(path)
        if folder not in self.folders:
            os.makedirs(folder, exist_ok=True)
            self.folders.add(folder)
        partial = f"{path}.{os.getpid()}.partial"
        found = hashlib.sha256()
        # Created with its final mode: writing through this descriptor is allowed all the same.
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, mode)
        with self.archive.open(SITE_PACKAGES + member) as source, os.fdopen(descriptor, "wb") as target:
            for chunk in iter(lambda: source.read(CHUNK), b""):
                found.update(chunk)
                target.write(chunk)
            target.flush()
            if self.epoch:
                os.utime(target.fileno(), (self.epoch, self.epoch))
        if found.hexdigest() != digest:
            os.unlink(partial)
            raise OSError(errno.EIO, f"{member} in the archive does not match the hash the build recorded")
        os.replace(partial, path)

    def place(self, stored, target):
        """Put the stored file at ``target``: a hard link, else a copy."""
        try:
            os.link(stored, target)
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EACCES):
                raise
            shutil.copyfile(stored, target)
            os.chmod(target, os.stat(stored).st_mode & 0o777)
            found = os.stat(stored)
            os.utime(target, ns=(found.st_atime_ns, found.st_mtime_ns))
            self.copied += 1


def extract(archive_path, manifest, root, extraction_name, lock_name, epoch):
    """Make ``<root>/<extraction_name>/site-packages`` from the archive, of
    links to the store; ``manifest`` is the bytes of its
    :data:`MANIFEST_MEMBER`.

    One process makes it: the others wait on the extraction's lock (the
    same file shiv's own extraction locks) and find it made. It is built
    in a directory of its own, read-only like every extraction (the lock
    file last, with the build's time: a start then does nothing more to
    it), and renamed into place in one step."""
    recorded_epoch, files = parse_manifest(manifest)
    epoch = epoch or recorded_epoch
    root = str(root)
    os.makedirs(root, exist_ok=True)
    target = os.path.join(root, extraction_name)
    held = lock(os.path.join(root, f".{extraction_name}_lock"), exclusive=True)
    store = Store(root, archive_path, epoch)
    try:
        if os.path.isdir(os.path.join(target, "site-packages")):
            return store  # another process made it meanwhile
        building = os.path.join(root, f".{extraction_name}.extracting")
        remove_tree(building)  # left by a process that died while making it
        os.makedirs(store_path(root), exist_ok=True)
        shared = lock(os.path.join(store_path(root), STORE_LOCK), exclusive=False)
        try:
            files = [entry for entry in files if entry[0] != lock_name]
            stored = store.provide_all(files)
            link_tree(store, files, stored, os.path.join(building, "site-packages"), lock_name, epoch)
            store.record_sound()
        finally:
            os.close(shared)
        os.rename(building, target)
    finally:
        store.close()
        os.close(held)
    report(store)
    return store


def link_tree(store, files, stored, site_packages, lock_name, epoch):
    """The extraction's tree: its directories, a link (or a copy) of each
    stored file, all read-only, and its own lock file last."""
    directories = {site_packages}
    for member, _, _ in files:
        folder = member.rpartition("/")[0]
        while folder and f"{site_packages}/{folder}" not in directories:
            directories.add(f"{site_packages}/{folder}")
            folder = folder.rpartition("/")[0]
    os.makedirs(site_packages)
    for directory in sorted(directories):  # a parent sorts before its children
        if directory != site_packages:
            os.mkdir(directory)
    for member, digest, mode in files:
        store.place(stored[digest, mode], f"{site_packages}/{member}")
    lock_file = os.path.join(site_packages, lock_name)
    with open(lock_file, "wb"):
        pass
    for directory in [os.path.dirname(site_packages), *directories]:
        os.chmod(directory, 0o555)
    os.chmod(lock_file, 0o444)
    if epoch:
        os.utime(lock_file, (epoch, epoch))


def report(store):
    name = os.path.basename(sys.argv[0] or "artifact")
    for path in store.replaced:
        sys.stderr.write(
            f"{name}: the stored file {path} no longer matched its content hash; "
            "it was replaced from the artifact\n"
        )
    if store.copied:
        # Said, because the extraction then takes its full size on disk again.
        sys.stderr.write(
            f"{name}: {store.copied} files were copied from {store.path}, not linked: this file system "
            "refused hard links there\n"
        )


def remove_tree(path):
    """Remove a directory tree whose directories may be read-only."""
    if not os.path.lexists(path):
        return
    for directory, _, _ in os.walk(path):
        try:
            os.chmod(directory, 0o755)
        except OSError:
            continue
    shutil.rmtree(path, ignore_errors=True)


# Collecting what no extraction uses ----------------------------------------


def collect(root, dry_run=False):
    """Remove the stored files that no extraction links to any more (their
    only link is the store's own); ``(files, bytes)`` removed. An
    extraction in progress holds the store's lock shared, so this waits
    for it: a file it is about to link is never taken away."""
    store = store_path(root)
    if not os.path.isdir(store):
        return 0, 0
    held = lock(os.path.join(store, STORE_LOCK), exclusive=True)
    removed = freed = 0
    try:
        for directory, _, names in os.walk(store):
            for name in names:
                path = os.path.join(directory, name)
                if directory == store and name in STORE_RECORDS:
                    continue
                found = os.lstat(path)
                unused = found.st_nlink == 1 or name.endswith(".partial")
                if unused:
                    removed += 1
                    freed += found.st_blocks * 512
                    if not dry_run:
                        os.unlink(path)
    finally:
        os.close(held)
    return removed, freed
