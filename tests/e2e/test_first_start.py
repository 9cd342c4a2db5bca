"""Four processes start the same fresh ``.pyz`` at the same moment: shiv's
lock lets exactly one extract, and all of them run.
"""

import json
import shutil
import subprocess
import sys
import zipfile

import pytest

from tests.helpers import (
    bind_args,
    clean_environ,
    free_port,
    request_once,
    wait_for_http,
)


def build_id_of(pyz):
    with zipfile.ZipFile(pyz) as archive:
        return json.loads(archive.read("environment.json"))["build_id"]


@pytest.mark.e2e
def test_concurrent_first_starts_extract_once(tmp_path, example_pyz, artifact_site, servers):
    """A copy of the artifact, an empty SHIV_ROOT, four ``version`` runs
    started together: all succeed, the extraction's lock lets exactly one of
    them extract, nothing half-written is left, and the result serves the site."""
    pyz = tmp_path / example_pyz.name
    shutil.copyfile(example_pyz, pyz)
    root = tmp_path / "shiv-root"
    root.mkdir()
    env = clean_environ(SHIV_ROOT=root, HOME=tmp_path, PYTHONUNBUFFERED=1)
    build_id = build_id_of(pyz)

    starts = [
        subprocess.Popen(
            [sys.executable, str(pyz), "zipapp", "extract"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outcomes = []
    try:
        for start in starts:
            out, err = start.communicate(timeout=180)
            outcomes.append((start.returncode, out, err))
    finally:
        for start in starts:
            if start.poll() is None:
                start.kill()
                start.wait(timeout=10)
    for returncode, out, err in outcomes:
        assert returncode == 0, err[-3000:]
        assert "Traceback" not in err
        assert out == f"extracted: {root / f'{pyz.name}_{build_id}'}\n", out

    extraction = f"{pyz.name}_{build_id}"
    entries = sorted(path.name for path in root.iterdir())
    directories = sorted(path.name for path in root.iterdir() if path.is_dir())
    assert directories == [".zipserve-store", extraction], f"extractions under SHIV_ROOT: {entries}"
    assert not [name for name in entries if ".extracting" in name], f"leftovers of an extraction: {entries}"
    assert not list((root / ".zipserve-store").rglob("*.partial")), "leftovers in the store"
    assert (root / extraction / "site-packages" / "example_project" / "__init__.py").is_file()

    # The extraction they raced for serves the site.
    port = free_port()
    command = [sys.executable, pyz, "--config", artifact_site.config, "pyuwsgi", *bind_args("pyuwsgi", port)]
    process = servers.start(command, env, cwd=tmp_path)
    wait_for_http(f"http://127.0.0.1:{port}/", process=process.process)
    status, body = request_once(port, "/", 10)
    assert status == 200 and b"Served from one file" in body
    assert process.stop() == 0, process.output()[-3000:]
    assert sorted(path.name for path in root.iterdir() if path.is_dir()) == [".zipserve-store", extraction]
