"""The commands the benchmark drives besides Python: found, installed when
we may, and named with their version in the results."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path


def find_command(name):
    # nginx lives in /usr/sbin, which a non-root PATH often lacks.
    return shutil.which(name) or (f"/usr/sbin/{name}" if Path("/usr/sbin", name).is_file() else None)


def ensure_tool(name, package, required=True):
    """The path of a command, installing its Debian package when it is
    missing and we may (root with apt-get); otherwise say how, and either
    stop or return None."""
    path = find_command(name)
    if path is None and os.geteuid() == 0 and shutil.which("apt-get"):
        apt_install(name, package)
        path = find_command(name)
    if path:
        return path
    message = f"{name} is not installed; install it with: sudo apt-get install {package}"
    if required:
        sys.exit(message)
    print(f"{message} (skipping what needs it)", file=sys.stderr)
    return None


def apt_install(name, package):
    print(f"{name} is missing: apt-get install -y {package}", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = ["apt-get", "install", "-y", "--no-install-recommends", package]
    if subprocess.run(install, env=env, check=False).returncode != 0:
        # A fresh container has no package lists yet.
        subprocess.run(["apt-get", "update"], env=env, check=False)
        subprocess.run(install, env=env, check=False)


def tool_version(argv):
    """'wrk 4.1.0-3+b2', 'nginx 1.22.1'."""
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    found = re.search(r"(\d+\.\d+[\w.+~-]*)", result.stdout + result.stderr)
    return f"{Path(argv[0]).name} {found.group(1) if found else '?'}"
