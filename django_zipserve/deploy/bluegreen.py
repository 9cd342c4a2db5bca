"""Blue/green switch on one machine: two instances of the template service
share the listening socket held by the socket unit.

The switch, in order:

1. start the colour that is not running (``systemctl start NAME@green``);
   with ``Type=notify`` this returns only once the new server has passed its
   warm-up request against the health view and is accepting connections;
2. probe the health view over HTTP until the new colour itself answers 200:
   while both colours take connections from the shared socket, an answer
   from the old one proves nothing, so each probe is a new connection and
   only a body naming the new colour (the unit's instance name, see
   ``INSTANCE_VARIABLE``) counts;
3. stop the old colour (``systemctl stop NAME@blue``): it finishes the
   requests it has, while the new colour takes every new connection from the
   shared socket;
4. enable the new colour and disable the old one, so a reboot starts the
   right one.

If step 1 or 2 fails, the new colour is stopped and the old one keeps
serving: a broken release never takes traffic.
"""

import json
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from ..conf.django_settings import HEALTH_PATH
from ..errors import ZipserveError
from .systemd import COLOURS, release_step_unit

#: How long the new colour has to answer its health check, in seconds.
HEALTH_TIMEOUT = 30.0
#: Each probe is short: a stuck connection must not use up the whole wait.
PROBE_TIMEOUT = 2.0
PROBE_INTERVAL = 0.1


class SwitchFailed(ZipserveError):
    """The switch did not complete; the live colour keeps serving."""

    def __init__(self, message, commands=()):
        self.commands = list(commands)
        super().__init__(message)

    def report(self):
        return "\n".join(
            [
                *(f"$ {command}" for command in self.commands),
                f"switch failed, the live colour keeps serving: {self}",
            ]
        )


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
        result = subprocess.run([*self.command, *args], capture_output=True, text=True, check=False)
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
                return f"http://{host}:{port}/{HEALTH_PATH}"
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


def probe(url, colour):
    """One health request on a new connection: None when ``colour`` itself
    answered 200, else what came back instead."""
    request = urllib.request.Request(url, headers={"Connection": "close"})
    try:
        with urllib.request.urlopen(request, timeout=PROBE_TIMEOUT) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except OSError as exc:
        return str(exc)
    try:
        instance = json.loads(body).get("instance")
    except (ValueError, AttributeError):
        return "an answer that is not the health view's JSON"
    if instance != colour:
        return f"HTTP 200 from instance {instance!r}, not {colour!r}"
    return None


def wait_healthy(url, colour, timeout=HEALTH_TIMEOUT):
    """Probe ``url`` until ``colour`` answers 200 itself; bounded by ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        last = probe(url, colour)
        if last is None:
            return
        if time.monotonic() >= deadline:
            raise SwitchFailed(f"{colour} did not answer 200 at {url} within {timeout:.0f} s (last: {last})")
        time.sleep(PROBE_INTERVAL)


@dataclass
class SwitchResult:
    old: str
    new: str
    seconds: float
    commands: list = field(default_factory=list)

    def report(self):
        """The commands run, then what changed: the lines a command prints."""
        return [
            *(f"$ {command}" for command in self.commands),
            f"switched {self.old} -> {self.new} in {self.seconds:.1f} s",
        ]


def switch(manager, health_url=None, health_timeout=HEALTH_TIMEOUT):
    """Start the idle colour, check it, stop the live one. Returns what it did."""
    running = [colour for colour in COLOURS if manager.is_active(colour)]
    old = running[0] if running else None
    new = next(colour for colour in COLOURS if colour != old)
    started = time.monotonic()
    try:
        manager.start(new)
        if health_url:
            wait_healthy(health_url, new, health_timeout)
    except SwitchFailed:
        try:
            manager.stop(new)  # the old colour never stopped serving
        except SwitchFailed:
            pass
        raise
    for colour in running:
        manager.stop(colour)
    manager.persist(new, old)
    return SwitchResult(old or "-", new, time.monotonic() - started)


class ReleaseStepFailed(ZipserveError):
    """A step run for a new release before it became current failed."""

    def __init__(self, message, commands=(), journal=""):
        self.commands = list(commands)
        self.journal = journal
        super().__init__(message)

    def report(self):
        return "\n".join(
            [
                *(f"$ {command}" for command in self.commands),
                *(f"  {line}" for line in self.journal.splitlines()),
                f"deploy stopped, current and the live colour are unchanged: {self}",
            ]
        )


def run_release_steps(name, release_id, steps, command=("systemctl",)):
    """Start each step's oneshot unit for ``release_id`` (``NAME-migrate@ID``),
    in order, and wait for it; the first that fails stops the deploy with
    the end of its journal. Returns the commands run."""
    manager = Systemctl(name, command)
    for step in steps:
        unit = release_step_unit(name, step, release_id)
        try:
            manager.run("start", unit)
        except SwitchFailed:
            journal = subprocess.run(
                ["journalctl", "--no-pager", "-o", "cat", "-n", "12", "-u", unit],
                capture_output=True,
                text=True,
                check=False,
            ).stdout
            raise ReleaseStepFailed(
                f"the {step.description} of release {release_id} failed (journalctl -u {unit})",
                manager.log,
                journal,
            ) from None
    return list(manager.log)


def restart_processes(name, units, command=("systemctl",)):
    """After the web switch: restart each running process unit on the new
    release (``try-restart`` leaves a stopped one stopped). Each stops as it
    would on ``systemctl stop``, finishing its current task, before its
    successor starts, so no task runs twice. Returns the report lines."""
    manager = Systemctl(name, command)
    lines = []
    for unit in units:
        result = manager.run("try-restart", unit, check=False)
        lines.append(f"$ {manager.log[-1]}")
        if result.returncode != 0:
            reason = (result.stderr or result.stdout).strip()
            raise SwitchFailed(
                f"the web switched, but {unit} did not restart on the new release: {reason}", manager.log
            )
    return lines


def switch_services(name, health_url=None, command=("systemctl",)):
    """``deploy --switch`` and ``rollback --switch``: the switch of the
    ``name@`` services with systemctl, checked at ``health_url`` (default:
    the health view at the socket unit's address). The result, or the
    failure, carries the commands that ran."""
    manager = Systemctl(name, command)
    try:
        result = switch(manager, health_url or manager.health_url())
    except SwitchFailed as exc:
        raise SwitchFailed(str(exc), manager.log) from None
    result.commands = list(manager.log)
    return result
