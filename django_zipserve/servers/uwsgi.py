"""uWSGI, embedded through pyuwsgi: production defaults and how they merge.

Our defaults come first on uWSGI's command line and the operator's options
after them; an option the operator gives (on the command line, in an ini,
JSON or YAML file, or as a ``UWSGI_*`` environment variable) drops our
default for that option, so a user argument always wins and a list option
such as ``--http`` is never bound twice.
"""

import configparser
import json
import os
import socket
import sys
from pathlib import Path

from ..conf import setting
from .base import RECYCLE_AFTER, RECYCLE_REASON, Default, listen_fds, wsgi_app_path
from .procname import set_title, uwsgi_title

#: uWSGI's one-letter options and aliases, mapped to one canonical name.
ALIASES = {
    "M": "master",
    "p": "processes",
    "workers": "processes",
    "s": "socket",
    "uwsgi-socket": "socket",
    "w": "module",
    "wsgi": "module",
    "t": "harakiri",
    "b": "buffer-size",
    "T": "enable-threads",
    "i": "single-interpreter",
    "R": "max-requests",
    "x": "xml",
    "xmlconfig": "xml",
    "y": "yaml",
    "yml": "yaml",
    "j": "json",
    "js": "json",
}

#: Options that bind a listening socket: any of them replaces our bind.
SOCKET_OPTIONS = frozenset(
    {
        "http",
        "https",
        "http-socket",
        "http11-socket",
        "https-socket",
        "socket",
        "fastcgi-socket",
        "fastcgi-nph-socket",
        "scgi-socket",
        "scgi-nph-socket",
        "raw-socket",
        "puwsgi-socket",
        "shared-socket",
        "ssl-socket",
        "zerg",
        "http-socket-modifier1",
    }
)

#: Options that load an application: any of them replaces ours.
APP_OPTIONS = frozenset(
    {"module", "wsgi-file", "file", "mount", "eval", "paste", "pymodule-alias", "callable"}
)

CONFIG_FILE_OPTIONS = {"ini", "yaml", "json", "xml", "config", "include"}

# uWSGI's own bookkeeping variables, not options.
INTERNAL_ENV = {"UWSGI_RELOADS", "UWSGI_ORIGINAL_PROC_NAME", "UWSGI_VASSAL_CONFIG"}


#: Remembers the inherited sockets across uWSGI's binary reload (SIGHUP):
#: uWSGI unsets LISTEN_FDS and LISTEN_PID once it has read them, and the
#: master then re-executes our command line as the same pid.
INHERITED_FDS_ENV = "ZIPSERVE_INHERITED_FDS"


def inherited_fds(environ=None):
    """File descriptors of the listening sockets passed to this process:
    by systemd (or a test's socket holder), or kept across a reload."""
    environ = os.environ if environ is None else environ
    count = listen_fds(environ)
    if count:
        return list(range(3, 3 + count))
    pid, _, fds = environ.get(INHERITED_FDS_ENV, "").partition(":")
    if pid != str(os.getpid()):
        return []
    return [int(fd) for fd in fds.split(",") if fd.isdigit()]


def socket_address(fd):
    """uWSGI's name for the listening socket on ``fd``."""
    with socket.socket(fileno=os.dup(fd)) as sock:
        address = sock.getsockname()
        if sock.family == socket.AF_INET6:
            return f"[{address[0]}]:{address[1]}"
        if sock.family == socket.AF_INET:
            return f"{address[0]}:{address[1]}"
        if isinstance(address, bytes):  # an abstract Unix socket
            return "@" + address[1:].decode(errors="surrogateescape")
        return address


def bind_options(conf, environ=None):
    """Where to listen: the inherited sockets under socket activation,
    otherwise the configured address through uWSGI's HTTP router."""
    environ = os.environ if environ is None else environ
    fds = inherited_fds(environ)
    if not fds:
        # The router process reads whole requests before a worker sees them,
        # so slow clients cannot tie up the workers.
        return [f"--http={setting('BIND', conf)}"]
    # uWSGI adopts the inherited sockets itself but speaks its own uwsgi
    # protocol on them unless told otherwise. The workers accept on them
    # directly: uWSGI's router on an inherited socket (--http=fd://3) goes on
    # accepting while the workers stop, which dropped requests in blue/green
    # switches.
    if listen_fds(environ):
        return ["--protocol=http"]
    # After a reload uWSGI still holds the sockets but no longer sees
    # LISTEN_FDS; naming their addresses makes it take them up again.
    return ["--protocol=http", *(f"--socket={socket_address(fd)}" for fd in fds)]


def remember_inherited_sockets(environ=None):
    """Note the inherited sockets for the command uWSGI re-executes on a
    reload (same pid; uWSGI unsets LISTEN_FDS and LISTEN_PID)."""
    environ = os.environ if environ is None else environ
    fds = inherited_fds(environ)
    if fds:
        environ[INHERITED_FDS_ENV] = f"{os.getpid()}:{','.join(map(str, fds))}"


#: The application the workers serve, set by ``run``: the project's WSGI
#: application as the command loaded and warmed it up, with the static
#: front before it when the front is on. uWSGI loads it by name.
application = None
SERVED_APPLICATION = f"{__name__}:application"


def served_app_path(conf=None):
    """What ``--module`` loads: the application ``run`` set, else
    WSGI_APPLICATION."""
    return SERVED_APPLICATION if application is not None else wsgi_app_path(conf)


DEFAULTS = (
    Default("--master", None, "a master process supervises the workers: respawns, graceful reloads"),
    Default("--strict", None, "an unknown or misspelt option is an error, not silently ignored"),
    Default("--need-app", None, "refuse to start when the application cannot be loaded"),
    Default(
        "--die-on-term", None, "SIGTERM (systemd, Docker, timeout) stops uWSGI; in uWSGI 2.0 it would reload"
    ),
    Default(
        "--hook-master-start",
        "unix_signal:15 gracefully_kill_them_all",
        "SIGTERM lets requests in flight finish (die-on-term alone drops them)",
        repeatable=True,
    ),
    Default(
        "--hook-master-start",
        "unix_signal:2 gracefully_kill_them_all",
        "SIGINT (Ctrl-C) as well",
        repeatable=True,
    ),
    Default("--enable-threads", None, "threads started by the application run"),
    Default(
        "--skip-atexit-teardown",
        None,
        "a worker that exits runs the atexit hooks but skips tearing "
        "down the interpreter, where Python 3.12 can hang a graceful stop",
    ),
    Default("--single-interpreter", None, "one Python interpreter, as every Django application expects"),
    Default("--vacuum", None, "remove the sockets and pid files it created on exit"),
    Default(
        "--binary-path",
        lambda conf: sys.executable,
        "reloads re-execute this interpreter, keeping a virtualenv",
    ),
    Default("--buffer-size", 32768, "accept request headers up to 32 KiB (large cookies) instead of 4 KiB"),
    Default.configured("--processes", "WORKERS", "worker processes"),
    Default.configured("--threads", "THREADS", "threads per worker"),
    Default.configured("--harakiri", "TIMEOUT", "kill and replace a worker stuck on one request"),
    Default("--max-requests", RECYCLE_AFTER, RECYCLE_REASON),
    Default("--max-requests-delta", 100, "spread those recycles so workers do not restart together"),
    Default.configured(
        "--worker-reload-mercy",
        "TIMEOUT",
        "seconds a worker may take to finish its requests on reload or stop",
    ),
    Default.configured("--reload-mercy", "TIMEOUT", "seconds the whole reload or shutdown may take"),
    Default("--thunder-lock", None, "workers take turns to accept connections: no thundering herd"),
    Default("--post-buffering", 65536, "read request bodies before the view runs"),
    Default("--ignore-sigpipe", None, "a client that hangs up is not an error"),
    Default("--ignore-write-errors", None, "likewise for write errors to a departed client"),
    Default("--disable-write-exception", None, "and no exception for them in the application"),
    Default(
        "--add-header",
        "Connection: close",
        "uWSGI closes each connection after its response without saying so, and a client that sends "
        "its next request on it (HAProxy's, a connection pool's) gets a reset; with the header it "
        "opens a new one. --http-keepalive or --http11-socket replaces it",
        repeatable=True,
        replaced_by=frozenset({"http-keepalive", "http11-socket"}),
    ),
    Default(
        "--import",
        "django_zipserve.servers.uwsgi_titles",
        "ps shows `NAME uWSGI master` and `NAME uWSGI worker N` (uWSGI's own --auto-procname changes "
        "nothing under pyuwsgi); the HTTP router keeps the master's title",
        repeatable=True,
    ),
    Default(
        "--module",
        served_app_path,
        "the application, as the command warmed it up, behind the static front when it is on "
        f"(`{SERVED_APPLICATION}`); any option that loads one replaces it",
        "WSGI_APPLICATION",
        replaced_by=APP_OPTIONS,
    ),
    Default.configured(
        "--http",
        "BIND",
        "listen through uWSGI's HTTP router; under socket activation, "
        "--protocol=http on the inherited socket instead; any socket option replaces it",
        replaced_by=SOCKET_OPTIONS,
        expand=bind_options,
    ),
)


def defaults(conf=None):
    """uWSGI's production defaults, in command-line order; ``build_args``
    resolves their values (``conf`` here is accepted for callers that pass one)."""
    return list(DEFAULTS)


def canonical(name):
    return ALIASES.get(name, name)


def options_in_args(args):
    """Canonical names of the options in a uWSGI argument list."""
    names = set()
    for arg in args:
        if arg.startswith("--") and len(arg) > 2:
            names.add(canonical(arg[2:].partition("=")[0]))
        elif arg.startswith("-") and len(arg) == 2 and arg[1].isalpha():
            names.add(canonical(arg[1]))
    return names


def config_files_in_args(args):
    """``(kind, path)`` for every config file option in the arguments."""
    found = []
    for index, arg in enumerate(args):
        if arg.startswith("--") and "=" in arg:
            name, _, value = arg[2:].partition("=")
        elif arg.startswith("-") and index + 1 < len(args):
            name, value = arg.lstrip("-"), args[index + 1]
        else:
            continue
        kind = canonical(name)
        if kind in CONFIG_FILE_OPTIONS:
            found.append((kind, value))
    return found


def ini_keys(text):
    parser = configparser.RawConfigParser(strict=False)
    parser.read_string(text)
    return parser["uwsgi"].keys() if parser.has_section("uwsgi") else []


def json_keys(text):
    return json.loads(text).get("uwsgi", {}).keys()


def yaml_keys(text):
    from ruamel.yaml import YAML, YAMLError

    try:
        loaded = YAML(typ="safe", pure=True).load(text)
    except YAMLError as exc:
        raise ValueError(str(exc)) from exc
    return (loaded or {}).get("uwsgi", {}).keys()


def config_file_reader(kind, path):
    """The reader for a config file: ``--ini``, ``--config`` and
    ``--include`` go by the file's extension; None for XML (not read)."""
    if kind in ("ini", "config", "include") and not path.endswith((".json", ".yaml", ".yml")):
        return ini_keys
    if kind == "json" or path.endswith(".json"):
        return json_keys
    if kind == "yaml" or path.endswith((".yaml", ".yml")):
        return yaml_keys
    return None


def options_in_config_file(kind, path):
    """Option names set in a uWSGI config file ([uwsgi] section / key)."""
    path = path.partition(":")[0]  # "file.ini:section" selects a section
    reader = config_file_reader(kind, path)
    if reader is None:
        return set()
    try:
        keys = reader(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, configparser.Error, AttributeError):
        return set()  # an unreadable or malformed file is uWSGI's to report
    return {canonical(key) for key in keys}


def options_in_environ(environ):
    return {
        canonical(key[len("UWSGI_") :].lower().replace("_", "-"))
        for key in environ
        if key.startswith("UWSGI_") and key not in INTERNAL_ENV
    }


def user_options(args, environ=None):
    names = options_in_args(args) | options_in_environ(os.environ if environ is None else environ)
    for kind, path in config_files_in_args(args):
        names |= options_in_config_file(kind, path)
    return names


def build_args(server_args, conf=None, environ=None):
    """Our defaults, minus those the operator's options replace, then the
    operator's arguments."""
    if conf is None:
        from django.conf import settings

        conf = settings

    given = user_options(server_args, environ)
    merged = []
    for default in defaults(conf):
        if not default.is_replaced_by(given):
            merged.extend(default.arguments(conf, environ))
    return merged + list(server_args)


def run(server_args, served=None):
    """Run uWSGI; its workers serve ``served`` (when given) unless the
    operator's options load another application."""
    global application
    import pyuwsgi

    application = served

    # uWSGI prints its own banner; make sure ours (checks, warm-up) is out first.
    sys.stdout.flush()
    sys.stderr.flush()
    args = build_args(server_args)
    # pyuwsgi has copied the command line a reload re-executes: the title
    # changes what ps shows, not what uWSGI runs again.
    set_title(uwsgi_title(setting("NAME")))
    remember_inherited_sockets()
    pyuwsgi.run(args)


def show_help():
    import pyuwsgi

    pyuwsgi.run(["--help"])
