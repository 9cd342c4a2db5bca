"""The deployment guide (docs/deployment.rst), step by step, under a real
systemd with a real PostgreSQL, for both servers.

Each server gets a systemd of its own (tests/systemd_host.py): the units run
with DynamicUser, the whole sandbox, LoadCredential, CacheDirectory and
StateDirectory and Type=notify in force. Commands run inside as the guide
writes them; the site's database is a PostgreSQL server whose URL is a
credential. Every switch happens under a steady load that counts failures.
"""

import os
import time

import pytest

from tests import postgres
from tests.deployment import CURRENT, NAME, PYTHON, ROOT, Site
from tests.helpers import http_get, require_tool, wait_until
from tests.load import Load
from tests.systemd_host import SystemdHost

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def database_server():
    require_tool(postgres.available(), "PostgreSQL's server (Debian's postgresql package) is not installed")
    server = postgres.PostgresServer()
    yield server
    server.close()


@pytest.fixture(params=["pyuwsgi", "gunicorn"])
def site(request, tmp_path, database_server):
    require_tool(os.access(PYTHON, os.X_OK), f"{PYTHON} (Debian's python3 package) is not installed")
    database_server.sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    host = SystemdHost.boot(tmp_path / "systemd.log")
    site = Site(host, request.param, database_server)
    try:
        yield site
    finally:
        (tmp_path / "journal.txt").write_text(host.journal(f"{NAME}@*", lines=2000))
        host.close()


def test_the_deployment_guide_under_real_systemd_and_postgresql(site, example_pyz, example_pyz_next):
    first = site.copy_artifact(example_pyz)
    site.configure(first)
    rendered, deployed = site.install(first)

    # render read BIND from the file, with no secret in this shell.
    socket_unit = site.host.path(f"/etc/systemd/system/{NAME}.socket").read_text()
    assert f"\nListenStream=127.0.0.1:{site.port}\n" in socket_unit, rendered.stderr
    # deploy --migrate ran the migrations as the service, before current moved.
    assert f"systemctl start {NAME}-prepare@1.0.0-" in deployed.stdout
    assert f"systemctl start {NAME}-check@1.0.0-" in deployed.stdout
    assert f"systemctl start {NAME}-migrate@1.0.0-" in deployed.stdout
    assert "current -> releases/1.0.0-" in deployed.stdout
    assert site.database.sql("SELECT count(*) FROM django_migrations") != "0"

    site.start()
    status, health = site.health_status()
    assert status == 200, health
    assert (health["version"], health["instance"]) == ("1.0.0", "blue")
    service = site.run(f"systemctl show {NAME}@blue.service --property=User,DynamicUser,Type").stdout
    assert "DynamicUser=yes" in service and f"User={NAME}" in service and "Type=notify" in service

    assert http_get(f"http://127.0.0.1:{site.port}/", timeout=10)[0] == 200

    with Load(site.health) as load:
        load.serve(100)
        # 5. Upgrade to a different artifact: prepared and migrated first.
        upgrade = site.run(
            f"{PYTHON} {site.copy_artifact(example_pyz_next)} deploy --root {ROOT} --migrate --switch"
        )
        upgraded_at = time.monotonic()
        load.serve(100)
        # systemctl reload (SIGHUP) and restart of the live colour.
        site.run(f"systemctl reload {NAME}@green.service")
        load.serve(100)
        site.run(f"systemctl restart {NAME}@green.service", timeout=180)
        load.serve(100)
        # 6. Rollback.
        rollback = site.run(f"{CURRENT} rollback --root {ROOT} --switch")
        rolled_back_at = time.monotonic()
        load.serve(100)
    assert "switched blue -> green" in upgrade.stdout, upgrade.stdout
    assert "switched green -> blue" in rollback.stdout, rollback.stdout
    assert load.failures() == [], load.failures()
    assert load.versions_after(upgraded_at + 0.5) >= {"1.0.1"}
    assert load.versions_after(rolled_back_at + 0.5) == {"1.0.0"}

    # A migration that fails stops the deploy: current and the live colour stay.
    site.database.sql("DELETE FROM django_migrations WHERE app = 'sessions'")
    failed = site.run(
        f"{PYTHON} /tmp/{example_pyz_next.name} deploy --root {ROOT} --migrate --switch", check=False
    )
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "deploy stopped, current and the live colour are unchanged" in failed.stderr
    assert "already exists" in failed.stderr, "the migration's own error, from the journal"
    assert "deploy stopped" in failed.stderr.strip().splitlines()[-1], "the report ends in one sentence"
    assert site.run(f"readlink {ROOT}/current").stdout.strip().startswith("releases/1.0.0-")
    site.database.sql(
        "INSERT INTO django_migrations (app, name, applied) SELECT 'sessions', '0001_initial', now()"
    )
    assert site.health_status()[1]["version"] == "1.0.0"

    # The database goes away: health says 503, the service keeps running,
    # and a release started meanwhile never takes traffic.
    pid = site.main_pid("blue")
    live_release = site.run(f"readlink {ROOT}/current").stdout.strip()
    site.database.stop()
    try:
        wait_until(lambda: site.health_status()[0] == 503, timeout=30, message="503 with the database down")
        refused = site.run(f"{CURRENT} rollback --root {ROOT} --switch", check=False, timeout=240)
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert "switch failed, the live colour keeps serving" in refused.stderr
        assert (site.active("blue"), site.active("green")) == ("active", "inactive")
    finally:
        site.database.start()
    wait_until(lambda: site.health_status()[0] == 200, timeout=30, message="200 with the database back")
    assert site.main_pid("blue") == pid, "recovered without a restart"

    # 7. Logs: the journal has the servers' own lines.
    info = site.run(f"SHIV_ROOT=/var/cache/{NAME} {CURRENT} zipapp info").stdout
    # The live release is current again after the refused rollback: "(current, in use)".
    assert f"{NAME}.pyz_" in info and "in use)" in info, info
    current = site.run(f"readlink {ROOT}/current").stdout.strip()
    assert current == live_release, "current went back to the live release"
    journal = site.host.journal(f"{NAME}@*")
    assert journal.strip(), "journalctl shows the services' output"
    assert "warm-up" in journal.lower() or "ready" in journal.lower(), journal[-2000:]
