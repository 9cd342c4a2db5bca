"""Several hosts behind a real HAProxy, driven by the Ansible collection in
ansible/ (docs/deployment.rst, "Several hosts"), for both servers.

Three web hosts and the balancer each run a real systemd in a network
namespace of their own, the database a real PostgreSQL in another
(tests/fleet.py); Ansible reaches them with the nsenter connection. Under
a steady load through the balancer (the home page, the hashed static files
it names, and writes), the test rolls 1.0.0 to 1.0.1 and back for each
server; with one of them (FAILURES_SERVER) it also refuses a corrupt
download, stops at a release that fails its health check, and rolls again
while a host is lost in the middle. The figures of each
scenario are printed (``-s`` shows them) and written to the test's folder.
"""

import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import postgres
from tests.fleet import BALANCER_PORT, Fleet
from tests.helpers import REPO, build_artifact, require_tool, wait_until

pytestmark = pytest.mark.e2e

NAME = "example_project"
ROOT = f"/srv/{NAME}"
SITE_HOST = "site.example"
LOAD_CLIENTS = 4
#: Seconds between the rounds of each client (page, static files, write):
#: about 64 requests a second through the balancer, so a gap of a few tens of
#: milliseconds anywhere meets one. Rounds every 0.1 s made the load itself
#: take a core of the two the test shares with the tox matrix.
LOAD_INTERVAL = 0.25
#: The failure scenarios (a corrupt download, a failing release, a lost
#: host) try Ansible's and HAProxy's handling, the same for both servers:
#: they run once, with this one; both servers are rolled out and back.
FAILURES_SERVER = "pyuwsgi"
PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")
COLLECTIONS = REPO / "ansible"


def fleet_prerequisites():
    require_tool(os.geteuid() == 0, "root (network namespaces and systemd)")
    require_tool(shutil.which("haproxy"), "haproxy (Debian's haproxy package)")
    require_tool(postgres.available(), "PostgreSQL's server (Debian's postgresql package)")
    require_tool(PLAYBOOK.exists(), "ansible-playbook (pip install 'django-zipserve[fleet]')")
    require_tool(os.access("/usr/bin/python3.11", os.X_OK), "/usr/bin/python3.11 (Debian's python3)")


def release(source, folder, version, css=None, settings=None):
    """The example project as ``version``, with its stylesheet or settings changed."""
    project = folder / f"src-{version}" / NAME
    shutil.copytree(
        REPO / "example_project", project, ignore=shutil.ignore_patterns("dist", "static_collected")
    )
    for path in (project / "pyproject.toml", project / NAME / "__init__.py"):
        path.write_text(path.read_text().replace("1.0.0", version))
    if css:
        stylesheet = project / NAME / "static" / NAME / "site.css"
        stylesheet.write_text(stylesheet.read_text() + css)
    if settings:
        with open(project / NAME / "settings.py", "a") as file:
            file.write(settings)
    return build_artifact(project, folder / f"dist-{version}")


def publish(artifact, folder, version, digest=None):
    """Put an artifact where every host downloads it from, with its .sha256."""
    target = folder / f"{NAME}-{version}.pyz"
    shutil.copyfile(artifact, target)
    digest = digest or hashlib.sha256(target.read_bytes()).hexdigest()
    target.with_name(target.name + ".sha256").write_text(f"{digest}  {target.name}\n")
    return target


@pytest.fixture(scope="module")
def releases(tmp_path_factory, example_pyz):
    """1.0.0; 1.0.1 whose stylesheet (so its hashed name) differs; 1.0.2
    that cannot pass its health check (a second database nothing listens for);
    and 1.0.3, a truncated 1.0.1 published with 1.0.1's sha256."""
    fleet_prerequisites()
    folder = tmp_path_factory.mktemp("releases")
    published = folder / "published"
    published.mkdir()
    next_release = release(REPO, folder, "1.0.1", css="\n/* 1.0.1 */\nbody { margin: 0 }\n")
    broken = release(
        REPO,
        folder,
        "1.0.2",
        settings=(
            '\nDATABASES["reports"] = {"ENGINE": "django.db.backends.postgresql", "HOST": "127.0.0.1",'
            ' "PORT": "9", "NAME": "reports", "OPTIONS": {"connect_timeout": 2}}\n'
        ),
    )
    artifacts = {
        "1.0.0": publish(example_pyz, published, "1.0.0"),
        "1.0.1": publish(next_release, published, "1.0.1"),
        "1.0.2": publish(broken, published, "1.0.2"),
    }
    truncated = published / f"{NAME}-1.0.3.pyz"
    whole = artifacts["1.0.1"].read_bytes()
    truncated.write_bytes(whole[: len(whole) // 2])
    truncated.with_name(truncated.name + ".sha256").write_text(
        f"{hashlib.sha256(whole).hexdigest()}  {truncated.name}\n"
    )
    artifacts["1.0.3"] = truncated
    return published, artifacts


class Ansible:
    """ansible-playbook with the collection, against the fleet's inventory."""

    def __init__(self, fleet, workdir, server, base_url):
        self.fleet = fleet
        self.workdir = workdir
        self.base_url = base_url
        self.config = workdir / "ansible.cfg"
        self.config.write_text(
            "[defaults]\n"
            f"collections_path = {COLLECTIONS}\n"
            f"local_tmp = {workdir}/ansible-local\n"
            "remote_tmp = /root/.ansible/tmp\n"
            "forks = 4\n"
            "host_key_checking = False\n"
            "retry_files_enabled = False\n"
        )
        self.group_vars = {
            "zipserve_name": NAME,
            "zipserve_server": server,
            "zipserve_install_python": False,
            "zipserve_install_haproxy": False,
            "zipserve_health_host": SITE_HOST,
            "zipserve_config": {
                "ALLOWED_HOSTS": [SITE_HOST, *fleet.addresses.values()],
                "HTTPS": False,
                "WORKERS": 2,
            },
            "zipserve_credentials": {
                "secret_key": secrets.token_urlsafe(50),
                "database_url": fleet.database.url,
            },
            "zipserve_processes": ["worker"],
        }
        self.runs = 0

    def inventory(self):
        inventory = self.fleet.inventory(**self.group_vars)
        first = next(iter(inventory["all"]["children"]["web"]["hosts"].values()), None)
        if first is not None:
            first["zipserve_timers"] = ["clearsessions"]  # the nightly job on one host
        path = self.workdir / "inventory.json"
        path.write_text(json.dumps(inventory, indent=1))
        return path

    def command(self, playbook, version=None, limit=None, **extra):
        if version is not None:
            extra["zipserve_artifact"] = f"{self.base_url}/{NAME}-{version}.pyz"
        return [
            PLAYBOOK,
            "-i",
            self.inventory(),
            *(["--limit", limit] if limit else []),
            f"django_zipserve.deploy.{playbook}",
            "-e",
            json.dumps(extra),
        ]

    def environment(self):
        return {
            "PATH": f"{Path(sys.executable).parent}:/usr/sbin:/usr/bin:/sbin:/bin",
            "ANSIBLE_CONFIG": str(self.config),
            "ANSIBLE_HOME": str(self.workdir / "ansible-home"),
            "ANSIBLE_NOCOLOR": "1",
            # What an SSH login has, and nsenter passes on: root's home on the
            # host (a private /root in each host here) holds the extraction
            # of the administrator's commands.
            "HOME": "/root",
            "LANG": "C.UTF-8",
        }

    def start(self, playbook, version=None, limit=None, **extra):
        self.runs += 1
        log = open(self.workdir / f"play-{self.runs}-{playbook}.log", "w+")  # noqa: SIM115
        process = subprocess.Popen(
            [str(part) for part in self.command(playbook, version, limit, **extra)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.environment(),
        )
        return process, log

    def play(self, playbook, version=None, timeout=600, **extra):
        process, log = self.start(playbook, version, **extra)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.seek(0)
        output = log.read()
        log.close()
        return process.returncode, output


class Load:
    """tests/fleet_load.py in the balancer's namespace, for one scenario."""

    def __init__(self, fleet, workdir, scenario):
        self.report = workdir / f"load-{scenario}.json"
        self.process = fleet.in_balancer(
            sys.executable,
            "-m",
            "tests.fleet_load",
            f"http://127.0.0.1:{BALANCER_PORT}",
            SITE_HOST,
            self.report,
            "--limit",
            900,
            "--clients",
            LOAD_CLIENTS,
            "--interval",
            LOAD_INTERVAL,
            cwd=REPO,
            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)},
        )
        self.scenario = scenario

    def stop(self):
        self.report.with_name(self.report.name + ".stop").touch()
        self.process.wait(timeout=120)
        return json.loads(self.report.read_text())


def served(fleet):
    """host -> the release its ``current`` points to (None: host lost)."""
    answer = {}
    for name, host in fleet.hosts.items():
        try:
            link = host.run("readlink", f"{ROOT}/current", check=False).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            link = ""
        answer[name] = link.split("/")[-1].split("-")[0] if link else None
    return answer


def live_versions(fleet):
    """host -> the version its live service answers with, over its own address."""
    answer = {}
    for name, address in fleet.addresses.items():
        script = (
            "import json, urllib.request as u; "
            f"r = u.Request('http://{address}:8000/-/health/', headers={{'Host': '{SITE_HOST}'}}); "
            "print(json.load(u.urlopen(r, timeout=5))['version'])"
        )
        result = subprocess.run(
            ["nsenter", f"--net=/run/netns/{fleet.balancer_ns}", sys.executable, "-c", script],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        answer[name] = result.stdout.strip() or None
    return answer


def balancer_state(fleet):
    """server -> HAProxy's operational state, from its runtime API."""
    script = (
        "import socket; s = socket.socket(socket.AF_UNIX); s.connect('/run/haproxy/admin.sock'); "
        "s.sendall(b'show stat\\n'); print(s.makefile().read())"
    )
    output = fleet.balancer.run("python3", "-c", script).stdout
    states = {}
    for line in output.splitlines():
        fields = line.split(",")
        if len(fields) > 17 and fields[0] == NAME and fields[1] not in ("FRONTEND", "BACKEND"):
            states[fields[1]] = fields[17]
    return states


def migrations_run(fleet):
    """host -> how many times a migrate@ unit ran there (Django's migrate
    starts with this line, whether or not there is anything to apply)."""
    counts = {}
    for name, host in fleet.hosts.items():
        journal = host.run(
            "journalctl", "--no-pager", "-o", "cat", "-u", f"{NAME}-migrate@*", check=False
        ).stdout
        counts[name] = journal.count("Operations to perform:")
    return counts


def writes_applied_twice(fleet):
    """The texts the load wrote (each unique) that the database holds twice."""
    rows = fleet.database.sql(
        "SELECT args_kwargs::text FROM django_tasks_database_dbtaskresult GROUP BY 1 HAVING count(*) > 1"
    )
    return rows.splitlines()


def sha256s(fleet):
    return {
        name: host.run("sha256sum", f"{ROOT}/current/{NAME}.pyz").stdout.split()[0]
        for name, host in fleet.hosts.items()
    }


@pytest.fixture(params=["pyuwsgi", "gunicorn"])
def fleet(request, tmp_path):
    fleet_prerequisites()
    fleet = Fleet(tmp_path).up()
    try:
        yield fleet, request.param
    finally:
        for name, host in [*fleet.hosts.items(), ("balancer", fleet.balancer)]:
            if host is not None and host.pid:
                try:
                    steps = [f"{NAME}-prepare@*", f"{NAME}-check@*", f"{NAME}-migrate@*", "haproxy"]
                    selected = [arg for unit in steps for arg in ("-u", unit)]
                    (tmp_path / f"journal-{name}.txt").write_text(
                        host.run("journalctl", "--no-pager", "-o", "with-unit", *selected, check=False).stdout
                        + host.run(
                            "journalctl", "--no-pager", "-n", "300", "-u", f"{NAME}@*", check=False
                        ).stdout
                        + host.run(
                            "systemctl", "status", "--no-pager", "-l", "--all", f"{NAME}*", check=False
                        ).stdout
                    )
                except Exception:  # noqa: BLE001 - a lost host has no journal to read
                    pass
        fleet.close()
        assert fleet.leftovers() == [], "namespaces or processes left behind"


def test_rolling_upgrades_across_three_hosts_behind_haproxy(fleet, releases, tmp_path):
    fleet, server = fleet
    published, artifacts = releases
    base_url = fleet.serve_artifacts(published)
    ansible = Ansible(fleet, tmp_path, server, base_url)
    figures = {}

    code, output = ansible.play("setup", "1.0.0")
    assert code == 0, output[-6000:]
    wait_until(
        lambda: set(balancer_state(fleet).values()) == {"UP"}, timeout=60, message="every host up in HAProxy"
    )
    assert set(served(fleet).values()) == {"1.0.0"}

    def scenario(label, playbook, version=None, during=None, limit=None):
        load = Load(fleet, tmp_path, label)
        time.sleep(2)  # the load is running before the play starts
        process, log = ansible.start(playbook, version, limit)
        if during is not None:
            during(log)
        process.wait(timeout=900)
        time.sleep(2)  # and keeps running after it
        counts = load.stop()
        log.seek(0)
        output = log.read()
        log.close()
        figures[label] = {
            "requests": sum(counts["requests"].values()),
            **counts["requests"],
            "failed": len(counts["failures"]),
        }
        return process.returncode, output, counts

    # 1. Roll 1.0.0 -> 1.0.1 (a new stylesheet: pages name a new hash).
    code, output, counts = scenario("upgrade", "upgrade", "1.0.1")
    assert code == 0, output[-6000:]
    assert counts["failures"] == [], counts["failures"][:10]
    assert set(served(fleet).values()) == {"1.0.1"}
    assert set(live_versions(fleet).values()) == {"1.0.1"}
    assert set(counts["versions"]) == {"1.0.0", "1.0.1"}, counts["versions"]
    assert sorted(migrations_run(fleet).values()) == [0, 0, 2], "1.0.0 and 1.0.1 migrated once each"
    assert len(set(sha256s(fleet).values())) == 1
    assert set(sha256s(fleet).values()) == {hashlib.sha256(artifacts["1.0.1"].read_bytes()).hexdigest()}

    # 2. Which release each host serves, in one command.
    code, output = ansible.play("status")
    assert code == 0, output[-4000:]
    for name in fleet.names:
        assert f"{name}: 1.0.1-" in output, output[-4000:]

    if server == FAILURES_SERVER:
        # 3. A download whose sha256 differs is refused on every host; nothing changes.
        code, output, counts = scenario("corrupt download", "upgrade", "1.0.3")
        assert code != 0
        for name in fleet.names:
            refused = rf"{name}.*arrived with sha256 [0-9a-f]{{64}}, not the published"
            assert re.search(refused, output), output[-6000:]
        assert set(served(fleet).values()) == {"1.0.1"}
        for host in fleet.hosts.values():
            assert not host.run("ls", f"{ROOT}/releases").stdout.count("1.0.3")
            assert host.run("ls", f"{ROOT}/incoming").stdout.count(".part") == 0
        assert counts["failures"] == [], counts["failures"][:10]

        # 4. A release that fails its health check: stopped at the first host.
        code, output, counts = scenario("failing release", "upgrade", "1.0.2")
        assert code != 0
        assert "the rollout stops here" in output, output[-6000:]
        assert set(served(fleet).values()) == {"1.0.1"}, "the first host went back, the others never moved"
        assert set(live_versions(fleet).values()) == {"1.0.1"}
        assert counts["failures"] == [], counts["failures"][:10]
        wait_until(
            lambda: set(balancer_state(fleet).values()) == {"UP"}, timeout=60, message="all back in HAProxy"
        )

    # 5. Roll back every host to 1.0.0.
    code, output, counts = scenario("rollback", "rollback")
    assert code == 0, output[-6000:]
    assert set(served(fleet).values()) == {"1.0.0"}
    assert set(live_versions(fleet).values()) == {"1.0.0"}
    assert counts["failures"] == [], counts["failures"][:10]

    if server == FAILURES_SERVER:
        # 6. Roll again and lose a host (its systemd, SIGKILL) in the middle:
        #    the play names it and stops there (one host per batch: Ansible ends
        #    a play whose whole batch failed); the next host is untouched.
        lost, untouched = fleet.names[1], fleet.names[2]
        killed_at = []

        def kill_after_first_host(log):
            def first_host_done():
                log.seek(0)
                return "Back into the balancer" in log.read()

            wait_until(first_host_done, timeout=600, message="the first host switched")
            killed_at.append(time.time())
            fleet.kill(lost)

        code, output, counts = scenario("host lost", "upgrade", "1.0.1", during=kill_after_first_host)
        # Lost before its turn, the host fails its drain (the balancer has it
        # down already); lost during it, Ansible cannot reach it: either way the
        # recap names it and the rollout stops there.
        assert code != 0, "the play reports the host it lost"
        assert re.search(rf"{lost}\s*:.*(unreachable=1|failed=1)", output), output[-4000:]
        # Reads in flight on the lost host were sent again elsewhere; a write in
        # flight there may have been committed, so it is not: the client gets a
        # 502 (one per client at most, at the moment of the loss), never a
        # write applied twice.
        reads = [failure for failure in counts["failures"] if failure["kind"] != "write"]
        assert reads == [], counts["failures"]
        for failure in counts["failures"]:
            assert failure["status"] == 502 and 0 <= failure["at"] - killed_at[0] < 5, (killed_at, failure)
        assert len(counts["failures"]) <= LOAD_CLIENTS, counts["failures"]
        assert writes_applied_twice(fleet) == [], "a write sent again after its host committed it"
        versions = live_versions(fleet)
        assert versions == {fleet.names[0]: "1.0.1", lost: None, untouched: "1.0.0"}, versions

        # 7. The operator finishes the rollout without the lost host.
        code, output, counts = scenario("finish without the lost host", "upgrade", "1.0.1", limit=f"!{lost}")
        assert code == 0, output[-6000:]
        assert counts["failures"] == [], counts["failures"][:10]
        assert live_versions(fleet) == {fleet.names[0]: "1.0.1", lost: None, untouched: "1.0.1"}

    lines = [f"{server}: {label}: {values}" for label, values in figures.items()]
    (tmp_path / "figures.json").write_text(json.dumps({server: figures}, indent=1))
    print("\n" + "\n".join(lines))


def test_leftovers_are_checked_by_the_fleet():
    """The check the fixture ends with finds a namespace of ours left behind."""
    require_tool(os.geteuid() == 0, "root (network namespaces)")
    fleet = Fleet(Path("/nonexistent"))
    fleet.add_namespace(f"{fleet.prefix}-probe")
    try:
        assert fleet.leftovers() == [f"{fleet.prefix}-probe"]
    finally:
        fleet.close()
    assert fleet.leftovers() == []
