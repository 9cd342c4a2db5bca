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
import signal
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
#: How long each declared process must keep running after its restart to
#: count as started (``--process-settle``). systemd restarts a process that
#: exits for ever (``Restart=always``), so a restart that returned proves
#: nothing; a process that cannot start (a missing dependency, a database
#: it cannot reach) exits within its first seconds.
PROCESS_SETTLE = 5.0
PROCESS_POLL_INTERVAL = 0.2
#: The lines of a failed unit's journal a report shows.
JOURNAL_LINES = 12


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

    def unit_state(self, unit):
        """What systemd says of ``unit`` now. Not logged: reading the state
        changes nothing, and the report lists the commands that did."""
        result = subprocess.run(
            [*self.command, "show", f"--property={','.join(UnitState.PROPERTIES)}", unit],
            capture_output=True,
            text=True,
            check=False,
        )
        return UnitState.parse(result.stdout)

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


def probe_health(url, colour):
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
        last = probe_health(url, colour)
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
        except SwitchFailed as exc:
            # systemctl's own first line says why a unit did not even run (a
            # job cancelled, a unit that failed to load); the journal, what it
            # did. One line: the report ends in one sentence.
            reason = str(exc).strip().splitlines()[0]
            raise ReleaseStepFailed(
                f"the {step.description} of release {release_id} failed ({reason}; journalctl -u {unit})",
                manager.log,
                journal_tail(unit),
            ) from None
    return list(manager.log)


def journal_command(unit):
    return ["journalctl", "--no-pager", "-o", "cat", "-n", str(JOURNAL_LINES), "-u", unit]


def journal_tail(unit):
    """The last lines ``unit`` wrote to the journal: what an operator would
    look at first (empty where there is no journal)."""
    try:
        return subprocess.run(journal_command(unit), capture_output=True, text=True, check=False).stdout
    except OSError:
        return ""


@dataclass(frozen=True)
class UnitState:
    """A service unit's state as ``systemctl show`` reports it."""

    PROPERTIES = ("ActiveState", "SubState", "NRestarts", "MainPID", "ExecMainCode", "ExecMainStatus")

    active: str = ""
    sub: str = ""
    restarts: int = 0
    main_pid: int = 0
    exit_code: int = 0  # how the main process last ended: CLD_EXITED, CLD_KILLED, CLD_DUMPED
    exit_status: int = 0  # its exit status, or the signal that ended it

    @classmethod
    def parse(cls, text):
        values = dict(line.partition("=")[::2] for line in text.splitlines() if "=" in line)

        def number(key):
            text = values.get(key, "")
            return int(text) if text.isdigit() else 0

        return cls(
            active=values.get("ActiveState", ""),
            sub=values.get("SubState", ""),
            restarts=number("NRestarts"),
            main_pid=number("MainPID"),
            exit_code=number("ExecMainCode"),
            exit_status=number("ExecMainStatus"),
        )

    @property
    def stopped(self):
        """Stopped on purpose (``systemctl stop``, never started), or being
        stopped: not ``failed``."""
        return self.active in ("inactive", "deactivating")

    @property
    def up(self):
        return self.active in ("active", "reloading") and self.main_pid != 0

    def stayed_up_since(self, earlier):
        """Up, and the same process as at ``earlier``: a process that exited
        and was restarted in between has another PID and a higher NRestarts."""
        return (
            self.up and earlier.up and self.main_pid == earlier.main_pid and self.restarts == earlier.restarts
        )

    def how_it_ended(self):
        if self.exit_code == 1:  # CLD_EXITED
            return f"exit status {self.exit_status}"
        if self.exit_code in (2, 3):  # CLD_KILLED, CLD_DUMPED
            try:
                return f"killed by {signal.Signals(self.exit_status).name}"
            except ValueError:
                return f"killed by signal {self.exit_status}"
        return None

    def describe_failure(self):
        """Why a unit that should be running is not, as the end of a sentence
        that starts with its name."""
        ended = self.how_it_ended()
        if self.active == "failed":
            return f"exited at start ({ended or 'failed'}) and systemd gave up restarting it"
        if ended:
            return f"exited at start ({ended}) and systemd keeps restarting it"
        return f"is not running ({self.active or 'unknown'}/{self.sub or 'unknown'})"


class ProcessFailed(SwitchFailed):
    """The web switched, but a declared process did not stay up on the
    release it switched to; the report has the end of each one's journal."""

    def __init__(self, failures, commands=(), journals=None):
        self.failures = list(failures)  # (unit, why), why ending a sentence that starts with the unit
        self.journals = journals or {}
        super().__init__("; ".join(f"{unit} {why}" for unit, why in self.failures), commands)

    def report(self):
        lines = [f"$ {command}" for command in self.commands]
        for unit, _ in self.failures:
            lines.append(f"$ {' '.join(journal_command(unit))}")
            lines += [f"  {line}" for line in self.journals.get(unit, "").splitlines()]
        lines.append(f"the web switched, but a declared process did not start on this release: {self}")
        return "\n".join(lines)


def restart_processes(name, units, command=("systemctl",), settle=PROCESS_SETTLE):
    """After the web switch: restart each declared process unit on the new
    release, then check that each stays up for ``settle`` seconds. Each
    stops as it would on ``systemctl stop``, finishing its current task,
    before its successor starts, so no task runs twice. A stopped unit is
    left stopped; a failed one (systemd gave up restarting it) is started
    again, since this release may be its fix. Returns the report lines;
    raises ProcessFailed, with the end of each failed unit's journal."""
    manager = Systemctl(name, command)
    lines = []
    restarted = {}  # unit -> its state right after the restart
    failures = []
    for unit in units:
        before = manager.unit_state(unit)
        if before.stopped:
            lines.append(f"{unit} is stopped: left stopped (systemctl enable --now {unit} starts it)")
            continue
        # try-restart for one that runs: stopped since it was read, it stays
        # stopped. restart for a failed one, which try-restart leaves failed.
        result = manager.run("restart" if before.active == "failed" else "try-restart", unit, check=False)
        lines.append(f"$ {manager.log[-1]}")
        after = manager.unit_state(unit)
        if result.returncode != 0:
            failures.append((unit, why_restart_failed(after, result)))
        else:
            restarted[unit] = after
    failures += watch_processes(manager, restarted, settle)
    if failures:
        journals = {unit: journal_tail(unit) for unit, _ in failures}
        raise ProcessFailed(failures, manager.log, journals)
    if restarted:
        lines.append(f"{', '.join(restarted)}: still running {settle:g} s after the restart")
    return lines


def why_restart_failed(state, result):
    """A start that failed before the process reported itself ready (``run``
    loads its command first): how it ended, else what systemctl said."""
    if state.how_it_ended():
        return state.describe_failure()
    said = (result.stderr or result.stdout).strip().splitlines()
    return f"did not restart: {said[0] if said else f'systemctl exited with {result.returncode}'}"


def watch_processes(manager, restarted, settle):
    """Poll each restarted unit until ``settle`` seconds have passed; a unit
    that is not the same running process as right after its restart has
    exited. Returns ``(unit, why)`` for each that did."""
    failures = []
    watching = dict(restarted)
    deadline = time.monotonic() + settle
    while watching:
        for unit, earlier in list(watching.items()):
            state = manager.unit_state(unit)
            if not state.stayed_up_since(earlier):
                failures.append((unit, state.describe_failure()))
                del watching[unit]
        if time.monotonic() >= deadline:
            break
        time.sleep(PROCESS_POLL_INTERVAL)
    return failures


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
