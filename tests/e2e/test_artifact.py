"""End-to-end: the example project's built zipapp serves itself.

These tests run the very ``.pyz`` that ``make pyz`` built (or build one),
start both servers from it on loopback ports, and send real requests and
real signals.
"""

import json
import re
import signal
import sys

import pytest

from tests.helpers import (
    REPO,
    activated,
    clean_environ,
    free_port,
    http_get,
    run_pyz,
    serve,
    socket_holder,
    wait_for_http,
)

pytestmark = pytest.mark.e2e


def assert_serves_page_and_static(base):
    status, headers, body = http_get(f"{base}/")
    assert status == 200
    page = body.decode()
    assert "Served from one file" in page
    stylesheet = re.search(r'href="(/static/example_project/site\.[0-9a-f]{12}\.css)"', page)
    image = re.search(r'src="(/static/example_project/logo\.[0-9a-f]{12}\.png)"', page)
    assert stylesheet and image, "hashed static names in the page"

    status, headers, body = http_get(f"{base}{stylesheet.group(1)}", headers={"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Content-Type"].startswith("text/css")
    assert headers["Content-Encoding"] == "gzip"
    assert "immutable" in headers["Cache-Control"]
    assert int(re.search(r"max-age=(\d+)", headers["Cache-Control"]).group(1)) >= 365 * 24 * 3600
    assert "Accept-Encoding" in headers["Vary"]

    status, headers, body = http_get(f"{base}{image.group(1)}")
    assert status == 200
    assert headers["Content-Type"] == "image/png"
    assert body.startswith(b"\x89PNG")

    status, headers, body = http_get(f"{base}/-/health/")
    assert status == 200
    assert json.loads(body)["status"] == "ok"


@pytest.mark.parametrize("server", ["pyuwsgi", "gunicorn"])
def test_serves_page_static_and_stops_on_sigterm(servers, site, server):
    process, base = serve(servers, site, server)
    assert_serves_page_and_static(base)
    assert process.stop(signal.SIGTERM) == 0


def test_pyuwsgi_sighup_restarts_from_the_same_pyz(servers, site):
    process, base = serve(servers, site, "pyuwsgi")
    before = http_get(f"{base}/-/health/")[0]
    process.send(signal.SIGHUP)
    process.wait_for_output("binary reloading uWSGI", timeout=60)
    wait_for_http(f"{base}/", process=process.process)
    assert before == 200
    assert_serves_page_and_static(base)
    assert process.stop() == 0


def test_gunicorn_usr2_reexecutes_the_same_pyz(servers, site):
    process, base = serve(servers, site, "gunicorn")
    process.send(signal.SIGUSR2)
    process.wait_for_output("Booting worker", timeout=60, count=4)
    # The old master leaves; the re-executed one, from the same .pyz, serves.
    assert process.stop() == 0
    wait_for_http(f"{base}/", timeout=30)
    assert_serves_page_and_static(base)


def test_gunicorn_config_file_from_the_command_line(servers, site, tmp_path):
    port = free_port()
    conf_file = tmp_path / "gunicorn.conf.py"
    conf_file.write_text(f"bind = ['127.0.0.1:{port}']\nworkers = 1\n")
    command = [sys.executable, site["pyz"], "--config", site["config"], "gunicorn", "-c", conf_file]
    process = servers.start(command, site["env"], cwd=site["cwd"])
    wait_for_http(f"http://127.0.0.1:{port}/", process=process.process)
    assert process.output().count("Booting worker") == 1
    assert "Served from one file" in http_get(f"http://127.0.0.1:{port}/")[2].decode()
    assert process.stop() == 0


@pytest.mark.parametrize("server", ["pyuwsgi", "gunicorn"])
def test_socket_activation(servers, site, server):
    sock = socket_holder()
    port = sock.getsockname()[1]
    command, extra = activated(
        [sys.executable, str(site["pyz"]), "--config", str(site["config"]), server], sock
    )
    process = servers.start(command, site["env"], cwd=site["cwd"], **extra)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/", process=process.process)
        assert_serves_page_and_static(f"http://127.0.0.1:{port}")
        assert process.stop() == 0
    finally:
        sock.close()


def test_configured_bind_is_used_without_arguments(servers, site):
    port = free_port()
    env = dict(site["env"], BIND=f"127.0.0.1:{port}")
    command = [sys.executable, site["pyz"], "--config", site["config"], "pyuwsgi"]
    process = servers.start(command, env, cwd=site["cwd"])
    wait_for_http(f"http://127.0.0.1:{port}/", process=process.process)
    assert process.stop() == 0


@pytest.mark.parametrize("server", ["pyuwsgi", "gunicorn"])
def test_release_that_cannot_reach_its_database_refuses_to_start(site, tmp_path, server):
    """The warm-up request gets 503 from the health view: no server starts."""
    not_a_database = tmp_path / "db.sqlite3"
    not_a_database.mkdir()
    env = dict(site["env"], DATABASE_URL=f"sqlite:///{not_a_database}")
    bind = "--http" if server == "pyuwsgi" else "--bind"
    result = run_pyz(
        site["pyz"], env, "--config", site["config"], server, bind, f"127.0.0.1:{free_port()}", timeout=120
    )
    assert result.returncode == 1
    assert "refusing to start: warm-up request GET /-/health/ answered 503" in result.stderr
    assert "Starting" not in result.stderr and "Listening" not in result.stderr


TEST_FOLDERS = {
    "next to the artifact": None,
    "the repository root": REPO,  # holds a folder named like the package
    "the project's directory": REPO / "example_project",  # holds the package's source
}


@pytest.mark.parametrize("where", TEST_FOLDERS)
def test_the_artifact_runs_its_own_test_suite(example_pyz, shiv_root, tmp_path, where):
    """What CI runs before shipping: the project's tests against the packaged
    code, also from the checkout, where a folder named like the package
    would otherwise be discovered instead of the artifact's code."""
    env = clean_environ(SHIV_ROOT=shiv_root, HOME=tmp_path, DEBUG="true", STATE_DIR=tmp_path / "state")
    result = run_pyz(example_pyz, env, "test", "--noinput", "-v", "2", cwd=TEST_FOLDERS[where])
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Ran 4 tests" in result.stderr
    assert "incorrectly imported" not in result.stderr
    assert (
        f"{shiv_root}"
        in run_pyz(
            example_pyz, env, "shell", "-c", "import example_project; print(example_project.__file__)"
        ).stdout
    )


def test_a_test_run_that_finds_no_test_fails(example_pyz, shiv_root, tmp_path):
    env = clean_environ(SHIV_ROOT=shiv_root, HOME=tmp_path, DEBUG="true", STATE_DIR=tmp_path / "state")
    result = run_pyz(example_pyz, env, "test", "--noinput", "--pattern", "nothing_matches_*.py")
    assert result.returncode == 1
    assert "no tests found in" in result.stderr and "nothing was tested" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_needs_no_configuration_at_all(example_pyz, shiv_root, tmp_path):
    env = clean_environ(SHIV_ROOT=shiv_root, HOME=tmp_path)  # no SECRET_KEY, no file
    result = run_pyz(example_pyz, env, "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "pyuwsgi" in result.stdout and "gunicorn" in result.stdout
    assert "invalid configuration" not in result.stderr


def test_health_names_the_build_that_version_prints(servers, site):
    version = run_pyz(site["pyz"], site["env"], "version").stdout
    build_id = re.search(r"build ([0-9a-f]{16})", version).group(1)
    _, base = serve(servers, site, "gunicorn")
    status, _, body = http_get(f"{base}/-/health/")
    assert status == 200
    assert json.loads(body)["release"]["build_id"] == build_id


def test_the_artifact_runs_its_own_settings_whatever_the_environment_says(site):
    """A DJANGO_SETTINGS_MODULE in the operator's shell (or set by a package
    import, as Celery's Django pattern does) never switches the artifact to
    other settings without a word: its own run, and it says what it ignored;
    --settings runs another, and says so."""
    env = dict(site["env"], DJANGO_SETTINGS_MODULE="example_project.settings_that_do_not_exist")
    result = run_pyz(site["pyz"], env, "--config", site["config"], "config", "check")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("configuration OK")
    assert result.stderr.splitlines() == [
        "django-zipserve: DJANGO_SETTINGS_MODULE=example_project.settings_that_do_not_exist in the "
        "environment is ignored: this artifact runs its own settings, example_project.settings "
        "(--settings MODULE runs another)"
    ]
    asked = run_pyz(
        site["pyz"], site["env"], "--config", site["config"], "check", "--settings", "example_project.nope"
    )
    assert asked.returncode != 0
    assert asked.stderr.splitlines()[0] == (
        "django-zipserve: running the settings example_project.nope (--settings), not this artifact's "
        "own example_project.settings"
    )
