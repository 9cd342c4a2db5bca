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
- **Shared trees**: most of a release is its dependencies, unchanged from
  the release before. The build lists the top-level entries of
  site-packages that only the project's dependencies installed
  (``"shared"`` in the manifest); together they make one tree, stored once
  under ``trees/<digest of their files>/``, and a release's
  site-packages holds a symbolic link to each entry there instead of a
  directory per folder and a link per file: a release whose dependencies
  did not change makes a few dozen links, not thousands. One tree holds
  them all because a path that climbs out of a package with ``..`` is
  resolved where the link points: numpy finds ``numpy.libs`` beside it,
  torch the ``nvidia`` packages. The project's own entries, and what the
  build wrote (collected static files, the build record), stay real
  directories of each release, where ``Path(__file__).resolve()`` finds
  them.
- **Per extraction**: the in-use lock file is never shared (a lock is held
  on the file itself: two extractions sharing it would lock each other).
- **Pruning**: removing an extraction removes its links; :func:`collect`
  then removes the trees no extraction links to, and the stored files
  nothing links to any more (a link count of one), under an exclusive lock
  that every extraction in progress holds shared.
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

#: The directory of the store, under the extraction root. Its leading dot
#: keeps it out of the listing of extractions.
STORE_NAME = ".zipserve-store"
#: The file every extraction in progress holds shared, and ``collect`` exclusively.
STORE_LOCK = ".lock"
#: The stored files the last extraction found sound, each with what would
#: change if its content did: ``{name: [inode, size, mtime_ns]}``. Hashing
#: every linked file again is most of what a new release's extraction costs.
VERIFIED_NAME = ".verified"
#: The folder of the shared trees, beside the folders of stored files.
TREES = "trees"
#: The store's own entries, beside the folders of stored files.
STORE_RECORDS = (STORE_LOCK, VERIFIED_NAME, TREES)
#: The record of every file of site-packages in the archive: written by the
#: build, read only when an extraction is made.
MANIFEST_MEMBER = "zipserve_files.json"
SITE_PACKAGES = "site-packages/"
#: The permission bits that allow writing: a stored file has none.
WRITE_BITS = 0o222
CHUNK = 1 << 20


# The manifest (written by the build) ------------------------------------------


def manifest(entries, epoch, shared=()):
    """The manifest's text for ``entries``: ``(member, data, mode)`` of each
    file under site-packages, ``member`` its name in the archive;
    ``shared``, the top-level entries of site-packages that make the
    shared tree."""
    files = [
        [member[len(SITE_PACKAGES) :], hashlib.sha256(data).hexdigest(), stored_mode(mode)]
        for member, data, mode in entries
        if member.startswith(SITE_PACKAGES) and not member.endswith("/")
    ]
    files.sort()
    found = {"epoch": epoch, "files": files}
    if shared:
        found["shared"] = sorted(shared)
        found["tree"] = tree_name(split_shared(files, frozenset(shared))[0])
    return json.dumps(found, separators=(",", ":"))


def stored_mode(mode):
    """A file's mode in the store: its own, without the write bits."""
    return (mode & 0o777 or 0o644) & ~WRITE_BITS


def parse_manifest(data):
    """``(epoch, files, shared, tree)`` from the manifest's bytes: ``tree``
    is the shared tree's name (:func:`tree_name`, computed by the build),
    None when nothing is shared."""
    found = json.loads(data.decode("utf-8"))
    files = [tuple(entry) for entry in found["files"]]
    return found.get("epoch"), files, frozenset(found.get("shared", ())), found.get("tree")


def split_shared(files, shared):
    """``(in the shared tree, the release's own)``: the files by their top-level entry."""
    common: list[tuple] = []
    own: list[tuple] = []
    for entry in files:
        (common if entry[0].partition("/")[0] in shared else own).append(entry)
    return common, own


def tree_name(files):
    """The shared tree's folder name: the digest of its files' names,
    contents and modes, ``[member, digest, mode]`` sorted by member."""
    return hashlib.sha256(json.dumps(sorted(files), separators=(",", ":")).encode("utf-8")).hexdigest()


# The store ------------------------------------------------------------------


def store_path(root):
    return os.path.join(str(root), STORE_NAME)


def stored_file(store, digest, mode):
    return f"{store}/{stored_name(digest, mode)}"


def stored_name(digest, mode):
    return f"{digest[:2]}/{digest[2:]}-{mode:o}"


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
    from the archive at ``archive_path``; ``read`` gives the bytes of one
    of its members (by default through a zipimporter of its own)."""

    def __init__(self, root, archive_path, epoch, read=None):
        self.path = store_path(root)
        self.archive_path = archive_path
        self.read = read or self.read_member
        self.epoch = epoch
        self.copied = 0  # files copied where a hard link could not be made
        self.replaced = []  # stored files that no longer matched their hash
        self.folders = set()  # the store's folders known to exist
        self.verified = read_verified(self.path)  # as the last extraction left it
        self.sound = {}  # what this extraction found sound, for the next one
        self._importer = None

    def read_member(self, member):
        """The member's bytes, its archive's directory read once."""
        if self._importer is None:
            import zipimport

            self._importer = zipimport.zipimporter(os.fspath(self.archive_path))
        return self._importer.get_data(member)

    def provide_all(self, files):
        """``{(digest, mode): stored path}`` for the files, each checked or
        stored once. One at a time: most files are small, and threads that
        hash them wait on each other longer than they work; on a first
        start, eight threads storing side by side were no faster than one
        (the file system's creation of each file is what takes the time)."""
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
        self.sound[stored_name(digest, mode)] = identity(found)
        return path

    def share(self, name, files):
        """The folder of the shared tree ``name`` of ``files``: found and
        checked, or made of links to the stored files (in a folder of this
        process's, renamed into place in one step: another process making
        the same tree at the same moment keeps its own, and this one is
        checked like any found)."""
        path = os.path.join(self.path, TREES, name)
        if os.path.isdir(path):
            self.check_tree(path, files)
            return path
        partial = f"{path}.{os.getpid()}.partial"
        remove_tree(partial)
        stored = self.provide_all(files)
        make_tree(self, files, stored, partial)
        try:
            os.rename(partial, path)
        except OSError as exc:
            if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
            remove_tree(partial)
            self.check_tree(path, files)
        return path

    def check_tree(self, tree, files):
        """Check a shared tree's files as the stored files are checked
        (:meth:`found_sound`): one whose content no longer matches is
        replaced by a link to a sound stored copy, in the tree itself, so
        that every release linking to the tree has it again."""
        verified, sound = self.verified, self.sound
        doubtful: list[tuple] = []
        # Tens of thousands of files on a big site: one look at each, and
        # as little else as can be, is what a new release costs here.
        for member, digest, mode in files:
            path = f"{tree}/{member}"
            name = stored_name(digest, mode)
            try:
                found = os.lstat(path)
            except FileNotFoundError:
                doubtful.append((path, member, digest, mode, None))
                continue
            known = identity(found)
            if verified.get(name) == known:
                sound[name] = known
            else:
                doubtful.append((path, member, digest, mode, found))
        for path, member, digest, mode, found in doubtful:
            if found is not None and stat.S_ISREG(found.st_mode) and file_digest(path) == digest:
                sound[stored_name(digest, mode)] = identity(found)
            else:
                self.mend_tree(path, member, digest, mode, found)

    def mend_tree(self, path, member, digest, mode, found):
        """Put a sound stored copy in the place of the tree's file at ``path``."""
        stored = stored_file(self.path, digest, mode)
        try:
            same_file = found is not None and os.lstat(stored).st_ino == found.st_ino
        except FileNotFoundError:
            same_file = False
        if not same_file:  # else provide() replaces it, and says so
            self.replaced.append(path)
        stored = self.provide(member, digest, mode)
        folder = os.path.dirname(path)
        os.chmod(folder, 0o755)
        try:
            partial = f"{path}.{os.getpid()}.partial"
            self.place(stored, partial)
            os.replace(partial, path)
        finally:
            os.chmod(folder, 0o555)

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
        a file missing from it is only hashed again. Nothing is written
        when the record already says all of it (a release whose files were
        all found as they were left)."""
        verified = self.verified
        if all(verified.get(name) == found for name, found in self.sound.items()):
            return
        partial = f"{os.path.join(self.path, VERIFIED_NAME)}.{os.getpid()}.partial"
        try:
            with open(partial, "w", encoding="utf-8") as stream:
                stream.write(json.dumps(self.sound, separators=(",", ":")))
            os.replace(partial, os.path.join(self.path, VERIFIED_NAME))
        except OSError:
            pass  # the next extraction hashes again

    def store(self, member, digest, mode, path):
        """Write the member into the store under ``path``: checked against
        its hash, into a file of this process's, then renamed into place in
        one step (another process storing the same content at the same
        moment renames the same bytes)."""
        data = self.read(SITE_PACKAGES + member)
        if hashlib.sha256(data).hexdigest() != digest:
            raise OSError(errno.EIO, f"{member} in the archive does not match the hash the build recorded")
        folder = os.path.dirname(path)
        if folder not in self.folders:
            os.makedirs(folder, exist_ok=True)
            self.folders.add(folder)
        partial = f"{path}.{os.getpid()}.partial"
        # Created with its final mode: writing through this descriptor is allowed all the same.
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, mode)
        with os.fdopen(descriptor, "wb") as target:
            target.write(data)
            target.flush()
            if self.epoch:
                os.utime(target.fileno(), (self.epoch, self.epoch))
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


def extract(archive_path, manifest, root, extraction_name, lock_name, epoch, read=None):
    """Make ``<root>/<extraction_name>/site-packages`` from the archive, of
    links to the store; ``manifest`` is the bytes of its
    :data:`MANIFEST_MEMBER`, ``read`` what reads its members (see
    :class:`Store`).

    One process makes it: the others wait on the extraction's lock (the
    same file shiv's own extraction locks) and find it made. It is built
    in a directory of its own, read-only like every extraction (the lock
    file last, with the build's time: a start then does nothing more to
    it), and renamed into place in one step, while the store's lock is
    still held: :func:`collect` sees its links to a shared tree."""
    recorded_epoch, files, shared, shared_tree = parse_manifest(manifest)
    epoch = epoch or recorded_epoch
    root = str(root)
    os.makedirs(root, exist_ok=True)
    target = os.path.join(root, extraction_name)
    held = lock(os.path.join(root, f".{extraction_name}_lock"), exclusive=True)
    store = Store(root, archive_path, epoch, read)
    try:
        if os.path.isdir(os.path.join(target, "site-packages")):
            return store  # another process made it meanwhile
        building = os.path.join(root, f".{extraction_name}.extracting")
        remove_tree(building)  # left by a process that died while making it
        os.makedirs(store_path(root), exist_ok=True)
        store_lock = lock(os.path.join(store_path(root), STORE_LOCK), exclusive=False)
        try:
            files = [entry for entry in files if entry[0] != lock_name]
            common, own = split_shared(files, shared)
            tree = store.share(shared_tree, common) if common else None
            site_packages = os.path.join(building, "site-packages")
            make_tree(store, own, store.provide_all(own), site_packages, writable=True)
            if tree is not None:
                link_shared(tree, common, site_packages)
            finish(site_packages, lock_name, epoch)
            store.record_sound()
            os.rename(building, target)
        finally:
            os.close(store_lock)
    finally:
        os.close(held)
    report(store)
    return store


def make_tree(store, files, stored, folder, writable=False):
    """``folder`` made of the files: their directories, and a link (or a
    copy) of each stored file; its directories read-only, unless
    ``writable`` (the caller has more to put in)."""
    directories = {folder}
    for member, _, _ in files:
        parent = member.rpartition("/")[0]
        while parent and f"{folder}/{parent}" not in directories:
            directories.add(f"{folder}/{parent}")
            parent = parent.rpartition("/")[0]
    os.makedirs(folder)
    for directory in sorted(directories):  # a parent sorts before its children
        if directory != folder:
            os.mkdir(directory)
    for member, digest, mode in files:
        store.place(stored[digest, mode], f"{folder}/{member}")
    for directory in directories:
        if not (writable and directory == folder):
            os.chmod(directory, 0o555)


def link_shared(tree, files, site_packages):
    """A relative symbolic link in site-packages to each entry of the
    shared tree: it stays right wherever the extraction root is seen from
    (a service's sandbox mounts it elsewhere)."""
    relative = os.path.relpath(tree, site_packages)
    for name in sorted({member.partition("/")[0] for member, _, _ in files}):
        os.symlink(f"{relative}/{name}", f"{site_packages}/{name}")


def finish(site_packages, lock_name, epoch):
    """The extraction's own lock file, then every directory read-only."""
    lock_file = os.path.join(site_packages, lock_name)
    with open(lock_file, "wb"):
        pass
    for directory in (site_packages, os.path.dirname(site_packages)):
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


def collect(root):
    """Remove the shared trees no extraction links to, then the stored
    files nothing links to any more (their only link is the store's own);
    ``(files, bytes)`` of those removed. An extraction in progress holds
    the store's lock shared, so this waits for it: a file or a tree it is
    about to link is never taken away."""
    store = store_path(root)
    if not os.path.isdir(store):
        return 0, 0
    held = lock(os.path.join(store, STORE_LOCK), exclusive=True)
    try:
        for tree in unused_trees(root):
            remove_tree(tree)
        return remove_unlinked(store)
    finally:
        os.close(held)


def unused_trees(root):
    """The shared trees (and unfinished ones) no extraction under ``root``
    links to; extractions being made or removed count."""
    trees = os.path.join(store_path(root), TREES)
    if not os.path.isdir(trees):
        return []
    linked = set()
    for entry in os.listdir(root):
        site_packages = os.path.join(root, entry, "site-packages")
        if entry != STORE_NAME and os.path.isdir(site_packages):
            linked |= linked_trees(site_packages)
    return [os.path.join(trees, name) for name in sorted(os.listdir(trees)) if name not in linked]


def linked_trees(site_packages):
    """The names of the shared trees an extraction's entries link to."""
    found = set()
    for name in os.listdir(site_packages):
        path = os.path.join(site_packages, name)
        if os.path.islink(path):
            target = os.path.normpath(os.path.join(site_packages, os.readlink(path)))
            found.add(os.path.basename(os.path.dirname(target)))
    return found


def remove_unlinked(store):
    """Remove the stored files with no link but the store's own; ``(files, bytes)``."""
    removed = freed = 0
    for directory, folders, names in os.walk(store):
        if directory == store:
            folders[:] = [folder for folder in folders if folder != TREES]
        for name in names:
            if directory == store and name in STORE_RECORDS:
                continue
            path = os.path.join(directory, name)
            found = os.lstat(path)
            if found.st_nlink == 1 or name.endswith(".partial"):
                removed += 1
                freed += found.st_blocks * 512
                os.unlink(path)
    return removed, freed
