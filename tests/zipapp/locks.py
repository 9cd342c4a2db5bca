"""Helpers for the tests of the extraction lock (boot and artifact)."""

import os
import re
import subprocess
import sys

#: A process that takes the shared lock the way a starting artifact does,
#: says so, and keeps it until killed.
HOLDER = (
    "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDONLY); "
    "fcntl.flock(fd, fcntl.LOCK_SH); print('held', flush=True); time.sleep(60)"
)


def hold(lock_file):
    """Start a process that holds a shared lock on ``lock_file``; returns it
    once it holds the lock (kill it to let go)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lock_file)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "held"
    return holder


def waiting_for_lock(path):
    """True when some process waits for a lock on ``path`` (/proc/locks shows
    a blocked request as ``->``)."""
    inode = os.stat(path).st_ino
    pattern = re.compile(rf"^\d+: -> FLOCK\s.*:{inode} ", re.MULTILINE)
    with open("/proc/locks") as locks:
        return bool(pattern.search(locks.read()))
