"""Fixtures: real server processes on loopback ports, a built zipapp, a
configured site.

Every server started here is stopped at the end of its test, its whole
process group killed if it does not stop by itself. Every wait is bounded.
No fixture leaves ``os.environ`` changed.
"""

import os
import shutil
from pathlib import Path
from unittest import mock

import pytest

from tests.helpers import (
    EXAMPLE_VALUES,
    REPO,
    TEST_SECRET_KEY,
    ServerProcess,
    build_artifact,
    clean_environ,
    run_pyz,
    write_site_config,
)


@pytest.fixture
def project_env(tmp_path):
    """Environment for the test project: a valid production configuration."""
    (tmp_path / "home").mkdir()
    return clean_environ(
        SECRET_KEY=TEST_SECRET_KEY,
        HTTPS="false",
        STATE_DIR=tmp_path / "state",
        WORKERS=2,
        PYTHONPATH=REPO,
        PYTHONUNBUFFERED=1,
        HOME=tmp_path / "home",
    )


@pytest.fixture
def servers(tmp_path):
    """Start servers with ``servers.start(command, env)``; all stopped at the end."""
    started = []

    class Starter:
        def start(self, command, env, cwd=None, **kwargs):
            log = tmp_path / f"server-{len(started)}.log"
            server = ServerProcess(command, env, cwd or REPO, log, **kwargs)
            started.append(server)
            return server

    yield Starter()
    for server in started:
        server.close()


@pytest.fixture(scope="session")
def shiv_root(tmp_path_factory):
    return tmp_path_factory.mktemp("shiv-root")


@pytest.fixture(scope="session")
def example_pyz(tmp_path_factory):
    """The example project's zipapp: the one ``make pyz`` built when
    ZIPSERVE_TEST_PYZ names it, else built here."""
    given = os.environ.get("ZIPSERVE_TEST_PYZ")
    if given:
        path = Path(given).resolve()
        assert path.is_file(), f"ZIPSERVE_TEST_PYZ names a missing file: {path}"
        return path
    return build_artifact(REPO / "example_project", tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="session")
def example_pyz_next(tmp_path_factory):
    """A different artifact: the example project as version 1.0.1."""
    source = tmp_path_factory.mktemp("next") / "example_project"
    shutil.copytree(
        REPO / "example_project", source, ignore=shutil.ignore_patterns("dist", "static_collected")
    )
    for path in (source / "pyproject.toml", source / "example_project" / "__init__.py"):
        path.write_text(path.read_text().replace("1.0.0", "1.0.1"))
    return build_artifact(source, source.parent / "dist")


@pytest.fixture(scope="session")
def django_project(tmp_path_factory):
    """Django set up in this process with the test project's settings.

    The configuration is read once, while the settings load; the
    environment it was read from is restored right after."""
    import django
    from django.conf import settings

    state = tmp_path_factory.mktemp("state")
    environ = {
        "SECRET_KEY": TEST_SECRET_KEY,
        "HTTPS": "false",
        "STATE_DIR": str(state),
        "DJANGO_SETTINGS_MODULE": "tests.testproject.settings",
    }
    with mock.patch.dict(os.environ, environ):
        django.setup()
        settings.INSTALLED_APPS  # noqa: B018 - loads the settings while the environment holds
    return settings


@pytest.fixture
def site(tmp_path, shiv_root, example_pyz):
    """A config file, an environment and a migrated database for the artifact."""
    config = write_site_config(tmp_path / "example.yml", tmp_path / "state", **EXAMPLE_VALUES)
    env = clean_environ(SHIV_ROOT=shiv_root, HOME=tmp_path, PYTHONUNBUFFERED=1)
    migrate = run_pyz(example_pyz, env, "--config", config, "migrate", "--noinput")
    assert migrate.returncode == 0, migrate.stderr
    return {"pyz": example_pyz, "config": config, "env": env, "cwd": tmp_path}
