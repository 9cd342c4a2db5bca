"""The installed tree of a build (``site-packages``, or the test sidecar's):
its distributions and their sizes, and making it depend on nothing but its
inputs (timestamps, modes, build paths), digesting and zipping it so that
two builds of the same source are bit-for-bit identical."""

import csv
import hashlib
import json
import os
import re
import shutil
import stat
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path


def canonical_name(name):
    """A distribution name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class Distribution:
    name: str
    version: str
    info: Path  # its .dist-info directory
    files: list = field(default_factory=list)  # paths relative to the tree, as RECORD lists them

    @property
    def key(self):
        return canonical_name(self.name)

    def size(self, tree):
        """Bytes of its files (as they are in the tree)."""
        total = 0
        for relative in self.files:
            path = tree / relative
            if path.is_file() and not path.is_symlink():
                total += path.stat().st_size
        return total


def metadata_fields(info):
    metadata = info / "METADATA"
    if not metadata.is_file():
        return {}
    lines = metadata.read_text(encoding="utf-8", errors="replace").splitlines()[:20]
    return dict(line.split(": ", 1) for line in lines if ": " in line)


def recorded_files(info):
    """RECORD's paths that lie inside the tree."""
    record = info / "RECORD"
    if not record.is_file():
        return []
    with record.open(encoding="utf-8", newline="") as stream:
        paths = [row[0] for row in csv.reader(stream) if row]
    return [path for path in paths if not path.startswith(("../", "/"))]


def distributions(tree):
    """The distributions installed in ``tree``, by name."""
    found = []
    for info in sorted(Path(tree).glob("*.dist-info")):
        fields = metadata_fields(info)
        if "Name" in fields:
            found.append(Distribution(fields["Name"], fields.get("Version", ""), info, recorded_files(info)))
    return sorted(found, key=lambda distribution: distribution.name.lower())


def shared_entries(site, project, own_packages=()):
    """The top-level entries of ``site`` that the project's dependencies
    installed and nothing else wrote to: each of their files (bytecode
    aside) is listed in the RECORD of a distribution other than
    ``project``, and none in the project's. The extraction shares them
    between releases as one tree (see ``store``). The top-level packages
    ``own_packages`` (the settings module's) are never shared, whichever
    distribution installed them: ``Path(__file__).resolve()`` there must
    lead to the release's own folder, where its ``BASE_DIR`` is."""
    site = Path(site)
    key = canonical_name(project) if project else None
    dependencies: set[str] = set()
    own: set[str] = set()
    for distribution in distributions(site):
        (own if distribution.key == key else dependencies).update(distribution.files)
    candidates = {path.partition("/")[0] for path in dependencies} - {path.partition("/")[0] for path in own}
    candidates -= {name for package in own_packages for name in (package, f"{package}.py")}
    return sorted(name for name in candidates if only_recorded(site, name, dependencies))


def only_recorded(site, name, recorded):
    """Is every file under the top-level entry ``name`` among ``recorded``
    (its compiled bytecode aside), with no symbolic link?"""
    entry = site / name
    if entry.is_symlink() or not entry.exists():
        return False
    paths = (
        [entry]
        if entry.is_file()
        else [path for path in entry.rglob("*") if path.is_symlink() or not path.is_dir()]
    )
    for path in paths:
        relative = path.relative_to(site).as_posix()
        if path.is_symlink() or not (relative in recorded or "__pycache__" in relative.split("/")):
            return False
    return True


def installed_versions(tree):
    return {distribution.name: distribution.version for distribution in distributions(tree)}


def remove_distribution(tree, distribution):
    """Remove an installed distribution's files, its .dist-info and the
    directories left empty."""
    tree = Path(tree)
    for relative in distribution.files:
        path = tree / relative
        if path.is_file() or path.is_symlink():
            path.unlink()
    shutil.rmtree(distribution.info, ignore_errors=True)
    for directory in sorted((path for path in tree.rglob("*") if path.is_dir()), reverse=True):
        if not any(directory.iterdir()):
            directory.rmdir()


def tree_size(tree):
    return sum(
        path.stat().st_size for path in Path(tree).rglob("*") if path.is_file() and not path.is_symlink()
    )


#: What installers write about the installation itself, not the package:
#: the temporary build folder's path (pip's direct_url.json, uv's
#: uv_build.json) and cache timestamps (uv's uv_cache.json).
INSTALLERS_RECORDS = frozenset({"direct_url.json", "uv_build.json", "uv_cache.json"})


def normalise(site, epoch):
    """Make the installed tree depend on nothing but its inputs."""
    # Console scripts carry the build interpreter's path and are never run
    # from inside a zipapp.
    shutil.rmtree(site / "bin", ignore_errors=True)
    # uv's lock on the target folder while it installed.
    (site / ".lock").unlink(missing_ok=True)
    for path in sorted(site.rglob("*"), reverse=True):
        if path.is_symlink():
            continue
        if path.name == "__pycache__" and path.is_dir():
            shutil.rmtree(path)
            continue
        if path.suffix in (".pyc", ".po") or path.name in INSTALLERS_RECORDS:
            # .po files are translation sources, and only the compiled .mo
            # files are read at run time (a fifth of Django's files).
            path.unlink()
            continue
        if path.name == "RECORD" and path.parent.name.endswith(".dist-info"):
            _drop_record_lines(path)
        mode = 0o755 if path.is_dir() or os.access(path, os.X_OK) else 0o644
        path.chmod(mode)
        os.utime(path, (epoch, epoch), follow_symlinks=False)


def _drop_record_lines(record):
    kept = [
        line
        for line in record.read_text(encoding="utf-8").splitlines()
        if not line.startswith(("../", "bin/"))
        and line.split(",", 1)[0].rsplit("/", 1)[-1] not in INSTALLERS_RECORDS
        and "__pycache__" not in line
    ]
    record.write_text("\n".join(kept) + "\n", encoding="utf-8")


GZIP_MAGIC = b"\x1f\x8b"


def recorded_paths(tree):
    """The files pip installed (their RECORDs list them), relative to ``tree``."""
    return {relative for distribution in distributions(tree) for relative in distribution.files}


def fix_gzip_header(path, epoch):
    """Set a gzip file's header mtime (bytes 4 to 7, little-endian) to
    ``epoch`` without recompressing; True when it changed. The rest of the
    header (flags, the FNAME a compressor derives from the file's own name,
    XFL, OS) depends on nothing but the file and the compressor."""
    with path.open("r+b") as stream:
        header = stream.read(10)
        if len(header) < 10 or header[:2] != GZIP_MAGIC:
            return False
        mtime = (epoch & 0xFFFFFFFF).to_bytes(4, "little")
        if header[4:8] == mtime:
            return False
        stream.seek(4)
        stream.write(mtime)
    return True


def normalise_gzip_headers(tree, epoch):
    """The ``.gz`` files written during the build (by a manage step such as
    django-compressor's compress, or collectstatic's storage), not those pip
    installed, carry ``epoch`` instead of the time they were written."""
    tree = Path(tree)
    installed = recorded_paths(tree)
    fixed = 0
    for path in sorted(tree.rglob("*.gz")):
        if path.is_file() and not path.is_symlink() and path.relative_to(tree).as_posix() not in installed:
            fixed += fix_gzip_header(path, epoch)
    return fixed


def _no_duplicates(pairs):
    keys = [key for key, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate keys")
    return dict(pairs)


def sort_json_manifests(static_root):
    """Rewrite the JSON objects of the collected static tree (django-compressor's
    CACHE/manifest.json, whose key order varies from build to build) with
    sorted keys, but only when the rewritten file reads back the same."""
    rewritten = 0
    for path in sorted(Path(static_root).rglob("*.json")):
        if not path.is_file() or path.is_symlink():
            continue
        try:
            text = path.read_text(encoding="utf-8")
            data = json.loads(text, object_pairs_hook=_no_duplicates)
        except (UnicodeDecodeError, ValueError):
            continue
        if not isinstance(data, dict):
            continue
        ending = "\n" if text.endswith("\n") else ""
        sorted_text = json.dumps(data, sort_keys=True, ensure_ascii=not _has_non_ascii(text)) + ending
        if sorted_text == text:
            continue
        try:
            same = json.loads(sorted_text) == data
        except ValueError:  # pragma: no cover - what json.dumps wrote reads back
            same = False
        if same:
            path.write_text(sorted_text, encoding="utf-8")
            rewritten += 1
    return rewritten


def _has_non_ascii(text):
    return any(ord(character) > 127 for character in text)


def tree_digest(site):
    """sha256 over every file's relative path, mode and content."""
    digest = hashlib.sha256()
    for path in sorted(site.rglob("*"), key=lambda p: p.relative_to(site).as_posix()):
        if path.is_dir():
            continue
        digest.update(path.relative_to(site).as_posix().encode() + b"\0")
        digest.update(oct(stat.S_IMODE(path.lstat().st_mode)).encode() + b"\0")
        digest.update(path.read_bytes() if not path.is_symlink() else os.readlink(path).encode())
    return digest.hexdigest()


def write_zip(tree, target, epoch):
    """Zip a normalised tree: sorted names, one timestamp, fixed modes, so
    the same tree always gives the same bytes."""
    date_time = time.gmtime(max(epoch, 315532800))[:6]
    files = sorted(
        (path for path in Path(tree).rglob("*") if path.is_file()),
        key=lambda path: path.relative_to(tree).as_posix(),
    )
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(tree).as_posix(), date_time=date_time)
            mode = 0o755 if os.access(path, os.X_OK) else 0o644
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return target
