"""systemd units for an artifact: a socket that holds the listener and a
template service whose two instances (``@blue``, ``@green``) share it.

The socket unit owns the listening socket, so a restart or an upgrade never
refuses a connection: connections wait in the socket's queue while a server
starts. Both colours run ``<root>/current/<name>.pyz``; the one started last
runs whatever ``current`` points to then.

Besides them: one-shot templates that ``deploy`` runs for a new release
before it becomes current (:data:`RELEASE_STEPS`: its extraction, its
migrations), and a unit per process the project declares in
``ZIPSERVE_PROCESSES`` (a timer too for a job). All of them share one dynamic
user, the cache and state directories, the credentials and the sandbox.

The service is sandboxed at least as tightly as a container: a dynamic user,
a read-only file system except its own state, cache and runtime
directories, no devices, no kernel tunables, a system call filter. The
settings that can break some applications declare a :class:`Relaxation`:
the ``systemd render`` option that leaves them out, and what that costs.
"""

import os
import subprocess
from dataclasses import dataclass, field

from ..conf.django_settings import INSTANCE_VARIABLE
from ..errors import ZipserveError
from .releases import ReleaseStore

#: What an interpreter is asked to say about itself: its major.minor version.
VERSION_CODE = "import sys; print('%d.%d' % sys.version_info[:2])"
COLOURS = ("blue", "green")


class InterpreterError(ZipserveError):
    """No interpreter of the artifact's Python version to run it with."""

    exit_status = 2


def interpreter_version(path):
    """The ``major.minor`` an interpreter reports when run, or None when it
    does not run (missing, not executable, a pyenv shim of another version)."""
    try:
        result = subprocess.run(
            [path, "-c", VERSION_CODE], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = result.stdout.strip()
    return found if result.returncode == 0 and found else None


#: What the units' sandbox hides from the service: an interpreter there
#: fails every start with status 203/EXEC (a pyenv build under /root, a
#: virtualenv in a home directory).
HIDDEN_FOLDERS = ("/home", "/root", "/run/user", "/tmp", "/var/tmp")


def hidden_folder(path):
    """The folder of HIDDEN_FOLDERS that ``path`` (its symbolic links
    followed: a pyenv shim or a virtualenv's link) lies in, or None."""
    for candidate in (os.path.abspath(path), os.path.realpath(path)):
        for folder in HIDDEN_FOLDERS:
            if candidate == folder or candidate.startswith(folder + "/"):
                return folder
    return None


def hidden_interpreter_warning(path):
    """What to tell whoever gives ``--python`` under a hidden folder (their
    choice: the path may be made visible by other means), or None."""
    folder = hidden_folder(path)
    if folder is None:
        return None
    return (
        f"--python {path} lies under {folder}, which the units' sandbox hides from the service: "
        "every start fails with status 203/EXEC unless that path is made visible to it"
    )


def find_interpreter(version, search_path=None):
    """``(usable, hidden)``: the first ``python<version>`` on PATH that runs,
    is that version and lies where the sandbox lets the service see it, and
    the first one passed over because the sandbox hides it."""
    hidden = None
    for folder in (search_path if search_path is not None else os.environ.get("PATH", "")).split(os.pathsep):
        candidate = os.path.join(folder or ".", f"python{version}")
        if not (os.access(candidate, os.X_OK) and interpreter_version(candidate) == version):
            continue
        if hidden_folder(candidate) is None:
            return candidate, hidden
        hidden = hidden or candidate
    return None, hidden


def choose_interpreter(given, version, search_path=None):
    """The interpreter the units run the artifact with: ``given``, once it
    proved to be ``version`` (the build's), else ``python<version>`` found on
    PATH. Refused in one line otherwise: a unit that starts the artifact
    with another Python fails at every start."""
    if given:
        found = interpreter_version(given)
        if found != version:
            what = f"is Python {found}" if found else "does not run"
            raise InterpreterError(f"--python {given} {what}, but the artifact is built for Python {version}")
        return given
    found, hidden = find_interpreter(version, search_path)
    if found is None and hidden is not None:
        raise InterpreterError(
            f"the only python{version} on PATH, {hidden}, lies under {hidden_folder(hidden)}, which the "
            f"units' sandbox hides from the service (every start would fail with 203/EXEC): install "
            f"Python {version} outside home directories (/usr/bin or /opt) and give --python PATH"
        )
    if found is None:
        raise InterpreterError(
            f"no python{version} on PATH, and the artifact is built for Python {version}: "
            f"install Python {version} or give --python PATH"
        )
    return found


@dataclass(frozen=True)
class Relaxation:
    """A render option that leaves a hardening directive out."""

    name: str  # as held in UnitOptions.relaxed
    flag: str  # the option of ``systemd render``
    cost: str  # why one would, and what it gives up


@dataclass(frozen=True)
class Directive:
    """A hardening setting: declared once, rendered and documented from here."""

    name: str
    value: str
    why: str
    #: ``systemd-analyze security --offline=true`` (systemd 252) of the
    #: rendered unit without this directive; the full unit scores 1.1.
    exposure_without: float
    #: When an application may need it removed (by a drop-in), if ever.
    needed_when: str = ""
    relaxation: Relaxation | None = None


HARDENING = (
    Directive(
        "DynamicUser",
        "yes",
        "a user allocated for the service and gone when it stops; implies "
        "ProtectSystem=strict, ProtectHome=read-only, PrivateTmp, RemoveIPC",
        1.1,  # User= still names an unprivileged user
        "a fixed user is needed, e.g. for PostgreSQL peer authentication (add User=)",
    ),
    Directive(
        "ProtectSystem", "strict", "the whole file system is read-only except the directories below", 1.1
    ),
    Directive(
        "ProtectHome",
        "yes",
        "no access to /home, /root, /run/user",
        1.2,
        "the configuration or data lives in a home directory",
    ),
    Directive("PrivateTmp", "yes", "a /tmp of its own", 1.1),
    Directive(
        "PrivateDevices",
        "yes",
        "no physical devices",
        1.3,
        "the application needs a device (a GPU, a serial port)",
    ),
    Directive(
        "PrivateUsers",
        "yes",
        "no other users are visible",
        1.2,
        "the service must read files owned by real users",
    ),
    Directive("PrivateMounts", "yes", "mounts are not shared with the host", 1.2),
    Directive("ProtectHostname", "yes", "cannot change the host name", 1.1),
    Directive("ProtectClock", "yes", "cannot change the clock", 1.2),
    Directive("ProtectKernelTunables", "yes", "/proc/sys and /sys are read-only", 1.2),
    Directive("ProtectKernelModules", "yes", "cannot load kernel modules", 1.2),
    Directive("ProtectKernelLogs", "yes", "cannot read the kernel log", 1.2),
    Directive("ProtectControlGroups", "yes", "cgroups are read-only", 1.2),
    Directive(
        "ProtectProc",
        "invisible",
        "other users' processes are invisible",
        1.2,
        "it must see other users' processes",
    ),
    Directive(
        "ProcSubset",
        "pid",
        "only process entries in /proc, no /proc/meminfo or /proc/cpuinfo",
        1.1,
        relaxation=Relaxation(
            "full_proc",
            "--full-proc",
            "for libraries that read /proc/meminfo or /proc/cpuinfo "
            "(psutil and the like); the service then sees the host's system-wide /proc files",
        ),
    ),
    Directive(
        "RestrictAddressFamilies",
        "AF_UNIX AF_INET AF_INET6",
        "only local and IP sockets",
        1.5,
        "it needs netlink or other socket families",
    ),
    Directive("RestrictNamespaces", "yes", "cannot create namespaces", 1.8),
    Directive("RestrictRealtime", "yes", "no real-time scheduling", 1.2),
    Directive("RestrictSUIDSGID", "yes", "cannot create set-user-id files", 1.1),
    Directive("LockPersonality", "yes", "cannot change the execution domain", 1.1),
    Directive(
        "MemoryDenyWriteExecute",
        "yes",
        "no memory both writable and executable",
        1.1,
        relaxation=Relaxation(
            "allow_write_execute",
            "--allow-write-execute",
            "for JITs and cffi's old-style "
            "callbacks, which need such memory; code injected into the process can then run",
        ),
    ),
    Directive("NoNewPrivileges", "yes", "cannot gain privileges through execve", 1.1),
    Directive(
        "CapabilityBoundingSet",
        "",
        "no capabilities at all",
        2.8,
        "it binds a port below 1024 itself (let the socket unit do it instead: no change needed)",
    ),
    Directive("SystemCallArchitectures", "native", "only native system calls", 1.2),
    Directive("SystemCallFilter", "@system-service", "the system calls of an ordinary service", 1.5),
    Directive(
        "SystemCallFilter",
        "~@privileged @resources",
        "minus privileged and resource-changing ones",
        1.3,
        "it changes resource limits or priorities",
    ),
    Directive("UMask", "0077", "files it creates are private", 1.1),
)


#: ``(directive, relaxation)`` of each directive that ``systemd render``
#: can leave out, with the option that does.
RELAXATIONS = tuple(
    (directive, directive.relaxation) for directive in HARDENING if directive.relaxation is not None
)
#: The directives that ``systemd render`` can leave out.
RELAXABLE = tuple(directive for directive, _ in RELAXATIONS)


@dataclass
class UnitOptions:
    name: str
    listen: str  # the configuration's BIND unless given
    timeout: int  # the configuration's TIMEOUT: seconds a request may run
    server: str = "pyuwsgi"
    python: str = "/usr/bin/python3"  # the command chooses one of the build's version (choose_interpreter)
    root: str | None = None  # the release folder; None: the default (see releases.default_root)
    config_file: str = ""
    credentials: tuple = ()  # (credential name, optional) pairs
    relaxed: frozenset = field(default_factory=frozenset)  # Relaxation names of directives left out

    def __post_init__(self):
        unknown = set(self.relaxed) - {relaxation.name for _, relaxation in RELAXATIONS}
        if unknown:
            raise ValueError(f"no hardening directive can be relaxed as {', '.join(sorted(unknown))}")

    @property
    def artifact(self):
        return str(ReleaseStore(self.root, self.name).current_artifact)

    @property
    def release_folder(self):
        return str(ReleaseStore(self.root, self.name).releases)

    def renders(self, directive):
        return directive.relaxation is None or directive.relaxation.name not in self.relaxed


def listen_stream(bind):
    """``127.0.0.1:8000``, ``[::1]:8000``, ``:8000`` or ``unix:/run/x.sock``."""
    if bind.startswith("unix:"):
        return bind[len("unix:") :]
    if bind.startswith(":"):
        return bind[1:]  # every address
    return bind


def render_units(options, processes=()):
    """Every unit of a site as ``(file name, text)``: the socket, the web
    template, the release steps, and a unit per declared process (plus a
    timer per job)."""
    units = [
        (f"{options.name}.socket", render_socket(options)),
        (f"{options.name}@.service", render_service(options)),
        *(
            (release_step_unit(options.name, step), render_release_step(options, step))
            for step in RELEASE_STEPS
        ),
    ]
    for process in processes:
        units.append((process_unit(options.name, process), render_process(options, process)))
        if process.is_job:
            units.append((process_unit(options.name, process, "timer"), render_timer(options, process)))
    return units


def render_socket(options):
    return "\n".join(
        [
            "[Unit]",
            f"Description={options.name} listening socket",
            "",
            "[Socket]",
            f"ListenStream={listen_stream(options.listen)}",
            "# Both colours of the service take connections from this socket; a",
            "# connection that arrives while neither runs starts the blue one.",
            f"Service={options.name}@blue.service",
            "NoDelay=true",
            "Backlog=1024",
            "",
            "[Install]",
            "WantedBy=sockets.target",
            "",
        ]
    )


def render_service(options):
    return "\n".join(
        [
            *service_lines(options),
            *identity_lines(options),
            *credential_lines(options),
            *sandbox_lines(options),
            "",
            "[Install]",
            "WantedBy=multi-user.target",
            "",
        ]
    )


def render_release_step(options, step):
    """A oneshot template run by ``deploy`` for release ``%i`` before
    ``current`` moves to it, as the service's own user, in its sandbox,
    with its credentials and directories."""
    config = f" --config {options.config_file}" if options.config_file and step.needs_configuration else ""
    artifact = f"{options.release_folder}/%i/{options.name}.pyz"
    return "\n".join(
        [
            "[Unit]",
            f"Description={options.name}: {step.description} of release %i",
            "After=network-online.target",
            "Wants=network-online.target",
            "",
            "[Service]",
            "Type=oneshot",
            f"ExecStart={options.python} -I {artifact}{config} {step.command}",
            f"TimeoutStartSec={step.timeout}",
            "",
            *identity_lines(options),
            *(credential_lines(options) if step.needs_configuration else []),
            *sandbox_lines(options),
            "",
        ]
    )


@dataclass(frozen=True)
class ReleaseStep:
    """Something ``deploy`` runs for a new release before switching to it."""

    name: str  # the unit is NAME-<name>@RELEASE.service
    description: str
    command: str
    needs_configuration: bool
    timeout: str
    #: Run only when asked for (``deploy --migrate``).
    migrates: bool = False


#: In the order ``deploy`` runs them.
RELEASE_STEPS = (
    ReleaseStep(
        "prepare",
        "extraction",
        "zipapp extract",
        needs_configuration=False,
        timeout="10min",
    ),
    ReleaseStep(
        "check",
        "system checks",
        # Every check, those a server start leaves to the build and to this
        # step included (an app's whole-schema check), on this host, with
        # its configuration.
        "check --deploy --fail-level ERROR",
        needs_configuration=True,
        timeout="10min",
    ),
    ReleaseStep(
        "migrate",
        "database migrations",
        "migrate --noinput",
        needs_configuration=True,
        # A migration of a big table can take long; a deploy waits for it.
        timeout="1h",
        migrates=True,
    ),
)


def process_unit(name, process, kind="service"):
    """``NAME-worker.service``; a job also has ``NAME-JOB.timer``."""
    return f"{name}-{process.name}.{kind}"


def render_process(options, process):
    """The unit of a declared process: a service that runs all the time, or
    the one-shot service a job's timer starts. Same user, directories,
    credentials and sandbox as the web units; ``current`` at each start, so
    a job picks up a new release by itself."""
    config = f" --config {options.config_file}" if options.config_file else ""
    if process.is_job:
        kind = ["Type=oneshot"]
    else:
        kind = [
            "Type=notify" if process.notify else "Type=exec",
            "# SIGTERM to the process itself; it finishes its current task within",
            "# TimeoutStopSec, then the rest of the unit is killed.",
            "KillMode=mixed",
            f"TimeoutStopSec={process.stop_timeout}",
            "Restart=always",
            "RestartSec=2",
        ]
    lines = [
        "[Unit]",
        f"Description={options.name}: {process.description or process.name}",
        "After=network-online.target",
        "Wants=network-online.target",
        "",
        "[Service]",
        *kind,
        f"ExecStart={options.python} -I {options.artifact}{config} run {process.name}",
        "",
        *identity_lines(options, runtime_directory=f"{options.name}-{process.name}"),
        *credential_lines(options),
        *sandbox_lines(options),
        "",
    ]
    if not process.is_job:
        lines += ["[Install]", "WantedBy=multi-user.target", ""]
    return "\n".join(lines)


def render_timer(options, process):
    return "\n".join(
        [
            "[Unit]",
            f"Description={options.name}: {process.name} ({process.schedule})",
            "",
            "[Timer]",
            f"OnCalendar={process.schedule}",
            "# A run missed while the host was off happens at the next boot.",
            "Persistent=true",
            f"Unit={process_unit(options.name, process)}",
            "",
            "[Install]",
            "WantedBy=timers.target",
            "",
        ]
    )


def check_schedule(process):
    """A job's schedule as ``systemd-analyze calendar`` reads it; an
    expression it rejects is an error naming the job. Without
    systemd-analyze (not a systemd host) it is not checked here."""
    try:
        result = subprocess.run(
            ["systemd-analyze", "calendar", process.schedule],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return
    if result.returncode != 0:
        raise ScheduleError(
            f"ZIPSERVE_PROCESSES[{process.name!r}]['schedule']: {process.schedule!r} is not a systemd "
            "calendar expression (e.g. daily, hourly, *-*-* 03:15:00)"
        )


class ScheduleError(ZipserveError):
    exit_status = 2


def release_step_unit(name, step, release_id=""):
    return f"{name}-{step.name}@{release_id}.service"


def service_lines(options):
    config = f" --config {options.config_file}" if options.config_file else ""
    return [
        "[Unit]",
        f"Description={options.name} (%i)",
        f"Requires={options.name}.socket",
        f"After={options.name}.socket network-online.target",
        "Wants=network-online.target",
        "",
        "[Service]",
        "# READY=1 comes after the warm-up request succeeded: `systemctl start`",
        "# returns only when this colour can serve.",
        "Type=notify",
        f"Sockets={options.name}.socket",
        f"ExecStart={options.python} -I {options.artifact}{config} {options.server}",
        f"ExecStartPre={options.python} -I {options.artifact}{config} zipapp prune --keep 2",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "# SIGTERM to the server's master only: it lets each worker finish its",
        "# request. systemd's default sends it to every process of the unit at",
        "# once, and a uWSGI worker that gets it exits mid-request.",
        "KillMode=mixed",
        "KillSignal=SIGTERM",
        f"TimeoutStopSec={options.timeout + 15}",
        "TimeoutStartSec=120",
        "Restart=on-failure",
        "RestartSec=2",
        "# The health view names the colour, so the switch knows who answered.",
        f"Environment={INSTANCE_VARIABLE}=%i",
        "",
    ]


def identity_lines(options, runtime_directory=None):
    return [
        "# One dynamic user for every unit of this site, so that all of them own",
        "# its cache and state directories.",
        "DynamicUser=yes",
        f"User={options.name}",
        "# The artifact extracts itself into the cache directory once per release;",
        "# state (the default SQLite database, uploads) lives in the state directory.",
        f"CacheDirectory={options.name}",
        f"Environment=SHIV_ROOT=%C/{options.name}",
        f"StateDirectory={options.name}",
        f"RuntimeDirectory={runtime_directory or options.name + '-%i'}",
        "",
    ]


def credential_lines(options):
    lines = [
        "# Secrets: systemd copies them into $CREDENTIALS_DIRECTORY, readable by this",
        "# service only; the configuration reads them from there.",
    ]
    for credential, optional in options.credentials:
        line = f"LoadCredential={credential}:/etc/{options.name}/credentials/{credential}"
        lines.append(f"#{line}" if optional else line)
    return lines


def sandbox_lines(options):
    return [
        "",
        "# Sandbox (see `systemd-analyze security`).",
        *(
            f"{directive.name}={directive.value}"
            for directive in HARDENING
            if options.renders(directive) and directive.name not in IDENTITY
        ),
    ]


#: Hardening directives rendered with the identity (identity_lines).
IDENTITY = ("DynamicUser",)


def credentials_for(config_cls, required=("SECRET_KEY",), extra=()):
    """``(name, optional)`` for each secret field of the configuration:
    required ones active, the others rendered commented out."""
    from ..conf.sources import is_secret

    wanted = {name.upper() for name in (*required, *extra)}
    return tuple(
        (name.lower(), name not in wanted)
        for name, declared in config_cls.model_fields.items()
        if is_secret(declared)
    )
