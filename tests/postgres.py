"""A real PostgreSQL server for the tests: Debian's binaries, a cluster of
its own in a temporary directory, listening on a loopback port, password
authentication over TCP as a deployed site would use it. Stopped and
started again to show what the site does while its database is away."""

import glob
import ipaddress
import os
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.helpers import free_port

#: The server runs as Debian's ``postgres`` user: it refuses to run as root.
USER = "postgres"


def binaries():
    """Debian's PostgreSQL programs (``/usr/lib/postgresql/N/bin``), newest first."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    return Path(found[0]).parent if found else None


def available():
    return binaries() is not None and shutil.which("runuser") is not None


class PostgresServer:
    """``netns`` and ``address``: a database host of several (tests/fleet.py),
    in a network namespace of its own, reached at that address."""

    def __init__(self, netns=None, address="127.0.0.1", port=None):
        self.bin = binaries()
        self.netns = netns
        self.address = address
        self.port = port or free_port()
        # Under /tmp itself: the postgres user must be able to reach it.
        self.home = Path(tempfile.mkdtemp(prefix="zipserve-pg-"))
        self.data = self.home / "data"
        self.password = secrets.token_urlsafe(16)
        self.database = "site"
        shutil.chown(self.home, USER)
        pwfile = self.home / "pw"
        pwfile.write_text(self.password)
        shutil.chown(pwfile, USER)
        self.as_postgres(
            self.bin / "initdb",
            "-D",
            self.data,
            "-U",
            self.database,
            "--pwfile",
            pwfile,
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--no-sync",
        )
        pwfile.unlink()
        if address != "127.0.0.1":
            with open(self.data / "pg_hba.conf", "a") as hba:
                network = ipaddress.ip_network(f"{address}/24", strict=False)
                hba.write(f"host all all {network} scram-sha-256\n")
        self.start()
        self.as_postgres(self.bin / "createdb", "-h", self.home, "-p", self.port, "-U", "site", self.database)

    @property
    def url(self):
        return f"postgres://site:{self.password}@{self.address}:{self.port}/{self.database}"

    def as_postgres(self, *args):
        network = ["nsenter", f"--net=/run/netns/{self.netns}"] if self.netns else []
        result = subprocess.run(
            [*network, "runuser", "-u", USER, "--", *map(str, args)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=self.home,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def start(self):
        options = f"-p {self.port} -k {self.home} -c listen_addresses={self.address} -c fsync=off"
        self.as_postgres(
            self.bin / "pg_ctl", "-D", self.data, "-l", self.home / "log", "-o", options, "-w", "start"
        )

    def stop(self):
        self.as_postgres(self.bin / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")

    def sql(self, statement):
        return self.as_postgres(
            self.bin.parent / "bin" / "psql",
            "-h",
            self.home,
            "-p",
            self.port,
            "-U",
            "site",
            "-d",
            self.database,
            "-v",
            "ON_ERROR_STOP=1",
            "-At",
            "-c",
            statement,
        ).stdout.strip()

    def close(self):
        if (self.data / "postmaster.pid").exists():
            try:
                self.stop()
            except RuntimeError:
                pass
        shutil.rmtree(self.home, ignore_errors=True)


def running_as_root():
    return os.geteuid() == 0
