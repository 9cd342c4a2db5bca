"""The deployment guide (docs/deployment.rst) as code: an administrator's
steps on a server booted by tests/systemd_host.py, for the end-to-end test
and the soak (bench/soak.py)."""

import json
import re
import urllib.error
import urllib.request

from tests.helpers import free_port, http_get

#: The interpreter the guide runs the artifact with: the build's version.
PYTHON = "/usr/bin/python3.11"
NAME = "example_project"
ROOT = f"/srv/{NAME}"
CURRENT = f"{ROOT}/current/{NAME}.pyz"


class Site:
    """One server's deployment, driven as an administrator would."""

    def __init__(self, host, server, database=None, asgi=False):
        self.host = host
        self.server = server
        self.database = database
        self.asgi = asgi
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
            f"--server {self.server}{' --asgi' if self.asgi else ''}"
            f"{' --credential DATABASE_URL' if self.database else ''}"
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


def post_json(url, payload, timeout=10):
    """POST a JSON body; ``(status, decoded answer)``."""
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


class Tasks:
    """The example's task API on a site: enqueue, then read the result."""

    def __init__(self, site):
        self.base = f"http://127.0.0.1:{site.port}/api/tasks/"

    def enqueue(self, text, seconds=0.0):
        status, answer = post_json(self.base, {"text": text, "seconds": seconds})
        assert status == 202, answer
        return answer["id"]

    def result(self, task_id):
        status, _, body = http_get(f"{self.base}{task_id}/", timeout=10)
        assert status == 200, body
        return json.loads(body)
