"""Blue/green switch on one machine: two instances of the template service
share the listening socket held by the socket unit.

The switch, in order:

1. start the colour that is not running (``systemctl start NAME@green``);
   with ``Type=notify`` this returns only once the new server has passed its
   warm-up request against the health view and is accepting connections;
2. check the health view over HTTP until it answers 200;
3. stop the old colour (``systemctl stop NAME@blue``): it finishes the
   requests it has, while the new colour takes every new connection from the
   shared socket;
4. enable the new colour and disable the old one, so a reboot starts the
   right one.

If step 1 or 2 fails, the new colour is stopped and the old one keeps
serving: a broken release never takes traffic.
"""

import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from .systemd import COLOURS


class SwitchFailed(Exception):
    pass


class Systemctl:
    """Runs the switch with systemctl."""

    def __init__(self, name, command=("systemctl",)):
        self.name = name
        self.command = list(command)
        self.log = []

    def unit(self, colour):
        return f"{self.name}@{colour}.service"

    def run(self, *args, check=True):
        self.log.append(" ".join([*self.command, *args]))
        result = subprocess.run([*self.command, *args], capture_output=True, text=True)
        if check and result.returncode != 0:
            raise SwitchFailed(f"{' '.join(args)} failed: {(result.stderr or result.stdout).strip()}")
        return result

    def health_url(self):
        """The health view behind the socket unit's first TCP listener."""
        listen = self.run("show", "--property=Listen", "--value", f"{self.name}.socket", check=False).stdout
        for entry in listen.split("\n"):
            address, _, kind = entry.strip().partition(" ")
            if kind == "(Stream)" and not address.startswith("/"):
                host, _, port = address.rpartition(":")
                if host in ("", "0.0.0.0", "[::]"):
                    host = "127.0.0.1"
                return f"http://{host}:{port}/-/health/"
        return None

    def is_active(self, colour):
        return self.run("is-active", "--quiet", self.unit(colour), check=False).returncode == 0

    def start(self, colour):
        self.run("start", self.unit(colour))

    def stop(self, colour):
        self.run("stop", self.unit(colour))

    def persist(self, new, old):
        self.run("enable", self.unit(new))
        if old:
            self.run("disable", self.unit(old), check=False)


def wait_healthy(url, timeout=30.0):
    """Poll the health view until it answers 200; bounded by ``timeout``."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
                last = f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except OSError as exc:
            last = str(exc)
        time.sleep(0.2)
    raise SwitchFailed(f"{url} did not answer 200 within {timeout:.0f} s ({last})")


@dataclass
class SwitchResult:
    old: str
    new: str
    seconds: float


def switch(manager, health_url=None, health_timeout=30.0):
    """Start the idle colour, check it, stop the live one. Returns what it did."""
    running = [colour for colour in COLOURS if manager.is_active(colour)]
    old = running[0] if running else None
    new = next(colour for colour in COLOURS if colour != old)
    started = time.monotonic()
    try:
        manager.start(new)
        if health_url:
            wait_healthy(health_url, health_timeout)
    except SwitchFailed:
        try:
            manager.stop(new)  # the old colour never stopped serving
        except SwitchFailed:
            pass
        raise
    for colour in running:
        manager.stop(colour)
    if hasattr(manager, "persist"):
        manager.persist(new, old)
    return SwitchResult(old or "-", new, time.monotonic() - started)
