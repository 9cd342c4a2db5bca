"""What every configuration runs on: the virtualenv that mirrors the
artifact, one environment, one migrated SQLite database with a few
greetings, and our WORKERS default as the artifact computes it."""

import json
import os
import re
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from common import HOST, REPO, SECRET_KEY, directory_size, free_port, log, make_venv
from configurations import Installation
from our_defaults import our_server_args
from servers import running
from static_files import MEDIA_FILE, UPLOAD_BYTES

GREETINGS = 10
# A developer's shell may set these; they would change what is measured.
FOREIGN_PREFIXES = ("SHIV_", "DJANGO_", "UWSGI_", "GUNICORN_")
FOREIGN = ("WORKERS", "THREADS", "BIND", "TIMEOUT", "STATIC_FRONT", "DATABASE_URL", "EXAMPLE_PROJECT_CONFIG")


@dataclass(frozen=True)
class Testbed:
    work: Path
    installation: Installation
    artifact_env: dict
    venv_env: dict  # also names the settings module, which the artifact knows itself
    extraction: Path  # the artifact's extraction (shiv's root)

    @property
    def static_root(self):
        return self.extraction / "site-packages" / "example_project" / "static_collected"

    @property
    def media_root(self):
        return self.work / "state" / "media"

    def size(self):
        return {
            "pyz_bytes": Path(self.installation.pyz).stat().st_size,
            "extracted_bytes": directory_size(self.extraction),
        }

    @contextmanager
    def serving(self, configuration):
        """A fresh server of `configuration` on a free port, answering for
        ``/``: (server, base URL)."""
        address = f"{HOST}:{free_port()}"
        env = dict(
            self.artifact_env if configuration.artifact else self.venv_env, **dict(configuration.environment)
        )
        log_path = self.work / f"{configuration.name}.log"
        argv = configuration.argv(self.installation, address)
        with running(argv, env, log_path, configuration.stop_signal) as server:
            server.wait_ready(f"http://{address}/")
            yield server, f"http://{address}"
        # Request logs grow with every request: not kept over the rounds.
        log_path.unlink(missing_ok=True)


def prepare(pyz, venv_dir, work):
    """The test bed in `work`: a virtualenv (in `venv_dir`/venv, reused, or a
    fresh one in `work`), the database, and what the servers need to know."""
    pyz = Path(pyz).resolve()
    venv = virtualenv(Path(venv_dir).resolve() if venv_dir else work, pyz)
    python = str(venv / "bin" / "python")
    (work / "home").mkdir()
    artifact_env = server_env(work)
    venv_env = dict(artifact_env, DJANGO_SETTINGS_MODULE="example_project.settings")
    seed_database(python, str(pyz), artifact_env, venv_env)
    write_upload(work / "state" / "media")
    installation = Installation(
        python=python,
        pyz=str(pyz),
        venv=venv,
        workers=our_workers(python, str(pyz), artifact_env),
        ours=our_server_args(venv, venv_env),
    )
    extraction = next((work / "shiv-root").glob(f"{pyz.name}_*"))
    return Testbed(work, installation, artifact_env, venv_env, extraction)


def virtualenv(parent, pyz):
    venv = parent / "venv"
    if not venv.exists():
        record = json.loads(next(pyz.parent.glob("example_project-*.json")).read_text())
        log("creating a virtualenv with the artifact's package versions…")
        parent.mkdir(parents=True, exist_ok=True)
        venv = make_venv(parent, record)
    for script in ("pyuwsgi", "gunicorn", "example-project"):
        if not (venv / "bin" / script).exists():
            sys.exit(f"{venv} has no bin/{script}: not a virtualenv made by this script; remove it")
    return venv


def server_env(work):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(FOREIGN_PREFIXES) and key not in FOREIGN
    }
    env.update(
        SECRET_KEY=SECRET_KEY,
        HTTPS="false",
        STATE_DIR=str(work / "state"),
        HOME=str(work / "home"),
        SHIV_ROOT=str(work / "shiv-root"),
    )
    return env


def seed_database(python, pyz, artifact_env, venv_env):
    log("migrating and adding greetings…")
    subprocess.run([python, pyz, "migrate", "--noinput", "-v0"], check=True, env=artifact_env)
    code = (
        "import django; django.setup()\n"
        "from example_project.guestbook.models import Greeting\n"
        "Greeting.objects.all().delete()\n"
        "Greeting.objects.bulk_create(\n"
        f"    [Greeting(text=f'Greeting {{i}}') for i in range({GREETINGS})])"
    )
    subprocess.run([python, "-c", code], check=True, env=venv_env)


def write_upload(media_root):
    """A photo as a user would upload it (its bytes do not matter: what is
    served depends on its name and size)."""
    path = media_root / MEDIA_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(os.urandom(UPLOAD_BYTES))


def our_workers(python, pyz, env):
    """Our WORKERS default on this machine, as the artifact reports it."""
    shown = subprocess.run(
        [python, pyz, "config", "show"], check=True, env=env, capture_output=True, text=True
    ).stdout
    return int(re.search(r"^WORKERS\s+(\d+)", shown, re.MULTILINE).group(1))


def time_build(work):
    """Seconds for one `python -m django_zipserve build` of the example
    project, as `make pyz` runs it, into a scratch directory."""
    log("timing a build of the artifact…")
    started = time.monotonic()
    build = [sys.executable, "-m", "django_zipserve", "build", "--quiet", "--require", str(REPO)]
    result = subprocess.run(
        [*build, "--output-dir", str(work / "build-out")],
        cwd=REPO / "example_project",
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        log(f"  build failed ({result.returncode}); not timed:\n{result.stderr[-2000:]}")
        return None
    return round(time.monotonic() - started, 1)
