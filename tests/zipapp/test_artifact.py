"""Pruning extractions while processes start from them.

A process holds a shared lock on its extraction's lock file for its whole
life (``extractions.hold_extraction``); pruning removes an extraction only under
the exclusive lock. These tests put a starting process at the worst moment
of a prune and check that it never runs from a removed directory.
"""

import fcntl
import os
import subprocess
import sys
import threading

from django_zipserve.zipapp import extractions as zipapp_extractions
from tests.helpers import wait_until
from tests.zipapp.locks import hold, waiting_for_lock


def make_extraction(root, name, age=0):
    path = root / name
    (path / "site-packages").mkdir(parents=True)
    (path / "site-packages" / zipapp_extractions.LOCK_NAME).write_text("")
    (path / "site-packages" / "module.py").write_text("VALUE = 1\n")
    os.utime(path, (1_000_000_000 - age, 1_000_000_000 - age))
    return path


def lock_file(extraction):
    return extraction / "site-packages" / zipapp_extractions.LOCK_NAME


def test_prune_keeps_an_extraction_a_process_starts_using_after_the_check(tmp_path, monkeypatch):
    """The moment the old prune lost: ``in_use()`` has just said "free",
    and before the directory is removed a process takes its shared lock.
    The process must keep its extraction."""
    root = tmp_path / "cache"
    make_extraction(root, "app.pyz_new")
    target = make_extraction(root, "app.pyz_old", age=1000)
    holders = []
    look = zipapp_extractions.in_use

    def look_then_start_a_holder(extraction):
        found = look(extraction)
        if extraction == str(target) and not found and not holders:
            holders.append(hold(lock_file(target)))  # starts right after the look
        return found

    monkeypatch.setattr(zipapp_extractions, "in_use", look_then_start_a_holder)
    try:
        removed, kept = zipapp_extractions.prune(root, keep=0, name="app.pyz")
        assert holders, "the holder started between the look and the removal"
        assert target.is_dir() and (target / "site-packages" / "module.py").is_file()
        assert [item.path for item in removed] == [str(root / "app.pyz_new")]
        assert [item.path for item in kept] == [str(target)]
    finally:
        for holder in holders:
            holder.kill()
            holder.wait(timeout=10)


def test_prune_removes_free_extractions_whole_and_leaves_nothing_behind(tmp_path):
    root = tmp_path / "cache"
    kept_path = make_extraction(root, "app.pyz_newest")
    free = make_extraction(root, "app.pyz_free", age=100)
    (root / ".app.pyz_free_lock").write_text("")  # shiv's extraction lock
    held = make_extraction(root, "app.pyz_held", age=200)
    holder = hold(lock_file(held))
    try:
        removed, kept = zipapp_extractions.prune(root, keep=1, name="app.pyz")
    finally:
        holder.kill()
        holder.wait(timeout=10)
    assert [item.path for item in removed] == [str(free)]
    assert {item.path for item in kept} == {str(kept_path), str(held)}
    assert sorted(path.name for path in root.iterdir()) == ["app.pyz_held", "app.pyz_newest"]


def test_a_process_that_waited_for_a_removed_extraction_does_not_use_it(tmp_path):
    """A starting process opened the lock file, then a prune took the
    exclusive lock, renamed the extraction away and deleted it. When the
    process gets its shared lock, the extraction is gone: it must say so
    (and extract again) instead of running from the deleted tree."""
    site_packages = make_extraction(tmp_path / "cache", "app.pyz_1") / "site-packages"
    pruner = os.open(lock_file(site_packages.parent), os.O_RDONLY)
    fcntl.flock(pruner, fcntl.LOCK_EX)
    answer = []
    starter = threading.Thread(
        target=lambda: answer.append(zipapp_extractions.hold_extraction(site_packages))
    )
    starter.start()
    try:
        wait_until(
            lambda: waiting_for_lock(lock_file(site_packages.parent)),
            timeout=10,
            message="the starting process waits for the lock",
        )
        moved = site_packages.parent.with_name(".app.pyz_1.removing")
        os.rename(site_packages.parent, moved)
        (moved / "site-packages" / "module.py").unlink()  # half deleted
    finally:
        os.close(pruner)
        starter.join(timeout=10)
    assert answer == [False]


def test_hold_extraction_holds_one_in_place_for_the_life_of_the_process(tmp_path):
    site_packages = make_extraction(tmp_path / "cache", "app.pyz_1") / "site-packages"
    code = (
        "import sys, time; from django_zipserve.zipapp import extractions; "
        "print(extractions.hold_extraction(sys.argv[1]), flush=True); time.sleep(60)"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(site_packages)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout.readline().strip() == "True"
        assert zipapp_extractions.in_use(site_packages.parent)
    finally:
        process.kill()
        process.wait(timeout=10)
    assert not zipapp_extractions.in_use(site_packages.parent), "the lock ends with the process"
    assert zipapp_extractions.hold_extraction(tmp_path / "cache" / "app.pyz_2" / "site-packages") is False
