"""The processes a site runs besides its web server, declared once.

A project lists them in one setting, ``ZIPSERVE_PROCESSES``: a task queue
worker, a long-running management command, periodic jobs::

    ZIPSERVE_PROCESSES = {
        "worker": {
            "command": ["db_worker", "--queue-name", "default"],
            "description": "runs the tasks the site enqueues",
            "stop_timeout": 60,
        },
        "clearsessions": {"command": ["clearsessions"], "schedule": "daily"},
    }

The same declaration drives ``run NAME`` (one process from the artifact,
with the site's configuration and logging), the systemd units that
``systemd render`` writes (a service per process, a timer and a one-shot
service per job with a ``schedule``) and the release switch (``deploy
--switch`` restarts the processes on the new release after the web
switch). Each key is declared in :data:`KEYS`, which also generates the
reference (``docs/reference/processes.md``).
"""

import json
import re
from dataclasses import dataclass

from ..errors import ZipserveError
from .systemd import COLOURS, RELEASE_STEPS

SETTING = "ZIPSERVE_PROCESSES"

#: A process name is part of unit names (``NAME-worker.service``).
NAME_PATTERN = re.compile(r"[a-z][a-z0-9-]{0,39}")
#: Names the units of the web servers and of the release steps use already.
RESERVED = frozenset({*COLOURS, *(step.name for step in RELEASE_STEPS)})


class ProcessDeclarationError(ZipserveError):
    """``ZIPSERVE_PROCESSES`` is malformed; the message names the entry."""

    exit_status = 2


@dataclass(frozen=True)
class Key:
    """One key of a process's declaration."""

    name: str
    kind: str  # as the reference writes it
    default: object
    doc: str
    required: bool = False


KEYS = (
    Key(
        "command",
        "list of strings",
        None,
        'The management command and its arguments, as after `manage.py`: `["db_worker"]` '
        '(django-tasks), `["rqworker", "default"]`, `["clearsessions"]`. Required unless `module` '
        "is given.",
    ),
    Key(
        "module",
        "string",
        None,
        "Instead of a management command, a module run as `python -m MODULE` inside the "
        'artifact, with `args`: `"module": "celery", "args": ["-A", "mysite", "worker"]`. The '
        "project's settings and configuration are loaded first.",
    ),
    Key("args", "list of strings", [], "The arguments of `module`."),
    Key("description", "string", "", "What the process does; shown by `run --list` and in its unit."),
    Key(
        "schedule",
        "string",
        None,
        "Makes the entry a periodic job: a systemd calendar expression (`daily`, `hourly`, "
        "`*-*-* 03:15:00`, `Mon *-*-* 06:00`), checked by `systemd-analyze calendar`. The job runs "
        "once per occurrence from a timer; a missed occurrence (the host was off) runs at the next "
        "boot. Without it the process runs all the time and is restarted if it exits.",
    ),
    Key(
        "stop_timeout",
        "whole number of seconds",
        30,
        "How long the process may take to stop after SIGTERM (finishing its current task) before "
        "it is killed. SIGTERM reaches a command that does not handle it as Ctrl-C does "
        "(KeyboardInterrupt).",
    ),
    Key(
        "notify",
        "true or false",
        True,
        "The unit waits for `run` to report the process ready (`Type=notify`): after the project "
        "is loaded, its configuration read and its checks passed, right before the command starts. "
        "False for a process that reports readiness itself.",
    ),
)
BY_NAME = {key.name: key for key in KEYS}


@dataclass(frozen=True)
class Process:
    name: str
    command: tuple = ()
    module: str | None = None
    args: tuple = ()
    description: str = ""
    schedule: str | None = None
    stop_timeout: int = 30
    notify: bool = True

    @property
    def is_job(self):
        return self.schedule is not None

    def command_line(self):
        """What the process runs, as the help and the units show it."""
        if self.module:
            return " ".join(["python -m", self.module, *self.args])
        return " ".join(self.command)


def declared(settings=None):
    """The declared processes by name, in declaration order; raises
    ProcessDeclarationError naming the entry and key at the first problem."""
    if settings is None:
        from django.conf import settings as django_settings

        settings = django_settings
    entries = getattr(settings, SETTING, None)
    if entries is None:
        return {}
    if not isinstance(entries, dict):
        raise ProcessDeclarationError(f"{SETTING}: expected a mapping of process names to declarations")
    return {name: parse(name, entry) for name, entry in entries.items()}


def parse(name, entry):
    where = f"{SETTING}[{name!r}]"
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise ProcessDeclarationError(
            f"{where}: a process name is lower-case letters, digits and dashes, starting with a letter "
            "(it becomes part of unit names)"
        )
    if name in RESERVED:
        raise ProcessDeclarationError(f"{where}: the name {name!r} is used by the web units; choose another")
    if not isinstance(entry, dict):
        raise ProcessDeclarationError(f"{where}: expected a mapping with `command` (see the reference)")
    unknown = sorted(set(entry) - set(BY_NAME))
    if unknown:
        raise ProcessDeclarationError(
            f"{where}: unknown key {', '.join(map(repr, unknown))}; expected {', '.join(BY_NAME)}"
        )
    values = {key.name: entry.get(key.name, key.default) for key in KEYS}
    command, module, args = values["command"], values["module"], values["args"]
    if (command is None) == (module is None):
        raise ProcessDeclarationError(f"{where}: give either `command` (a management command) or `module`")
    for key in ("command", "args"):
        value = values[key]
        if value is not None and not (
            isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value)
        ):
            raise ProcessDeclarationError(f"{where}[{key!r}]: expected a list of strings")
    if command is not None and not command:
        raise ProcessDeclarationError(f"{where}['command']: expected the command's name first, got nothing")
    for key in ("module", "schedule", "description"):
        if values[key] is not None and not isinstance(values[key], str):
            raise ProcessDeclarationError(f"{where}[{key!r}]: expected a string")
    timeout = values["stop_timeout"]
    if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 1:
        raise ProcessDeclarationError(
            f"{where}['stop_timeout']: expected a whole number of seconds, 1 or more"
        )
    if not isinstance(values["notify"], bool):
        raise ProcessDeclarationError(f"{where}['notify']: expected true or false")
    return Process(
        name=name,
        command=tuple(command or ()),
        module=module,
        args=tuple(args or ()),
        description=values["description"],
        schedule=values["schedule"],
        stop_timeout=timeout,
        notify=values["notify"],
    )


def services(processes):
    """The long-running processes (not jobs)."""
    return [process for process in processes.values() if not process.is_job]


def keys_markdown():
    """The keys of a declaration as a Markdown table (reference, config docs)."""
    lines = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for key in KEYS:
        default = "" if key.default in (None, "") else f"`{json.dumps(key.default)}`"
        doc = key.doc.replace("|", "\\|")
        lines.append(f"| `{key.name}` | {key.kind} | {default} | {doc} |")
    return "\n".join(lines) + "\n"


def declared_markdown(declared_processes):
    """The project's own processes, as ``config docs`` lists them."""
    if not declared_processes:
        return f"This project declares no processes (`{SETTING}`).\n"
    lines = ["| process | runs | kind | stop timeout |", "|---|---|---|---|"]
    for process in declared_processes.values():
        kind = f"job, `{process.schedule}`" if process.is_job else "service"
        lines.append(f"| `{process.name}` | `{process.command_line()}` | {kind} | {process.stop_timeout} s |")
    return "\n".join(lines) + "\n"
