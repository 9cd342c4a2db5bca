"""The artifact's start-up: where it extracts, what it refuses, what it imports."""

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
import zipfile
from email.utils import formatdate
from pathlib import Path

import pytest

from django_zipserve.zipapp import boot as zipapp_boot
from django_zipserve.zipapp import extractions as zipapp_extractions
from django_zipserve.zipapp.build import MAIN_PY, startup_files
from tests.helpers import (
    TEST_SECRET_KEY,
    clean_environ,
    free_port,
    http_get,
    require_tool,
    run_pyz,
    wait_for_http,
    wait_until,
)
from tests.zipapp.locks import hold, waiting_for_lock


class TestChooseRoot:
    def test_order_of_candidates(self, tmp_path):
        environ = {
            "SHIV_ROOT": str(tmp_path / "a"),
            "CACHE_DIRECTORY": f"{tmp_path / 'b'}:{tmp_path / 'c'}",
            "XDG_CACHE_HOME": str(tmp_path / "x"),
            "HOME": str(tmp_path / "h"),
        }
        roots = [root for _, root in zipapp_boot.candidate_roots(environ)]
        assert roots == [
            str(tmp_path / "a"),
            str(tmp_path / "b"),
            str(tmp_path / "x" / "shiv"),
            str(tmp_path / "h" / ".cache" / "shiv"),
        ]

    def test_existing_extraction_wins_even_where_nothing_is_writable(self, tmp_path):
        existing = tmp_path / "cache"
        (existing / "app.pyz_123" / "site-packages").mkdir(parents=True)
        environ = {"SHIV_ROOT": str(tmp_path / "writable"), "CACHE_DIRECTORY": str(existing)}
        assert zipapp_boot.choose_root(environ, "app.pyz_123") == str(existing)

    def test_first_writable_candidate(self, tmp_path):
        not_a_directory = tmp_path / "file"
        not_a_directory.write_text("")
        environ = {"SHIV_ROOT": str(not_a_directory / "shiv"), "HOME": str(tmp_path)}
        assert zipapp_boot.choose_root(environ, "app.pyz_1") == str(tmp_path / ".cache" / "shiv")


def artifact_env(tmp_path, **extra):
    return clean_environ(
        **{
            "HOME": tmp_path / "home",
            "SECRET_KEY": TEST_SECRET_KEY,
            "HTTPS": "false",
            "STATE_DIR": tmp_path / "state",
            **extra,
        }
    )


@pytest.mark.e2e
class TestArtifactStartUp:
    def test_version_needs_no_configuration_and_extracts_nothing(self, example_pyz, tmp_path):
        root = tmp_path / "root"
        root.mkdir()
        env = artifact_env(tmp_path, SHIV_ROOT=str(root))
        del env["SECRET_KEY"]
        result = run_pyz(example_pyz, env, "version")
        assert result.returncode == 0, result.stderr
        record = json.loads(example_pyz.with_suffix(".json").read_text())
        assert result.stdout == (
            f"example_project 1.0.0 (build {record['build_id']}, commit {record['commit'] or 'unknown'}, "
            f"built for Python {record['python']})\n"
            f"Django {record['packages']['Django']}, Python {sys.version.split()[0]}\n"
        )
        assert list(root.iterdir()) == [], "version extracted the artifact"

    def test_describing_and_pruning_extract_nothing(self, example_pyz, tmp_path):
        """The operator's commands answer from the record and the extraction
        root: no configuration, and no 100 MB extraction first."""
        root = tmp_path / "root"
        root.mkdir()
        env = artifact_env(tmp_path, SHIV_ROOT=str(root))
        del env["SECRET_KEY"]
        record = json.loads(example_pyz.with_suffix(".json").read_text())
        for args in (
            ["--version"],
            ["--config", str(tmp_path / "absent.yml"), "version"],
            ["zipapp", "version", "--json"],
            ["zipapp", "info"],
            ["zipapp", "prune", "--keep", "1", "--dry-run"],
            ["zipapp", "prune", "--keep=0"],
        ):
            result = run_pyz(example_pyz, env, *args)
            assert result.returncode == 0, (args, result.stderr)
            assert list(root.iterdir()) == [], f"{args} extracted the artifact"
        as_json = json.loads(run_pyz(example_pyz, env, "zipapp", "version", "--json").stdout)
        assert as_json == {key: value for key, value in record.items() if key not in ("sha256", "size")}
        info = run_pyz(example_pyz, env, "zipapp", "info").stdout.splitlines()
        assert info == [
            f"extraction root: {root} (sizes: MiB of disk usage, as `du -sL` counts it)",
            f"  {example_pyz.name}_{record['build_id']}  not extracted (this build)",
            "0 extractions, 0.0 MiB on disk (files the extractions share counted once)",
        ]

    def test_info_reports_disk_usage_as_du_counts_it(self, example_pyz, tmp_path):
        root = tmp_path / "root"
        env = artifact_env(tmp_path, SHIV_ROOT=str(root))
        extracted = run_pyz(example_pyz, env, "zipapp", "extract")
        assert extracted.returncode == 0, extracted.stderr
        extraction = Path(extracted.stdout.split(": ", 1)[1].strip())
        result = run_pyz(example_pyz, env, "zipapp", "info")
        assert result.returncode == 0, result.stderr
        kibibytes = int(
            subprocess.run(["du", "-skL", extraction], capture_output=True, text=True).stdout.split()[0]
        )
        assert f"  {extraction.name}  {kibibytes / 1024:.1f} MiB  (current)" in result.stdout.splitlines()
        # The total is what the root holds: the extraction's files once, in the store.
        root_kibibytes = int(
            subprocess.run(["du", "-sk", root], capture_output=True, text=True).stdout.split()[0]
        )
        assert result.stdout.splitlines()[-1] == (
            f"1 extraction, {root_kibibytes / 1024:.1f} MiB on disk "
            "(files the extractions share counted once)"
        )

    @pytest.mark.parametrize("variable", zipapp_boot.REFUSED_VARIABLES)
    def test_injection_variables_are_refused(self, example_pyz, tmp_path, shiv_root, variable):
        env = artifact_env(tmp_path, SHIV_ROOT=shiv_root, **{variable: "/tmp"})
        result = run_pyz(example_pyz, env, "version")
        assert result.returncode == 2
        assert f"{variable} is set; this artifact refuses it" in result.stderr
        assert "Traceback" not in result.stderr

    def test_no_writable_extraction_root_is_one_clear_message(self, example_pyz, tmp_path):
        # Under a regular file nothing can be created, whoever runs the test.
        not_a_directory = tmp_path / "file"
        not_a_directory.write_text("")
        env = artifact_env(tmp_path, HOME=not_a_directory / "home", SHIV_ROOT=not_a_directory / "root")
        result = run_pyz(example_pyz, env, "zipapp", "extract")
        assert result.returncode == 2
        assert "cannot extract the bundled packages: no writable directory" in result.stderr
        assert "SHIV_ROOT" in result.stderr and "CacheDirectory=" in result.stderr
        assert "Traceback" not in result.stderr

    def test_cache_directory_is_used_under_systemd(self, example_pyz, tmp_path):
        cache = tmp_path / "cache"
        cache.mkdir()
        result = run_pyz(example_pyz, artifact_env(tmp_path, CACHE_DIRECTORY=str(cache)), "zipapp", "extract")
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(f"extracted: {cache}/{example_pyz.name}_")
        assert any(path.name.startswith(f"{example_pyz.name}_") for path in cache.iterdir())

    def test_system_site_packages_and_pythonpath_are_not_imported(self, example_pyz, tmp_path, shiv_root):
        """A module that exists only outside the artifact is not importable
        from it, and a conflicting ``dj_database_url`` is not the one used."""
        site_dir = Path(sysconfig.get_paths()["purelib"])
        probe = site_dir / "zipserve_outside_probe.py"
        probe.write_text("LEAKED = True\n")
        outside = tmp_path / "pythonpath"
        (outside / "dj_database_url").mkdir(parents=True)
        (outside / "dj_database_url" / "__init__.py").write_text(
            "raise ImportError('outside copy imported')\n"
        )
        (outside / "zipserve_pythonpath_probe.py").write_text("LEAKED = True\n")
        code = (
            "import importlib.util, dj_database_url, sys; "
            "print(importlib.util.find_spec('zipserve_outside_probe'), "
            "importlib.util.find_spec('zipserve_pythonpath_probe'), dj_database_url.__file__)"
        )
        try:
            env = artifact_env(tmp_path, SHIV_ROOT=str(shiv_root), PYTHONPATH=str(outside))
            result = run_pyz(example_pyz, env, "shell", "-c", code)
        finally:
            probe.unlink()
        assert result.returncode == 0, result.stderr
        first, second, location = result.stdout.split()[-3:]
        assert (first, second) == ("None", "None")
        assert location.startswith(str(shiv_root))

    def test_serves_from_a_read_only_extraction(self, example_pyz, tmp_path, servers):
        """ProtectSystem=strict: the extraction exists but nothing may be written."""
        require_tool(
            shutil.which("unshare") and os.geteuid() == 0, "needs root and unshare to mount read-only"
        )
        root = tmp_path / "cache"
        env = artifact_env(tmp_path, SHIV_ROOT=str(root), PYTHONDONTWRITEBYTECODE="1")
        state = Path(env["STATE_DIR"])
        state.mkdir()
        assert run_pyz(example_pyz, env, "migrate", "--noinput").returncode == 0
        port = free_port()
        script = (
            f'mount --bind "{root}" "{root}" && mount -o remount,bind,ro "{root}" && '
            f'exec "{sys.executable}" "{example_pyz}" pyuwsgi --http 127.0.0.1:{port}'
        )
        server = servers.start(["unshare", "-m", "sh", "-c", script], env)
        wait_for_http(f"http://127.0.0.1:{port}/", process=server.process)
        assert "Read-only file system" not in server.output()
        assert server.stop() == 0


@pytest.mark.e2e
def test_prune_keeps_current_recent_and_in_use_extractions(example_pyz, tmp_path):
    root = tmp_path / "cache"
    env = artifact_env(tmp_path, SHIV_ROOT=str(root))
    assert run_pyz(example_pyz, env, "zipapp", "extract").returncode == 0  # the current extraction
    old = {}
    for age, name in enumerate(["newest", "middle", "held", "oldest"], start=1):
        path = root / f"{example_pyz.name}_{name}"
        (path / "site-packages").mkdir(parents=True)
        (path / "site-packages" / zipapp_boot.LOCK_NAME).write_text("")
        os.utime(path, (1_000_000_000 - age * 1000, 1_000_000_000 - age * 1000))
        old[name] = path
    holder = hold(old["held"] / "site-packages" / zipapp_boot.LOCK_NAME)
    try:
        result = run_pyz(example_pyz, env, "zipapp", "prune", "--keep", "1")
    finally:
        holder.kill()
        holder.wait(timeout=10)
    assert result.returncode == 0, result.stderr
    assert old["newest"].exists(), "the most recent other extraction is kept"
    assert old["held"].exists(), "an extraction in use is never removed"
    assert not old["middle"].exists() and not old["oldest"].exists()
    current = [
        path
        for path in root.iterdir()
        if path.is_dir() and path.name not in {p.name for p in old.values()} and not path.name.startswith(".")
    ]
    assert len(current) == 1 and (current[0] / "site-packages").is_dir()
    assert "2 removed, 3 kept" in result.stdout


@pytest.mark.e2e
def test_a_start_that_loses_the_race_with_prune_extracts_again(example_pyz, tmp_path):
    """The artifact opened its extraction's lock file, but a prune got the
    exclusive lock first and removed the directory: the artifact must not
    run from the deleted tree (ModuleNotFoundError) but extract again."""
    root = tmp_path / "cache"
    env = artifact_env(tmp_path, SHIV_ROOT=root)
    assert run_pyz(example_pyz, env, "zipapp", "extract").returncode == 0  # the extraction
    extraction = next(path for path in root.iterdir() if path.is_dir() and not path.name.startswith("."))
    lock = extraction / "site-packages" / zipapp_boot.LOCK_NAME
    pruner = os.open(lock, os.O_RDONLY)
    fcntl.flock(pruner, fcntl.LOCK_EX)
    starting = subprocess.Popen(
        [sys.executable, str(example_pyz), "zipapp", "extract"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(
            lambda: waiting_for_lock(lock),
            timeout=60,
            message="the artifact waits for its lock",
            process=starting,
        )
        moved = extraction.with_name(f".{extraction.name}.removing")
        os.rename(extraction, moved)  # what the prune does while it holds the lock, then deletes
        shutil.rmtree(moved)
    finally:
        os.close(pruner)
    out, err = starting.communicate(timeout=300)
    assert starting.returncode == 0, err
    assert out == f"extracted: {extraction}\n"
    assert (extraction / "site-packages" / zipapp_boot.RECORD_NAME).is_file(), "extracted again"


def fake_artifact(folder, python, build_id="0123456789abcdef", name="fake.pyz"):
    """A zipapp with the real start-up module and a build record, and
    nothing else: no shiv bootstrap, no packages. Whatever tries to extract
    it or run its entry point fails with a traceback."""
    record = {
        "name": "fake",
        "version": "1.0",
        "build_id": build_id,
        "commit": "c0ffee",
        "python": python,
        "packages": {"Django": "5.2.1"},
    }
    environment = {"build_id": build_id, "entry_point": "fake.__main__:main"}
    path = folder / name
    with path.open("wb") as stream:
        stream.write(f"#!/usr/bin/env python{python}\n".encode())
        with zipfile.ZipFile(stream, "w") as archive:
            archive.writestr("__main__.py", MAIN_PY)
            for name, source in startup_files():
                archive.writestr(name, source)
            archive.writestr("environment.json", json.dumps(environment))
            archive.writestr(f"site-packages/{zipapp_boot.RECORD_NAME}", json.dumps(record))
    return path


def other_minor_version():
    return f"{sys.version_info[0]}.{sys.version_info[1] + 1}"


def test_another_python_is_refused_in_one_line_before_extracting(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    built_for = other_minor_version()
    pyz = fake_artifact(tmp_path, built_for)
    env = clean_environ(SHIV_ROOT=root, HOME=tmp_path)
    for args in (["migrate"], ["version"], ["zipapp", "info"]):
        result = run_pyz(pyz, env, *args)
        assert result.returncode == 2, result
        assert result.stderr == (
            f"fake.pyz: built for Python {built_for}, but this is Python {zipapp_boot.python_version()} "
            f"({sys.executable}); run it with python{built_for} {pyz}\n"
        )
        assert result.stdout == ""
        assert list(root.iterdir()) == [], "something was extracted"


def test_describing_commands_are_answered_by_the_start_up_module(tmp_path):
    """The fake artifact has nothing to extract and no entry point: these
    answers can only come from the start-up module."""
    root = tmp_path / "root"
    pyz = fake_artifact(tmp_path, zipapp_boot.python_version())
    env = clean_environ(SHIV_ROOT=root, HOME=tmp_path)
    result = run_pyz(pyz, env, "version")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "fake 1.0 (build 0123456789abcdef, commit c0ffee, "
        f"built for Python {zipapp_boot.python_version()})\nDjango 5.2.1, Python {sys.version.split()[0]}\n"
    )
    old = root / "fake.pyz_old"
    (old / "site-packages").mkdir(parents=True)
    (old / "site-packages" / "module.py").write_text("x = 1\n" * 1000)
    result = run_pyz(pyz, env, "zipapp", "prune", "--keep", "0")
    assert (result.returncode, result.stdout) == (0, f"removed {old} (0.0 MiB)\n1 removed, 0 kept\n"), result
    assert not old.exists()
    helped = run_pyz(pyz, env, "zipapp", "prune", "--keep", "many")
    assert helped.returncode != 0 and "_bootstrap" in helped.stderr, "anything else goes to the project"


def test_disk_usage_is_what_du_counts(tmp_path):
    """Allocated blocks, directories and links included, a hard-linked file
    once: the number ``du -sk`` prints."""
    tree = tmp_path / "tree"
    (tree / "a" / "b").mkdir(parents=True)
    for size in (0, 1, 4095, 4097, 100_000, 1_000_001):
        (tree / "a" / f"file-{size}").write_bytes(b"x" * size)
    os.link(tree / "a" / "file-100000", tree / "a" / "b" / "hard-link")
    (tree / "a" / "b" / "symlink").symlink_to("../file-1")
    with (tree / "sparse").open("wb") as sparse:
        sparse.seek(10_000_000)
        sparse.write(b"end")
    du = int(
        subprocess.run(["du", "-sk", tree], capture_output=True, text=True, check=True).stdout.split()[0]
    )
    assert -(-zipapp_extractions.disk_usage(tree) // 1024) == du


# The build's time on extracted files ----------------------------------------

EPOCH = 1_700_000_000


def extraction_tree(root):
    """An extraction's site-packages as shiv leaves it: every file with the
    time it was extracted (here, long after the build)."""
    site = root / "app.pyz_0123456789abcdef" / "site-packages"
    (site / "pkg" / "static").mkdir(parents=True)
    for relative in (zipapp_boot.LOCK_NAME, "pkg/__init__.py", "pkg/static/site.0123456789ab.css"):
        (site / relative).write_text("x")
        os.utime(site / relative, (EPOCH + 5000, EPOCH + 5000))
    os.utime(site.parent, (EPOCH + 9000, EPOCH + 9000))
    return site


def file_times(site):
    return {
        path.relative_to(site).as_posix(): path.stat().st_mtime for path in site.rglob("*") if path.is_file()
    }


def test_extracted_files_get_the_builds_time(tmp_path):
    site = extraction_tree(tmp_path)
    zipapp_boot.stamp_build_time(str(site), EPOCH)
    assert set(file_times(site).values()) == {EPOCH}
    # The extraction's own time still says when it was made: prune keeps the recent ones.
    assert site.parent.stat().st_mtime == EPOCH + 9000


def test_a_stamped_extraction_is_left_alone(tmp_path):
    """A start only looks at the lock file, stamped last: a read-only
    extraction, or the next start, writes nothing."""
    site = extraction_tree(tmp_path)
    os.utime(site / zipapp_boot.LOCK_NAME, (EPOCH, EPOCH))
    zipapp_boot.stamp_build_time(str(site), EPOCH)
    assert file_times(site)["pkg/__init__.py"] == EPOCH + 5000


def test_a_stamping_cut_short_is_finished_by_the_next_start(tmp_path, monkeypatch):
    site = extraction_tree(tmp_path)
    utime = os.utime

    def refused_for_the_stylesheet(path, *args, **kwargs):
        if str(path).endswith(".css"):
            raise PermissionError(path)
        return utime(path, *args, **kwargs)

    monkeypatch.setattr(os, "utime", refused_for_the_stylesheet)
    zipapp_boot.stamp_build_time(str(site), EPOCH)  # no exception: served with the times it has
    assert file_times(site)[zipapp_boot.LOCK_NAME] == EPOCH + 5000, "the lock file goes last"
    monkeypatch.setattr(os, "utime", utime)
    zipapp_boot.stamp_build_time(str(site), EPOCH)
    assert set(file_times(site).values()) == {EPOCH}


def test_without_a_build_time_nothing_changes(tmp_path):
    site = extraction_tree(tmp_path)
    zipapp_boot.stamp_build_time(str(site), zipapp_boot.build_epoch({"source_date_epoch": None}))
    assert set(file_times(site).values()) == {EPOCH + 5000}
    assert zipapp_boot.build_epoch({"source_date_epoch": EPOCH}) == EPOCH
    assert zipapp_boot.build_epoch(None) is None


HASHED_CSS = re.compile(r'href="(/static/example_project/site\.[0-9a-f]{12}\.css)"')


@pytest.mark.e2e
def test_static_validators_are_the_same_in_every_extraction(example_pyz, tmp_path, servers):
    """Two extractions of one artifact, a second apart (two hosts, or a
    cache directory cleared), give the hashed stylesheet the same ETag and
    Last-Modified: the build's time, not the extraction's."""
    record = json.loads(example_pyz.with_suffix(".json").read_text())
    env = artifact_env(tmp_path, SHIV_ROOT=tmp_path / "root-a")
    Path(env["STATE_DIR"]).mkdir()
    assert run_pyz(example_pyz, env, "migrate", "--noinput").returncode == 0  # extracts into root-a
    time.sleep(1.1)  # so that extraction times would differ in Last-Modified's whole seconds
    answers = []
    for root in ("root-a", "root-b"):
        env = dict(env, SHIV_ROOT=str(tmp_path / root))
        port = free_port()
        server = servers.start([sys.executable, example_pyz, "gunicorn", "--bind", f"127.0.0.1:{port}"], env)
        base = f"http://127.0.0.1:{port}"
        wait_for_http(f"{base}/", process=server.process)
        stylesheet = HASHED_CSS.search(http_get(f"{base}/")[2].decode()).group(1)
        status, headers, _ = http_get(f"{base}{stylesheet}")
        assert status == 200
        answers.append((stylesheet, headers["ETag"], headers["Last-Modified"]))
        server.stop()
    assert answers[0] == answers[1]
    assert answers[0][2] == formatdate(record["source_date_epoch"], usegmt=True)
