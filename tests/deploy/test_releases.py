"""Release folders, the atomic ``current`` link, rollback, and the commands."""

import json
import os
import threading
import zipfile

import pytest

from django_zipserve.deploy.releases import ReleaseError, ReleaseStore, read_record
from tests.helpers import clean_environ, run_project, run_pyz


def fake_artifact(tmp_path, version, build_id):
    path = tmp_path / f"app-{version}.pyz"
    path.write_bytes(f"#!/usr/bin/env python3\nversion {version}\n".encode())
    return path, {"version": version, "build_id": build_id, "commit": "abc"}


def test_install_and_activate(tmp_path):
    store = ReleaseStore(tmp_path / "srv", "app")
    artifact, record = fake_artifact(tmp_path, "1.0", "aaaa")
    release_id = store.install(artifact, record)
    assert release_id == "1.0-aaaa"
    assert store.artifact_of(release_id).read_bytes() == artifact.read_bytes()
    assert os.access(store.artifact_of(release_id), os.X_OK)
    assert store.activate(release_id) is None
    assert os.readlink(tmp_path / "srv" / "current") == "releases/1.0-aaaa"
    assert store.install(artifact, record) == release_id, "installing twice is a no-op"


def test_checksum_mismatch_is_refused(tmp_path):
    store = ReleaseStore(tmp_path / "srv", "app")
    artifact, record = fake_artifact(tmp_path, "1.0", "aaaa")
    artifact.with_name(artifact.name + ".sha256").write_text("0" * 64 + f"  {artifact.name}\n")
    with pytest.raises(ReleaseError, match="does not match its .sha256"):
        store.install(artifact, record)
    assert not (tmp_path / "srv" / "releases" / "1.0-aaaa").exists()


def test_stage_installs_and_prepares_without_moving_current(tmp_path):
    store = ReleaseStore(tmp_path / "srv", "app")
    store.activate(store.install(*fake_artifact(tmp_path, "1.0", "aaaa")))
    prepared = []
    assert store.stage(*fake_artifact(tmp_path, "1.1", "bbbb"), prepare=prepared.append) == "1.1-bbbb"
    assert prepared == ["1.1-bbbb"]
    assert store.artifact_of("1.1-bbbb").is_file()
    assert store.current_id() == "1.0-aaaa", "current stays until the host's turn"
    assert store.history() == ["1.0-aaaa"]


def test_a_failed_preparation_leaves_current_alone(tmp_path):
    store = ReleaseStore(tmp_path / "srv", "app")
    store.activate(store.install(*fake_artifact(tmp_path, "1.0", "aaaa")))

    def fail(release_id):
        raise ReleaseError(f"{release_id} failed its checks")

    with pytest.raises(ReleaseError, match="1.1-bbbb failed"):
        store.stage(*fake_artifact(tmp_path, "1.1", "bbbb"), prepare=fail)
    assert store.current_id() == "1.0-aaaa"


def test_restore_undoes_an_activation_without_a_trace_in_the_history(tmp_path):
    """After a failed switch: current back at the live release, and a later
    rollback goes to the release before it, not to the one that failed."""
    store = ReleaseStore(tmp_path / "srv", "app")
    for version, build in (("1.0", "aaaa"), ("1.1", "bbbb")):
        store.activate(store.install(*fake_artifact(tmp_path, version, build)))
    live = store.activate(store.install(*fake_artifact(tmp_path, "1.2", "cccc")))
    store.restore(live)
    assert store.current_id() == "1.1-bbbb"
    assert store.history() == ["1.0-aaaa", "1.1-bbbb"]
    assert store.rollback() == "1.0-aaaa"


def test_rollback_returns_to_the_previous_release(tmp_path):
    store = ReleaseStore(tmp_path / "srv", "app")
    for version, build in (("1.0", "aaaa"), ("1.1", "bbbb")):
        store.activate(store.install(*fake_artifact(tmp_path, version, build)))
    assert store.current_id() == "1.1-bbbb"
    assert store.rollback() == "1.0-aaaa"
    assert store.current_id() == "1.0-aaaa"
    assert store.rollback() == "1.1-bbbb", "a second rollback undoes the first"


def test_rollback_without_history_is_an_error(tmp_path):
    store = ReleaseStore(tmp_path / "srv", "app")
    store.activate(store.install(*fake_artifact(tmp_path, "1.0", "aaaa")))
    with pytest.raises(ReleaseError, match="no previous release"):
        store.rollback()


def test_prune_keeps_newest_current_and_previous(tmp_path):
    store = ReleaseStore(tmp_path / "srv", "app")
    ids = []
    for number in range(5):
        ids.append(store.install(*fake_artifact(tmp_path, f"1.{number}", f"b{number}")))
    store.activate(ids[0])
    store.activate(ids[1])
    removed = store.prune(keep=2)
    remaining = {release.id for release in store.list()}
    assert remaining == {ids[4], ids[3], ids[1], ids[0]}, "newest two, current and previous"
    assert removed == [ids[2]]


def test_current_link_never_disappears_while_switching(tmp_path):
    """A reader resolving ``current`` in a loop always finds a release."""
    store = ReleaseStore(tmp_path / "srv", "app")
    ids = [store.install(*fake_artifact(tmp_path, f"1.{n}", f"c{n}")) for n in range(2)]
    store.activate(ids[0])
    missing = []
    stop = threading.Event()

    def reader():
        for _ in range(200_000):
            if stop.is_set():
                return
            if not (tmp_path / "srv" / "current" / "app.pyz").is_file():
                missing.append(1)

    thread = threading.Thread(target=reader)
    thread.start()
    for number in range(300):
        store.activate(ids[number % 2])
    stop.set()
    thread.join(timeout=30)
    assert missing == []


def test_default_root_is_srv_name():
    assert ReleaseStore(None, "app").root == ReleaseStore("/srv/app", "app").root
    assert str(ReleaseStore(None, "app").current_artifact) == "/srv/app/current/app.pyz"


def test_deploy_installs_activates_and_prunes(tmp_path):
    store = ReleaseStore(tmp_path / "srv", "app")
    first = store.deploy(*fake_artifact(tmp_path, "1.0", "aaaa"), keep=1)
    assert (first.release_id, first.previous, first.removed) == ("1.0-aaaa", None, [])
    second = store.deploy(*fake_artifact(tmp_path, "1.1", "bbbb"), keep=1)
    assert (second.release_id, second.previous) == ("1.1-bbbb", "1.0-aaaa")
    assert store.current_id() == "1.1-bbbb"


def test_deploy_refuses_what_is_not_an_artifact_and_a_root_it_cannot_write(tmp_path):
    not_an_artifact = tmp_path / "notes.txt"
    not_an_artifact.write_text("hello\n")
    assert read_record(not_an_artifact) is None
    with pytest.raises(ReleaseError, match="is not an artifact built by django-zipserve"):
        ReleaseStore(tmp_path / "srv", "app").deploy(not_an_artifact, read_record(not_an_artifact), keep=5)
    blocked = tmp_path / "file"
    blocked.write_text("")  # nothing can be created below a regular file, whoever runs the test
    with pytest.raises(ReleaseError, match="cannot deploy .* into .*/file/srv"):
        ReleaseStore(blocked / "srv", "app").deploy(*fake_artifact(tmp_path, "1.0", "aaaa"), keep=5)


def test_read_record_reads_the_build_record_inside_an_artifact(tmp_path):
    path = tmp_path / "app.pyz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("site-packages/zipserve_build.json", json.dumps({"version": "3.0", "build_id": "x"}))
    assert read_record(path) == {"version": "3.0", "build_id": "x"}


def test_commands_report_release_errors_in_one_line(tmp_path, project_env):
    """A ReleaseError is the operator's message: no traceback, non-zero."""
    root = tmp_path / "srv" / "app"
    not_an_artifact = tmp_path / "notes.txt"
    not_an_artifact.write_text("hello\n")
    deployed = run_project(project_env, "deploy", not_an_artifact, "--root", root, "--name", "app")
    assert deployed.returncode == 1
    assert f"{not_an_artifact} is not an artifact built by django-zipserve" in deployed.stderr
    rolled_back = run_project(project_env, "rollback", "--root", root, "--name", "app")
    assert rolled_back.returncode == 1
    assert "there is no previous release to roll back to" in rolled_back.stderr
    for result in (deployed, rolled_back):
        assert "Traceback" not in result.stderr


@pytest.mark.e2e
def test_deploy_releases_rollback_commands(example_pyz, tmp_path, shiv_root):
    env = clean_environ(SHIV_ROOT=shiv_root, HOME=tmp_path)
    root = tmp_path / "srv" / "example"

    def run(*args):
        return run_pyz(example_pyz, env, *args, "--root", root, "--name", "example")

    deployed = run("deploy")
    assert deployed.returncode == 0, deployed.stderr
    record = json.loads(example_pyz.with_suffix(".json").read_text())
    release_id = f"{record['version']}-{record['build_id']}"
    assert f"current -> releases/{release_id}" in deployed.stdout
    installed = root / "current" / "example.pyz"
    assert installed.read_bytes() == example_pyz.read_bytes()
    listing = run("releases")
    assert listing.returncode == 0 and f"* {release_id}" in listing.stdout
    failed = run("rollback")
    assert failed.returncode != 0 and "no previous release" in failed.stderr
    assert "Traceback" not in failed.stderr
    switching = run("deploy", "--stage", "--switch")
    assert switching.returncode == 1 and "leave out --switch" in switching.stderr
    assert "Traceback" not in switching.stderr
