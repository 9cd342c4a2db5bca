"""The extraction is read-only to the processes that run from it, and
``zipapp info`` and ``zipapp prune`` see every extraction under the root.

The artifacts here are real shiv zipapps with the real start-up module, but
tiny: one package, ``probe``, whose entry point runs the Python code given
as its argument, with ``package`` naming the package's directory inside the
extraction. The tests run as root (where permission bits do not hold, so
the audit hook is what refuses), and, where ``setpriv`` can drop root's
power to override permission bits, as an owner without it, as a service's
own user runs (where the permission bits refuse before anything else).
"""

import json
import os
import py_compile
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

from django_zipserve.zipapp import boot as zipapp_boot
from django_zipserve.zipapp.build import BOOT_MODULE, finish_archive
from django_zipserve.zipapp.tree import shared_entries
from tests.helpers import WITHOUT_FILE_PERMISSION_OVERRIDE, clean_environ, require_tool, run_pyz
from tests.zipapp.locks import hold

EPOCH = 1_700_000_000
PROBE = """import os
import sys

PACKAGE = os.path.dirname(os.path.abspath(__file__))


def main():
    exec(sys.argv[1], {"package": PACKAGE})
    return 0
"""
REFUSAL = (
    "PermissionError: [Errno 13] django-zipserve: refused to {verb} {path}: it is inside the artifact's "
    "extraction, which is read-only and replaced by every release; point the setting that names this "
    "path at the state directory (STATE_DIR)"
)
#: The owner of the extraction without root's power to override permission
#: bits, as a service's own user runs: the bits hold. (Not another user: the
#: interpreters here may lie under /root, which only root may enter.)
AS_OWNER = WITHOUT_FILE_PERMISSION_OVERRIDE


#: A dependency's package, which finds its bundled native files beside it,
#: as numpy finds numpy.libs: by climbing out of its own folder.
LIBRARY = """import os

NATIVE = os.path.join(os.path.dirname(__file__), "..", "lib.libs", "native.txt")
"""


def small_site(folder, project, build_id, value=42, library="1.0"):
    """site-packages as the build leaves it: the package (``probe/extra.py``
    without its compiled bytecode, as when a module fails to compile), a
    data file, an executable, a dependency (``lib``, its ``lib.libs`` and
    its ``.dist-info``, of version ``library``), the build record and the
    lock file."""
    site = folder / "site-packages"
    add_library(site, library)
    (site / "probe").mkdir(parents=True)
    (site / "probe" / "__init__.py").write_text(PROBE)
    (site / "probe" / "extra.py").write_text(f"VALUE = {value}\n")
    (site / "probe" / "data.txt").write_text("packaged data\n")
    py_compile.compile(
        str(site / "probe" / "__init__.py"),
        dfile="site-packages/probe/__init__.py",  # as the build does: the same bytes in every build
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        doraise=True,
    )
    (site / "probe" / "tool.sh").write_text("#!/bin/sh\necho tool\n")
    (site / "probe" / "tool.sh").chmod(0o755)
    record = {
        "name": project,
        "version": "1.0",
        "build_id": build_id,
        "python": zipapp_boot.python_version(),
        "source_date_epoch": EPOCH,
        "packages": {},
    }
    (site / zipapp_boot.RECORD_NAME).write_text(json.dumps(record))
    (site / zipapp_boot.LOCK_NAME).write_bytes(b"")
    for path in site.rglob("*"):
        if path.is_file() and path.name != "tool.sh":
            path.chmod(0o644)
    return site


def add_library(site, version):
    info = site / f"lib-{version}.dist-info"
    for path, text in (
        ("lib/__init__.py", LIBRARY),
        ("lib.libs/native.txt", f"native {version}\n"),
        (f"{info.name}/METADATA", f"Metadata-Version: 2.1\nName: lib\nVersion: {version}\n"),
    ):
        (site / path).parent.mkdir(parents=True, exist_ok=True)
        (site / path).write_text(text)
    listed = ["lib/__init__.py", "lib.libs/native.txt", f"{info.name}/METADATA", f"{info.name}/RECORD"]
    (info / "RECORD").write_text("".join(f"{path},,\n" for path in listed))


def small_artifact(folder, build_id, file_name="site.pyz", project="site", value=42, library="1.0"):
    """A shiv zipapp of :func:`small_site`, finished as the build finishes
    it: its bytecode added, and the start-up module first in ``__main__``
    (shiv's bootstrap, then our preamble, for a first extraction)."""
    work = Path(tempfile.mkdtemp(dir=folder, prefix="build-"))
    site = small_site(work, project, build_id, value, library)
    preamble = work / "zipserve_preamble.py"
    preamble.write_text(f"import {BOOT_MODULE}\n\n{BOOT_MODULE}.preamble(site_packages)\n")
    target = folder / file_name
    subprocess.run(
        [
            *(sys.executable, "-m", "shiv", "--site-packages", site, "--entry-point", "probe:main"),
            *("--output-file", target, "--build-id", build_id, "--reproducible"),
            *("--preamble", preamble, "--python", sys.executable),
        ],
        check=True,
        capture_output=True,
    )
    # shiv leaves bytecode out; the build adds it, the start-up modules and the manifest.
    finish_archive(target, site, sorted(site.rglob("*.pyc")), EPOCH, shared_entries(site, project))
    target.chmod(0o644)
    shutil.rmtree(work)
    return target


def start(pyz, root, code="pass", prefix=(), **extra):
    """Run the artifact's entry point with ``code``, to its end."""
    return run_artifact(pyz, root, code, prefix=prefix, **extra)


def run_artifact(pyz, root, *args, prefix=(), **extra):
    """Run the artifact with ``args``, extracting under ``root``, to its end."""
    env = clean_environ(SHIV_ROOT=root, HOME=root.parent, **extra)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # Python tries to cache bytecode, as it does by default
    return run_pyz(pyz, env, *args, cwd=root.parent, timeout=120, prefix=prefix)


def extraction_of(root, build_id, file_name="site.pyz"):
    return root / f"{file_name}_{build_id}"


def tree(path):
    """Every entry under ``path`` with its content (files) or None (directories)."""
    return {
        entry.relative_to(path).as_posix(): entry.read_bytes() if entry.is_file() else None
        for entry in sorted(path.rglob("*"))
        if "__pycache__" not in entry.parts
    }


@pytest.mark.parametrize("first_start", [True, False], ids=["first start", "later start"])
def test_a_write_into_the_package_fails_loudly_and_names_the_state_directory(tmp_path, first_start):
    """The NetBox case: an upload saved under the package. Run as root, whom
    permission bits do not stop: the audit hook refuses it, after shiv's
    extraction (the preamble) as after any later start (run_extracted)."""
    pyz = small_artifact(tmp_path, "0123456789abcdef")
    root = tmp_path / "root"
    if not first_start:
        assert start(pyz, root).returncode == 0
    package = extraction_of(root, "0123456789abcdef") / "site-packages" / "probe"
    result = start(pyz, root, "open(package + '/upload.py', 'w').write('print(1)')")
    assert result.returncode == 1
    assert REFUSAL.format(verb="write", path=package / "upload.py") in result.stderr
    assert not (package / "upload.py").exists()
    result = start(pyz, root, "import os; os.makedirs(package + '/scripts/custom', exist_ok=True)")
    assert result.returncode == 1
    assert REFUSAL.format(verb="create", path=package / "scripts") in result.stderr
    assert not (package / "scripts").exists()


WAYS_OF_WRITING = {
    "open for writing": "open(f'{package}/new.txt', 'w')",
    "open to append, a bytes path": "open(os.fsencode(f'{package}/data.txt'), 'ab')",
    "open to update": "open(f'{package}/data.txt', 'r+')",
    "os.open to create, relative": "os.chdir(package); os.open('new.txt', os.O_WRONLY | os.O_CREAT)",
    "os.open through ..": "os.open(f'{package}/../probe/new.txt', os.O_RDWR | os.O_CREAT)",
    "pathlib": "pathlib.Path(package, 'new.txt').write_text('x')",
    "mkstemp": "tempfile.mkstemp(dir=package)",
    "truncate": "os.truncate(f'{package}/data.txt', 0)",
    "mkdir": "os.mkdir(f'{package}/uploads')",
    "rename inside": "os.rename(f'{package}/data.txt', f'{package}/moved.txt')",
    "replace from outside": (
        "open('outside.txt', 'w').close(); os.replace('outside.txt', f'{package}/data.txt')"
    ),
    "move out": "shutil.move(f'{package}/data.txt', 'moved-out.txt')",
    "copy in": "open('outside.txt', 'w').close(); shutil.copy('outside.txt', package)",
    "remove": "os.remove(f'{package}/data.txt')",
    "unlink relative to a directory descriptor": (
        "os.unlink('data.txt', dir_fd=os.open(package, os.O_RDONLY))"
    ),
    "rmdir": "os.rmdir(package)",
    "rmtree": "shutil.rmtree(package)",
    "symlink": "os.symlink('/etc/passwd', f'{package}/link')",
    "hard link": "os.link(f'{package}/data.txt', f'{package}/linked.txt')",
    "sqlite database": "sqlite3.connect(f'{package}/db.sqlite3')",
    "sqlite URI": "sqlite3.connect(f'file:{package}/db.sqlite3?cache=shared', uri=True)",
}


def test_every_way_of_writing_into_the_extraction_is_refused(tmp_path):
    """As root (the audit hook): each write fails with the refusal, and the
    extraction is exactly what was extracted."""
    pyz = small_artifact(tmp_path, "0123456789abcdef")
    root = tmp_path / "root"
    assert start(pyz, root).returncode == 0
    site_packages = extraction_of(root, "0123456789abcdef") / "site-packages"
    before = tree(site_packages)
    attempts = "\n".join(
        f"os.chdir(home)\ntry:\n    {code}\nexcept PermissionError as exc:\n"
        f"    print({way!r}, exc.errno, exc.strerror)\nelse:\n    print({way!r}, 'allowed')"
        for way, code in WAYS_OF_WRITING.items()
    )
    code = f"import os, pathlib, shutil, sqlite3, tempfile\nhome = os.getcwd()\n{attempts}"
    result = start(pyz, root, code)
    assert result.returncode == 0, result.stderr
    outcomes = dict(line.split(" 13 ", 1) for line in result.stdout.splitlines() if " 13 " in line)
    assert set(outcomes) == set(WAYS_OF_WRITING), result.stdout
    for way, message in outcomes.items():
        assert message.startswith("django-zipserve: refused to "), (way, message)
        assert f"{site_packages}/probe" in message and "(STATE_DIR)" in message, (way, message)
    assert tree(site_packages) == before


def test_writing_into_a_shared_entry_is_refused_by_either_path(tmp_path):
    """A dependency's files are in the store's shared tree: a write through
    the extraction's link and one through the resolved path (where
    ``Path(__file__).resolve()`` leads) are both refused."""
    pyz = small_artifact(tmp_path, "0123456789abcdef")
    root = tmp_path / "root"
    code = (
        "import os, lib\nhere = os.path.dirname(lib.__file__)\n"
        "for folder in (here, os.path.realpath(here)):\n"
        "    try:\n        open(folder + '/new.txt', 'w')\n    except PermissionError as exc:\n"
        "        print(exc.strerror.split(':')[1])"
    )
    result = start(pyz, root, code)
    assert result.returncode == 0, result.stderr
    extraction = extraction_of(root, "0123456789abcdef")
    assert result.stdout.splitlines() == [
        f" refused to write {extraction}/site-packages/lib/new.txt",
        f" refused to write {shared_tree(extraction)}/lib/new.txt",
    ]


def test_reading_importing_and_writing_elsewhere_still_work(tmp_path):
    """The package's data reads, a module without compiled bytecode imports
    (nothing printed), and the state directory, a database there, a
    temporary file and a file the hook only sees by descriptor are writable."""
    pyz = small_artifact(tmp_path, "0123456789abcdef")
    root = tmp_path / "root"
    state = tmp_path / "state"
    state.mkdir()
    code = (
        "import os, sqlite3, tempfile, probe.extra\n"
        "assert open(package + '/data.txt').read() == 'packaged data\\n'\n"
        "assert probe.extra.VALUE == 42\n"
        f"state = {str(state)!r}\n"
        "open(state + '/upload.py', 'w').write('print(1)')\n"
        "os.mkdir(state + '/scripts'); os.rename(state + '/upload.py', state + '/scripts/upload.py')\n"
        "sqlite3.connect(state + '/db.sqlite3').execute('create table t (x)')\n"
        "sqlite3.connect(':memory:').close(); sqlite3.connect(f'file:{package}/data.txt?mode=ro', uri=True)\n"
        "tempfile.NamedTemporaryFile().write(b'x')\n"
        "os.chdir(package); os.fdopen(os.open(state + '/fd.txt', os.O_WRONLY | os.O_CREAT), 'w').write('x')\n"
        "print('done')"
    )
    for attempt in ("first start", "later start"):
        result = start(pyz, root, code)
        assert (result.returncode, result.stdout, result.stderr) == (0, "done\n", ""), attempt
        assert (state / "scripts" / "upload.py").is_file()
        shutil.rmtree(state / "scripts")
        (state / "db.sqlite3").unlink()


def modes(extraction):
    """The permission bits of every file and directory of the extraction,
    the shared entries it links to included."""
    found = {".": stat.S_IMODE(extraction.stat().st_mode)}
    for directory, folders, files in os.walk(extraction, followlinks=True):
        for name in (*folders, *files):
            path = Path(directory) / name
            found[path.relative_to(extraction).as_posix()] = stat.S_IMODE(path.stat().st_mode)
    return found


def test_the_extraction_is_read_only_on_disk_after_concurrent_first_starts(tmp_path):
    """Two processes start together on an empty root: both run, and the
    extraction has no write bit left (executables keep theirs), so a
    process without the audit hook and without root's override of
    permission bits cannot write there."""
    require_tool(shutil.which("setpriv") and os.geteuid() == 0, "needs root and setpriv")
    pyz = small_artifact(tmp_path, "0123456789abcdef")
    root = tmp_path / "root"
    env = clean_environ(SHIV_ROOT=root, HOME=tmp_path)
    starting = [
        subprocess.Popen(
            [sys.executable, str(pyz), "print('ran')"], env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    assert [process.communicate(timeout=120)[0] for process in starting] == ["ran\n", "ran\n"]
    extraction = extraction_of(root, "0123456789abcdef")
    found = modes(extraction)
    assert found["site-packages/probe/tool.sh"] == 0o555
    assert found[f"site-packages/{zipapp_boot.LOCK_NAME}"] == 0o444
    assert found["site-packages/probe/__init__.py"] == 0o444
    assert {mode for mode in found.values() if mode & 0o222} == set(), found
    assert (extraction / "site-packages" / "probe" / "data.txt").stat().st_mtime == EPOCH
    writer = (
        "import sys\ntry:\n    open(sys.argv[1], 'a')\nexcept PermissionError as exc:\n    print(exc.errno)"
    )
    for target in ("probe/data.txt", "probe/new.txt"):
        result = subprocess.run(
            [
                *WITHOUT_FILE_PERMISSION_OVERRIDE,
                sys.executable,
                "-c",
                writer,
                extraction / "site-packages" / target,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert (result.returncode, result.stdout) == (0, "13\n"), (target, result.stderr)
    assert start(pyz, root, "print('again')").stdout == "again\n"


@pytest.fixture
def owners_folder(tmp_path):
    require_tool(shutil.which("setpriv") and os.geteuid() == 0, "needs root and setpriv to drop DAC override")
    return tmp_path


def test_an_unprivileged_owner_runs_forces_and_prunes_read_only_extractions(owners_folder):
    """Without root's override, the permission bits refuse: a module without bytecode
    imports without a word and leaves no bytecode; a process without the
    hook cannot write either. A start that forces a new extraction, and a
    prune of a read-only extraction that no process uses, still work for
    the owner; the one a process uses stays."""
    root = owners_folder / "root"
    build_ids = ("aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb", "cccccccccccccccc")
    for build_id in build_ids:  # one file name, three releases; the last one is current
        pyz = small_artifact(owners_folder, build_id)
        result = start(pyz, root, "import probe.extra; print(probe.extra.VALUE)", prefix=AS_OWNER)
        assert (result.returncode, result.stdout, result.stderr) == (0, "42\n", ""), build_id
    old, held, current = (extraction_of(root, build_id) for build_id in build_ids)
    package = current / "site-packages" / "probe"
    assert current.stat().st_uid == os.geteuid() and not modes(current)["site-packages/probe"] & 0o222
    compiled = package / "__pycache__" / f"__init__.{sys.implementation.cache_tag}.pyc"
    assert list((package / "__pycache__").iterdir()) == [compiled], "no bytecode written"
    refused = start(pyz, root, "open(package + '/new.txt', 'w')", prefix=AS_OWNER)
    assert REFUSAL.format(verb="write", path=package / "new.txt") in refused.stderr
    without_hook = subprocess.run(
        [*AS_OWNER, sys.executable, "-c", "import sys; open(sys.argv[1], 'w')", package / "new.txt"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "PermissionError: [Errno 13] Permission denied" in without_hook.stderr
    forced = start(pyz, root, "print('forced')", prefix=AS_OWNER, SHIV_FORCE_EXTRACT="1")
    assert (forced.returncode, forced.stdout, forced.stderr) == (0, "forced\n", "")
    holder = hold(held / "site-packages" / zipapp_boot.LOCK_NAME)
    try:
        pruned = run_artifact(pyz, root, "zipapp", "prune", "--keep", "0", prefix=AS_OWNER)
    finally:
        holder.kill()
        holder.wait(timeout=10)
    assert (pruned.returncode, pruned.stderr) == (0, "")
    assert pruned.stdout.splitlines()[-1] == "1 removed, 2 kept"
    assert not old.exists() and held.is_dir() and current.is_dir()
    assert sorted(path.name for path in root.iterdir() if path.name.startswith(".")) == [
        f".{held.name}_lock",
        f".{current.name}_lock",
        ".zipserve-store",
    ], "nothing half removed is left behind"


def a_foreign_extraction(root, name, record=None):
    """An extraction another program left: a shiv zipapp's packages, and the
    build record of a django-zipserve artifact when ``record`` is given."""
    site_packages = root / name / "site-packages"
    site_packages.mkdir(parents=True)
    (site_packages / "module.py").write_text("VALUE = 1\n")
    if record is not None:
        (site_packages / zipapp_boot.RECORD_NAME).write_text(json.dumps(record))
    os.utime(root / name, (EPOCH, EPOCH))
    return root / name


def test_info_and_prune_see_every_extraction_under_the_root(tmp_path):
    """Versioned file names (site-1.0.pyz, then site-1.1.pyz) leave old
    extractions under other names: info lists them and prune removes them.
    A root shared with other programs (~/.cache/shiv): info lists theirs too,
    prune leaves them alone, even one whose artifact had this file name."""
    root = tmp_path / "root"
    older = small_artifact(tmp_path, "1111111111111111", file_name="site-1.0.pyz")
    assert start(older, root).returncode == 0
    pyz = small_artifact(tmp_path, "2222222222222222", file_name="site-1.1.pyz")
    assert start(pyz, root).returncode == 0
    blog = a_foreign_extraction(root, "blog.pyz_3333333333333333", {"name": "blog"})
    namesake = a_foreign_extraction(root, "site-1.1.pyz_4444444444444444", {"name": "other-site"})
    tool = a_foreign_extraction(root, "tool.pyz_5555555555555555")
    info = run_artifact(pyz, root, "zipapp", "info")
    assert info.returncode == 0, info.stderr
    marks = {line.split()[0]: line.partition("MiB")[2].strip() for line in info.stdout.splitlines()[1:-1]}
    assert marks == {
        "site-1.1.pyz_2222222222222222": "(current)",
        "site-1.0.pyz_1111111111111111": "(this project, another file name)",
        blog.name: "(another project: blog, left alone by prune)",
        namesake.name: "(another project: other-site, left alone by prune)",
        tool.name: "(not a django-zipserve artifact, left alone by prune)",
    }
    assert info.stdout.splitlines()[-1].startswith("5 extractions, ")
    pruned = run_artifact(pyz, root, "zipapp", "prune", "--keep", "0")
    assert pruned.returncode == 0, pruned.stderr
    # Sizes aside: the extraction's counts the shared tree it links to (folders of a file system's block).
    assert [line.partition(" (")[0] for line in pruned.stdout.splitlines()] == [
        f"removed {root / 'site-1.0.pyz_1111111111111111'}",
        "removed 1 stored file no kept extraction uses",
        "1 removed, 1 kept",
    ]
    assert sorted(path.name for path in root.iterdir() if not path.name.startswith(".")) == sorted(
        ["site-1.1.pyz_2222222222222222", blog.name, namesake.name, tool.name]
    )


def test_the_main_file_is_the_artifact_and_what_the_environment_set_first_is_kept(tmp_path):
    """strawberry compares ``__main__.__file__`` with its modules' files
    (``Path.samefile``): inside the archive that raised NotADirectoryError
    while NetBox loaded its URLs. The entry point also learns what
    DJANGO_SETTINGS_MODULE was before any project code could set it."""
    pyz = small_artifact(tmp_path, "0123456789abcdef")
    root = tmp_path / "root"
    code = (
        "import sys, pathlib, _zipserve_boot, probe\n"
        "main = sys.modules['__main__']\n"
        "assert not pathlib.Path(main.__file__).samefile(probe.__file__)\n"
        "print(main.__file__, _zipserve_boot.INHERITED_SETTINGS)"
    )
    for attempt in ("first start", "later start"):
        result = start(pyz, root, code, DJANGO_SETTINGS_MODULE="mysite.settings.local")
        assert result.returncode == 0, (attempt, result.stderr)
        assert result.stdout == f"{pyz} mysite.settings.local\n", attempt


def test_a_process_that_runs_the_main_file_again_does_not_start_the_site(tmp_path):
    """multiprocessing's spawn and forkserver run ``__main__.__file__``
    again under another name: the artifact's main module then does nothing."""
    pyz = small_artifact(tmp_path, "0123456789abcdef")
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import runpy; runpy.run_path({str(pyz)!r}, run_name='__mp_main__'); print('ok')",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout) == (0, "ok\n"), result.stderr


# -- the content-addressed store ----------------------------------------------


def stored(root):
    """The stored files under ``root`` (the shared trees aside): ``{path: inode}``."""
    store = root / ".zipserve-store"
    return {
        path: path.stat().st_ino
        for path in store.rglob("*")
        if path.is_file() and path.parent != store and "trees" not in path.relative_to(store).parts
    }


def trees(root):
    return sorted(path.name for path in (root / ".zipserve-store" / "trees").iterdir())


def shared_tree(extraction):
    """The shared tree the extraction's dependency links to."""
    return (extraction / "site-packages" / "lib").resolve().parent


READ_LIBRARY = "import lib; print(open(lib.NATIVE).read(), end='')"


def inode(extraction, member):
    return (extraction / "site-packages" / member).stat().st_ino


def test_a_second_release_writes_only_the_files_that_changed(tmp_path):
    """Release 2 changes one module: its extraction links every other file
    to release 1's (one inode, one copy on disk); the store gains the
    changed module and the build record (its build id), nothing else."""
    root = tmp_path / "root"
    first = small_artifact(tmp_path, "1111111111111111", file_name="site-1.pyz")
    second = small_artifact(tmp_path, "2222222222222222", file_name="site-2.pyz", value=43)
    assert start(first, root, "from probe import extra; print(extra.VALUE)").stdout == "42\n"
    before = stored(root)
    assert start(second, root, "from probe import extra; print(extra.VALUE)").stdout == "43\n"
    after = stored(root)
    assert set(before) <= set(after)
    assert sorted(path.name.rpartition("-")[0] for path in set(after) - set(before)) == sorted(
        store_name(content)
        for content in (
            b"VALUE = 43\n",
            (
                extraction_of(root, "2222222222222222", "site-2.pyz")
                / "site-packages"
                / zipapp_boot.RECORD_NAME
            ).read_bytes(),
        )
    )
    one, two = (
        extraction_of(root, "1111111111111111", "site-1.pyz"),
        extraction_of(root, "2222222222222222", "site-2.pyz"),
    )
    for member in ("probe/__init__.py", "probe/data.txt", "probe/tool.sh"):
        assert inode(one, member) == inode(two, member), member
    assert inode(one, "probe/extra.py") != inode(two, "probe/extra.py")
    # The dependency is one tree, linked to from both: no folder or file made for it again.
    for name in ("lib", "lib.libs", "lib-1.0.dist-info"):
        assert (two / "site-packages" / name).is_symlink(), name
        assert not os.path.isabs(os.readlink(two / "site-packages" / name)), "relative: the root may move"
    assert shared_tree(one) == shared_tree(two) and len(trees(root)) == 1
    # Climbing out of the package with ".." finds its siblings in the tree.
    assert start(second, root, READ_LIBRARY).stdout == "native 1.0\n"
    # Never shared: a lock held on one extraction's file would hold the other's.
    assert inode(one, zipapp_boot.LOCK_NAME) != inode(two, zipapp_boot.LOCK_NAME)
    # Shared files keep the time they were stored with, the build's.
    assert (two / "site-packages" / "probe" / "data.txt").stat().st_mtime == EPOCH
    assert modes(two)["site-packages/probe/tool.sh"] == 0o555


def store_name(content):
    import hashlib

    return hashlib.sha256(content).hexdigest()[2:]


def test_prune_keeps_the_stored_files_a_kept_extraction_still_uses(tmp_path):
    root = tmp_path / "root"
    first = small_artifact(tmp_path, "1111111111111111", file_name="site-1.pyz")
    second = small_artifact(tmp_path, "2222222222222222", file_name="site-2.pyz", value=43)
    assert start(first, root).returncode == 0
    assert start(second, root).returncode == 0
    one = extraction_of(root, "1111111111111111", "site-1.pyz")
    only_the_first = one / "site-packages" / "probe" / "extra.py"
    shared = (one / "site-packages" / "probe" / "data.txt").stat().st_ino
    only_first_inode = only_the_first.stat().st_ino
    pruned = run_artifact(second, root, "zipapp", "prune", "--keep", "0")
    assert pruned.returncode == 0, pruned.stderr
    assert not one.exists()
    left = set(stored(root).values())
    assert shared in left, "a file the kept release links to stays"
    assert only_first_inode not in left, "a file only the removed release used is gone"
    assert start(
        second, root, "from probe import extra; print(extra.VALUE, open(package + '/data.txt').read())"
    ).stdout == ("43 packaged data\n\n")
    # The first release extracts again from the store and the archive.
    assert start(first, root, "from probe import extra; print(extra.VALUE)").stdout == "42\n"


def test_prune_removes_a_shared_tree_no_kept_release_links_to(tmp_path):
    """Release 2 upgrades the dependency: a tree of its own. Pruning release
    1 removes release 1's tree and the files only it held; release 2's tree
    stays, and release 1 extracts again whole."""
    root = tmp_path / "root"
    first = small_artifact(tmp_path, "1111111111111111", file_name="site-1.pyz")
    second = small_artifact(tmp_path, "2222222222222222", file_name="site-2.pyz", library="2.0")
    assert start(first, root, READ_LIBRARY).stdout == "native 1.0\n"
    assert start(second, root, READ_LIBRARY).stdout == "native 2.0\n"
    one = extraction_of(root, "1111111111111111", "site-1.pyz")
    two = extraction_of(root, "2222222222222222", "site-2.pyz")
    assert len(trees(root)) == 2
    old_native = (one / "site-packages" / "lib.libs" / "native.txt").stat().st_ino
    pruned = run_artifact(second, root, "zipapp", "prune", "--keep", "0")
    assert pruned.returncode == 0, pruned.stderr
    assert trees(root) == [shared_tree(two).name]
    assert old_native not in set(stored(root).values()), "a file only the removed tree held is gone"
    assert start(second, root, READ_LIBRARY).stdout == "native 2.0\n"
    assert start(first, root, READ_LIBRARY).stdout == "native 1.0\n"
    assert len(trees(root)) == 2


def test_a_corrupted_file_of_a_shared_tree_is_replaced_in_the_tree(tmp_path):
    """The file is changed through the tree (the store's copy is the same
    file): the next release's extraction finds it, stores a sound copy
    and puts it in the tree, where the running release sees it too."""
    root = tmp_path / "root"
    first = small_artifact(tmp_path, "1111111111111111", file_name="site-1.pyz")
    second = small_artifact(tmp_path, "2222222222222222", file_name="site-2.pyz", value=43)
    assert start(first, root).returncode == 0
    native = shared_tree(extraction_of(root, "1111111111111111", "site-1.pyz")) / "lib.libs" / "native.txt"
    (path,) = [path for path, number in stored(root).items() if number == native.stat().st_ino]
    path.chmod(0o644)
    path.write_text("tampered\n")
    result = start(second, root, READ_LIBRARY)
    assert result.stdout == "native 1.0\n"
    assert f"the stored file {path} no longer matched its content hash; it was replaced" in result.stderr
    assert native.read_text() == "native 1.0\n" and native.stat().st_ino == path.stat().st_ino
    assert start(first, root, READ_LIBRARY).stdout == "native 1.0\n"


def test_a_corrupted_stored_file_is_replaced_not_served(tmp_path):
    root = tmp_path / "root"
    first = small_artifact(tmp_path, "1111111111111111", file_name="site-1.pyz")
    second = small_artifact(tmp_path, "2222222222222222", file_name="site-2.pyz", value=43)
    assert start(first, root).returncode == 0
    one = extraction_of(root, "1111111111111111", "site-1.pyz")
    data = one / "site-packages" / "probe" / "data.txt"
    (path,) = [path for path, number in stored(root).items() if number == data.stat().st_ino]
    path.chmod(0o644)
    path.write_text("tampered\n")  # the disk, or someone, changed it
    result = start(second, root, "print(open(package + '/data.txt').read())")
    assert result.stdout == "packaged data\n\n"
    assert f"the stored file {path} no longer matched its content hash; it was replaced" in result.stderr
    assert path.read_text() == "packaged data\n" and stat.S_IMODE(path.stat().st_mode) == 0o444


def test_a_new_release_hashes_again_only_the_stored_files_changed_since_found_sound(tmp_path, monkeypatch):
    """Hashing every stored file a new release links was most of its
    extraction's time. A file unchanged since the last extraction found it
    sound (same inode, size and modification time) is not read again; one
    written to since is, and replaced."""
    from django_zipserve.zipapp import store

    root = tmp_path / "root"
    first = small_artifact(tmp_path, "1111111111111111", file_name="site-1.pyz")
    second = small_artifact(tmp_path, "2222222222222222", file_name="site-2.pyz", value=43)
    assert start(first, root).returncode == 0
    data = extraction_of(root, "1111111111111111", "site-1.pyz") / "site-packages" / "probe" / "data.txt"
    (edited,) = [path for path, number in stored(root).items() if number == data.stat().st_ino]
    edited.chmod(0o644)
    edited.write_text("packaged dat@\n")  # the same size
    hashed = []
    digest = store.file_digest
    monkeypatch.setattr(store, "file_digest", lambda path: hashed.append(path) or digest(path))
    with zipfile.ZipFile(second) as archive:
        manifest = archive.read(store.MANIFEST_MEMBER)
    made = store.extract(second, manifest, root, "site-2.pyz_2222222222222222", zipapp_boot.LOCK_NAME, EPOCH)
    assert hashed == [str(edited)]
    assert made.replaced == [str(edited)]
    assert edited.read_text() == "packaged data\n"
    assert start(second, root, "print(open(package + '/data.txt').read())").stdout == "packaged data\n\n"


def test_concurrent_first_starts_of_two_releases_share_one_store(tmp_path):
    """Two releases start together on an empty root, twice each: every
    process runs its own release, each release is extracted once, and they
    share their common files."""
    root = tmp_path / "root"
    releases = {
        "1111111111111111": small_artifact(tmp_path, "1111111111111111", file_name="site-1.pyz"),
        "2222222222222222": small_artifact(tmp_path, "2222222222222222", file_name="site-2.pyz", value=43),
    }
    env = clean_environ(SHIV_ROOT=root, HOME=tmp_path)
    code = "from probe import extra; print(extra.VALUE)"
    starting = [
        subprocess.Popen(
            [sys.executable, str(pyz), code],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for pyz in [*releases.values(), *releases.values()]
    ]
    results = [process.communicate(timeout=120) for process in starting]
    assert [out for out, _ in results] == ["42\n", "43\n", "42\n", "43\n"], [err for _, err in results]
    one = extraction_of(root, "1111111111111111", "site-1.pyz")
    two = extraction_of(root, "2222222222222222", "site-2.pyz")
    assert inode(one, "probe/data.txt") == inode(two, "probe/data.txt")
    assert shared_tree(one) == shared_tree(two) and len(trees(root)) == 1
    assert sorted(path.name for path in root.iterdir()) == sorted(
        [".zipserve-store", one.name, two.name, f".{one.name}_lock", f".{two.name}_lock"]
    ), "each release extracted once, nothing half made left"
    assert not list((root / ".zipserve-store").rglob("*.partial"))
