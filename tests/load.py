"""Steady, bounded load for the switch tests and the soak: every request
a new connection, every outcome recorded with the version that answered."""

import json
import threading
import time
import urllib.request

from tests.helpers import wait_until


class Load:
    """Steady, bounded load: ``threads`` clients, one request each per
    ``interval``, new connection each time, until stopped or ``limit`` s."""

    def __init__(self, url, threads=4, interval=0.05, limit=240):
        self.url = url
        self.results = []  # (time, version or None, error or None)
        self.stop_event = threading.Event()
        self.limit = limit
        self.threads = [threading.Thread(target=self.client, args=(interval,)) for _ in range(threads)]
        self.lock = threading.Lock()

    def client(self, interval):
        started = time.monotonic()
        while not self.stop_event.is_set() and time.monotonic() - started < self.limit:
            moment = time.monotonic()
            try:
                with urllib.request.urlopen(self.url, timeout=30) as response:
                    body = json.loads(response.read())
                    outcome = (moment, body["version"], None if response.status == 200 else response.status)
            except Exception as exc:  # noqa: BLE001 - every kind of failure counts
                outcome = (moment, None, repr(exc))
            with self.lock:
                self.results.append(outcome)
            time.sleep(max(0.0, interval - (time.monotonic() - moment)))

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stop_event.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def failures(self):
        return [result for result in self.results if result[2] is not None]

    def versions_after(self, moment):
        return {version for at, version, error in self.results if at > moment and error is None}

    def serve(self, count):
        """Wait until ``count`` more requests have been answered (or failed)."""
        target = len(self.results) + count
        wait_until(lambda: len(self.results) >= target, timeout=120, message=f"{count} more requests")
