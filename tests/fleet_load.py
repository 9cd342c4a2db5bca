"""Steady, bounded load through the balancer, run inside its namespace:
``python -m tests.fleet_load URL HOST REPORT``. Each of the clients, in a
loop, on a new connection each time: reads the home page, then every
hashed static file that page names, then writes (enqueues a task). It
stops when ``REPORT.stop`` appears, on SIGTERM or after its time limit,
and writes its counts and every failure to ``REPORT`` as JSON."""

import argparse
import http.client
import json
import re
import signal
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

#: A hashed static file a page names: ``/static/site.0123456789ab.css``.
HASHED_STATIC = re.compile(r"""(?:src|href)="(/static/[^"]+\.[0-9a-f]{12}\.[a-z0-9]+)\"""")
VERSION = re.compile(r"example-project (\d+\.\d+\.\d+)")


class Clients:
    def __init__(self, url, host, clients, interval, limit, label):
        self.label = label  # names this load's writes apart from every other's
        parts = urlsplit(url)
        self.address = (parts.hostname, parts.port or 80)
        self.host = host
        self.interval = interval
        self.deadline = time.monotonic() + limit
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.counts = {"page": 0, "static": 0, "write": 0}
        self.versions = {}
        self.failures = []
        self.threads = [threading.Thread(target=self.client, args=(index,)) for index in range(clients)]

    def request(self, method, path, body=None):
        connection = http.client.HTTPConnection(*self.address, timeout=30)
        try:
            headers = {"Host": self.host, "Connection": "close"}
            if body is not None:
                headers["Content-Type"] = "application/json"
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def attempt(self, kind, method, path, expected, body=None):
        try:
            status, content = self.request(method, path, body)
        except Exception as exc:  # noqa: BLE001 - every kind of failure counts
            status, content = None, repr(exc).encode()
        with self.lock:
            self.counts[kind] += 1
            if status != expected:
                self.failures.append(
                    {
                        "at": time.time(),
                        "kind": kind,
                        "path": path,
                        "status": status,
                        "body": content[:200].decode(errors="replace"),
                    }
                )
        return content if status == expected else None

    def client(self, index):
        number = 0
        while not self.stopping.is_set() and time.monotonic() < self.deadline:
            started = time.monotonic()
            page = self.attempt("page", "GET", "/", 200)
            if page is not None:
                text = page.decode(errors="replace")
                version = VERSION.search(text)
                if version:
                    with self.lock:
                        self.versions[version.group(1)] = self.versions.get(version.group(1), 0) + 1
                for path in HASHED_STATIC.findall(text):
                    self.attempt("static", "GET", path, 200)
            number += 1
            body = json.dumps({"text": f"{self.label}: client {index} write {number}"}).encode()
            self.attempt("write", "POST", "/api/tasks/", 202, body)
            self.stopping.wait(max(0.0, self.interval - (time.monotonic() - started)))

    def run(self, stop_file):
        for thread in self.threads:
            thread.start()
        while not self.stopping.is_set() and time.monotonic() < self.deadline:
            if stop_file.exists():
                self.stopping.set()
            time.sleep(0.1)
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def report(self):
        with self.lock:
            return {
                "requests": dict(self.counts),
                "versions": dict(self.versions),
                "failures": list(self.failures),
            }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("host")
    parser.add_argument("report", type=Path)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--interval", type=float, default=0.1)
    parser.add_argument("--limit", type=float, default=600, help="seconds at most")
    options = parser.parse_args()
    label = options.report.stem
    clients = Clients(options.url, options.host, options.clients, options.interval, options.limit, label)
    signal.signal(signal.SIGTERM, lambda *_: clients.stopping.set())
    clients.run(options.report.with_name(options.report.name + ".stop"))
    options.report.write_text(json.dumps(clients.report(), indent=1))


if __name__ == "__main__":
    main()
