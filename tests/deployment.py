"""The deployment guide (docs/deployment.rst) as code: an administrator's
steps on a server booted by tests/systemd_host.py, for the end-to-end test
and the soak (bench/soak.py)."""

import json
import re

from tests.helpers import free_port, http_get

#: The interpreter the guide runs the artifact with: the build's version.
PYTHON = "/usr/bin/python3.11"
NAME = "example_project"
ROOT = f"/srv/{NAME}"
CURRENT = f"{ROOT}/current/{NAME}.pyz"


class Site:
    """One server's deployment, driven as an administrator would."""

    def __init__(self, host, server, database=None):
        self.host = host
        self.server = server
        self.database = database
        self.port = free_port()
        self.health = f"http://127.0.0.1:{self.port}/-/health/"

    def run(self, command, check=True, timeout=300):
        """A line of the guide, run by a root shell inside."""
        return self.host.shell(command, check=check, timeout=timeout)

    def copy_artifact(self, pyz):
        """1. Copy the artifact (and its checksum) to the server's /tmp."""
        self.host.put(pyz, f"/tmp/{pyz.name}", mode=0o755)
        checksum = pyz.with_name(pyz.name + ".sha256")
        if checksum.is_file():  # deploy checks it when it is there
            self.host.put(checksum, f"/tmp/{pyz.name}.sha256")
        return f"/tmp/{pyz.name}"

    def configure(self, artifact):
        """2. Configuration without secrets; secrets as credentials."""
        self.run(f"mkdir -p /etc/{NAME}/credentials")
        self.run(f"{PYTHON} {artifact} config template yaml | grep -v SECRET_KEY > /etc/{NAME}/config.yml")
        edited = re.sub(
            r"(?m)^(BIND|HTTPS|WORKERS):.*$",
            lambda match: {
                "BIND": f'BIND: "127.0.0.1:{self.port}"',
                "HTTPS": "HTTPS: false",
                "WORKERS": "WORKERS: 2",
            }[match.group(1)],
            self.host.path(f"/etc/{NAME}/config.yml").read_text(),
        )
        assert "SECRET_KEY" not in edited and f"127.0.0.1:{self.port}" in edited
        self.host.write(f"/etc/{NAME}/config.yml", edited)
        self.run(
            "python3 -c 'import secrets; print(secrets.token_urlsafe(50))' "
            f"> /etc/{NAME}/credentials/secret_key"
        )
        if self.database is not None:
            self.host.write(f"/etc/{NAME}/credentials/database_url", self.database.url + "\n")
        self.run(f"chmod 600 /etc/{NAME}/credentials/*")

    def install(self, artifact):
        """3. Units first (they read BIND from the file), then the release,
        migrated as the service would run it."""
        rendered = self.run(
            f"{PYTHON} {artifact} systemd render --output /etc/systemd/system "
            f"--server {self.server}{' --credential DATABASE_URL' if self.database else ''}"
        )
        self.run("systemctl daemon-reload")
        deployed = self.run(f"{PYTHON} {artifact} deploy --root {ROOT} --migrate")
        return rendered, deployed

    def start(self):
        """4. First start."""
        self.run(f"systemctl enable --now {NAME}.socket")
        self.run(f"systemctl enable --now {NAME}@blue.service", timeout=180)

    def main_pid(self, colour):
        return self.run(f"systemctl show --property=MainPID --value {NAME}@{colour}.service").stdout.strip()

    def active(self, colour):
        return self.run(f"systemctl is-active {NAME}@{colour}.service", check=False).stdout.strip()

    def health_status(self):
        status, _, body = http_get(self.health, timeout=10)
        return status, json.loads(body)
