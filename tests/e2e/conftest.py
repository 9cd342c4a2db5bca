"""Shared by the end-to-end fault tests: one migrated site, run from the built
``.pyz``, and each server started from it with its default configuration."""

import shutil
import sys
from types import SimpleNamespace

import pytest

from tests.helpers import (
    EXAMPLE_VALUES,
    SERVERS,
    ServerProcess,
    bind_args,
    clean_environ,
    free_port,
    run_pyz,
    wait_for_http,
    write_site_config,
)


@pytest.fixture(scope="module")
def artifact_site(tmp_path_factory, shiv_root, example_pyz):
    """A directory as an operator would have it: the .pyz and example.yml side
    by side (the servers' working directory), state elsewhere, migrated."""
    home = tmp_path_factory.mktemp("site")
    pyz = home / example_pyz.name
    shutil.copyfile(example_pyz, pyz)
    config = write_site_config(home / "example.yml", home / "state", **EXAMPLE_VALUES)
    env = clean_environ(SHIV_ROOT=shiv_root, HOME=home, PYTHONUNBUFFERED=1)
    migrate = run_pyz(pyz, env, "--config", config, "migrate", "--noinput", cwd=home)
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    return SimpleNamespace(pyz=pyz, config=config, env=env, cwd=home)


@pytest.fixture(scope="module", params=SERVERS)
def artifact_server(request, artifact_site, tmp_path_factory):
    """Each server with its default configuration, started from the artifact:
    only the bind address is given (``--http`` / ``--bind``)."""
    name = request.param
    port = free_port()
    log = tmp_path_factory.mktemp(f"log-{name}") / "server.log"
    command = [
        sys.executable,
        artifact_site.pyz,
        "--config",
        artifact_site.config,
        name,
        *bind_args(name, port),
    ]
    process = ServerProcess(command, artifact_site.env, artifact_site.cwd, log)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/-/health/", process=process.process)
        yield SimpleNamespace(name=name, port=port, process=process, site=artifact_site)
    finally:
        process.close()
