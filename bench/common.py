"""What the benchmark scripts share: where things are, the settings every
server gets, the virtualenv that mirrors the artifact, ports and sizes."""

import os
import socket
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
HOST = "127.0.0.1"
SECRET_KEY = "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEF"


def log(message):
    print(message, flush=True)


def free_port():
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def make_venv(work, record):
    """A virtualenv with the same project and the same package versions."""
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pins = [
        f"{name}=={version}"
        for name, version in record["packages"].items()
        if name not in ("django-zipserve", "example-project")
    ]
    projects = [str(REPO), str(REPO / "example_project")]
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *pins, *projects], check=True
    )
    env = dict(os.environ, DJANGO_ZIPSERVE_BUILD="1")
    subprocess.run(
        [str(venv / "bin" / "example-project"), "collectstatic", "--noinput", "-v0"], check=True, env=env
    )
    return venv


def directory_size(path):
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file() and not f.is_symlink())
