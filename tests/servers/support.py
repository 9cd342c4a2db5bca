"""What the server tests of both servers share beyond ``tests.helpers``."""

import json
import subprocess

from tests.helpers import REPO, http_get, project_command


def served_marker(base):
    """The MARKER the test project's /info/ answers with at ``base``, or
    None while nothing answers there (a server between two masters)."""
    try:
        status, _, body = http_get(f"{base}/info/", timeout=5)
    except OSError:
        return None
    return json.loads(body)["marker"] if status == 200 else None


def run_project(env, *args, timeout=90):
    """Run the test project's entry point with ``args`` to its end; the
    completed process, output captured as text."""
    return subprocess.run(
        project_command(*args),
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
