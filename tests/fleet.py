"""Several hosts on one machine, for the multi-host tests: each web host and
the balancer a real systemd (tests/systemd_host.py) in a network namespace
of its own, the database a real PostgreSQL in another, all on one bridge.

Why not ``systemd-nspawn``: it needs a root file system per host (a
debootstrap of some 300 MB, minutes to make) and a cgroup of its own per
instance in both hierarchies, and leaves entries and cgroups behind.
``SystemdHost`` already boots a real systemd as PID 1 of its own PID and
mount namespaces over this machine's files, with ``/etc`` an overlay and
``/srv``, ``/var/lib``, ``/var/cache``, ``/run`` and ``/tmp`` its own; a
network namespace per host is all a fleet adds. Ansible reaches each host
through the ``community.docker.nsenter`` connection (no sshd), as it would
over SSH.

The addresses are those of the namespaces made here, on a bridge inside the
balancer's namespace: nothing outside this machine's namespaces is ever
reached, and removing the namespaces removes the bridge and every link.
"""

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests import postgres
from tests.systemd_host import SystemdHost

SUBNET = "10.231.0"
BALANCER_ADDRESS = f"{SUBNET}.1"
DATABASE_ADDRESS = f"{SUBNET}.2"
#: Where the balancer's namespace serves the artifacts (the "central location").
ARTIFACT_PORT = 8081
SITE_PORT = 8000
BALANCER_PORT = 80


def ip(*args, check=True):
    return subprocess.run(["ip", *map(str, args)], capture_output=True, text=True, check=check, timeout=30)


def in_namespace(netns):
    """The command prefix that runs a program in ``netns``."""
    return ["nsenter", f"--net=/run/netns/{netns}"]


class Fleet:
    """``size`` web hosts, a balancer host and a database host."""

    def __init__(self, workdir, size=3):
        self.workdir = Path(workdir)
        self.prefix = f"zsf{os.getpid() % 100000}"
        self.balancer_ns = f"{self.prefix}-lb"
        self.names = [f"web{index}" for index in range(1, size + 1)]
        self.addresses = {name: f"{SUBNET}.{10 + index}" for index, name in enumerate(self.names, 1)}
        self.namespaces = []
        self.hosts = {}
        #: Every host booted, lost ones included, for the check that nothing is left.
        self.booted = []
        self.balancer = None
        self.database = None
        self.artifact_server = None

    # Making it ------------------------------------------------------------

    def up(self):
        try:
            self.make_network()
            self.database = postgres.PostgresServer(
                netns=self.member_ns("db"), address=DATABASE_ADDRESS, port=5432
            )
            self.balancer = SystemdHost.boot(self.workdir / "balancer.log", netns=self.balancer_ns)
            self.booted.append(self.balancer)
            for name in self.names:
                self.hosts[name] = SystemdHost.boot(self.workdir / f"{name}.log", netns=self.member_ns(name))
                self.booted.append(self.hosts[name])
        except BaseException:
            self.close()
            raise
        return self

    def member_ns(self, name):
        return f"{self.prefix}-{name}"

    def make_network(self):
        self.add_namespace(self.balancer_ns)
        ip("-n", self.balancer_ns, "link", "add", "br0", "type", "bridge")
        ip("-n", self.balancer_ns, "addr", "add", f"{BALANCER_ADDRESS}/24", "dev", "br0")
        ip("-n", self.balancer_ns, "link", "set", "br0", "up")
        self.attach("db", DATABASE_ADDRESS)
        for name in self.names:
            self.attach(name, self.addresses[name])

    def add_namespace(self, netns):
        ip("netns", "add", netns)
        self.namespaces.append(netns)
        ip("-n", netns, "link", "set", "lo", "up")

    def attach(self, name, address):
        """A member namespace with ``eth0`` on the balancer's bridge."""
        netns = self.member_ns(name)
        self.add_namespace(netns)
        ip(
            "-n",
            self.balancer_ns,
            "link",
            "add",
            f"v-{name}",
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "netns",
            netns,
        )
        ip("-n", self.balancer_ns, "link", "set", f"v-{name}", "master", "br0", "up")
        ip("-n", netns, "addr", "add", f"{address}/24", "dev", "eth0")
        ip("-n", netns, "link", "set", "eth0", "up")

    def serve_artifacts(self, folder):
        """An HTTP server for ``folder`` in the balancer's namespace: the
        central location every host downloads the artifact from."""
        self.artifact_server = subprocess.Popen(
            [
                *in_namespace(self.balancer_ns),
                sys.executable,
                "-m",
                "http.server",
                "--bind",
                BALANCER_ADDRESS,
                "--directory",
                str(folder),
                str(ARTIFACT_PORT),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return f"http://{BALANCER_ADDRESS}:{ARTIFACT_PORT}"

    # Using it -------------------------------------------------------------

    def inventory(self, **group_vars):
        """An Ansible inventory (YAML as JSON) reaching every host with nsenter."""
        connection = {
            "ansible_connection": "community.docker.nsenter",
            "ansible_python_interpreter": "/usr/bin/python3",
        }
        web = {
            name: {
                **connection,
                "ansible_nsenter_pid": host.pid,
                "zipserve_bind": f"{self.addresses[name]}:{SITE_PORT}",
            }
            for name, host in self.hosts.items()
            if host is not None
        }
        return {
            "all": {
                "vars": group_vars,
                "children": {
                    "web": {"hosts": web},
                    "balancer": {
                        "hosts": {
                            "lb": {
                                **connection,
                                "ansible_nsenter_pid": self.balancer.pid,
                                "zipserve_balancer_bind": f"*:{BALANCER_PORT}",
                            }
                        }
                    },
                },
            }
        }

    def in_balancer(self, *args, **kwargs):
        """Start a program in the balancer's namespace (the clients)."""
        return subprocess.Popen([*in_namespace(self.balancer_ns), *map(str, args)], **kwargs)

    def kill(self, name):
        """Lose a host at once: SIGKILL to its systemd ends every process in it."""
        self.hosts[name].close()

    # Removing it ----------------------------------------------------------

    def close(self):
        if self.artifact_server is not None:
            self.artifact_server.send_signal(signal.SIGTERM)
            self.artifact_server.wait(timeout=30)
        for host in [*self.hosts.values(), self.balancer]:
            if host is not None:
                host.close()
        if self.database is not None:
            self.database.close()
        for netns in reversed(self.namespaces):
            ip("netns", "del", netns, check=False)
        self.namespaces = []

    def leftovers(self):
        """What the fleet left behind: namespaces, processes in them, the
        hosts' cgroups."""
        listed = ip("netns", "list", check=False).stdout
        names = [line.split()[0] for line in listed.splitlines() if line.startswith(self.prefix)]
        cgroups = [home for host in self.booted for home in host.cgroups if os.path.exists(home)]
        return names + processes_in_namespaces_named(self.prefix) + cgroups


def processes_in_namespaces_named(prefix):
    """Processes whose network namespace is one of ours (by its mount under /run/netns)."""
    ours = set()
    for entry in Path("/run/netns").glob(f"{prefix}-*"):
        try:
            ours.add(os.stat(entry).st_ino)
        except OSError:
            pass
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if os.stat(proc / "ns" / "net").st_ino in ours:
                found.append(f"process {proc.name}")
        except OSError:
            continue
    return found
