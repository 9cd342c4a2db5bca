"""The server configurations measured, each declared once.

Dynamic page (``/``: a template listing greetings read from SQLite), and
for ours also the static file and the upload (against nginx):

====================  ======================================================
ours-uwsgi            ``example_project.pyz pyuwsgi --http ADDR``: our defaults
ours-gunicorn         ``example_project.pyz gunicorn --bind ADDR``: our defaults
ours-gunicorn-asgi    ``example_project.pyz gunicorn --asgi --bind ADDR``: our
                      defaults, gunicorn's asgi worker
bare-uwsgi            ``pyuwsgi --http ADDR --module … --master`` from a
                      virtualenv: uWSGI's own defaults (1 worker)
bare-gunicorn         ``gunicorn example_project.wsgi --bind ADDR`` from a
                      virtualenv: gunicorn's own defaults (1 sync worker)
equal-uwsgi           bare-uwsgi with ``--processes N``, N = our WORKERS
equal-gunicorn        bare-gunicorn with ``--workers N``
logged-gunicorn       equal-gunicorn with ``--access-logfile -``: what the
                      access log, one of our defaults, costs
full-uwsgi            plain ``pyuwsgi`` from the virtualenv with every one of
                      our uWSGI defaults spelt out on its command line
full-gunicorn         plain ``gunicorn`` likewise with our gunicorn defaults
ours-uwsgi-hs         ours, but ``--http-socket ADDR``: workers speak HTTP
                      themselves, no router process (as under systemd's socket
                      activation); also the static file and the upload
equal-uwsgi-hs        equal-uwsgi, but ``--http-socket ADDR``
ours-uwsgi-cores      ours-uwsgi-hs with ``WORKERS`` = the number of cores
                      (one worker per core, not two): the setting
                      docs/servers.rst suggests for a site whose traffic is
                      mostly static files; also the static file and the upload
====================  ======================================================

Static file only (no dynamic page, no upload: they differ from their ``ours-*``
twin in nothing else), today's behaviour measured in the same run:

====================  ======================================================
django-uwsgi          ours-uwsgi with ``STATIC_FRONT=false``: Django's
                      WhiteNoise middleware answers static files
django-gunicorn       ours-gunicorn likewise; its answer is the reference the
                      static file's headers are checked against
django-gunicorn-asgi  ours-gunicorn-asgi likewise
====================  ======================================================
"""

import os
import signal
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from our_defaults import OurDefaults

UWSGI, GUNICORN = "uwsgi", "gunicorn"
# Plain uWSGI 2.0 *reloads* on SIGTERM; SIGINT stops it. Ours (whose
# defaults hook SIGTERM) and gunicorn stop on SIGTERM.
PLAIN_UWSGI_STOP = signal.SIGINT

# What a ratio shows; reports list the ratios in this order.
BARE_DEFAULTS = "ours / bare defaults"
SAME_WORKERS = "ours / plain, same workers"
ALL_SETTINGS = "ours / plain, all the same settings"
SAME_WORKERS_HS = "ours / plain, same workers (--http-socket)"
SOCKET_OVER_ROUTER = "--http-socket / --http router (ours)"
ASGI_OVER_SYNC = "gunicorn --asgi / sync workers (ours)"
ACCESS_LOG = "plain gunicorn: with / without the access log"
WITH_FRONT = "with / without the static front"
PER_CORE = "one worker per core / two per core (ours, --http-socket)"
MEANINGS = (
    BARE_DEFAULTS,
    SAME_WORKERS,
    ALL_SETTINGS,
    SAME_WORKERS_HS,
    SOCKET_OVER_ROUTER,
    ASGI_OVER_SYNC,
    ACCESS_LOG,
    PER_CORE,
    WITH_FRONT,
)

# What a configuration is loaded with: the dynamic page (its workers'
# memory is read after it), the static file and the upload (both against
# nginx).
DYNAMIC, STATIC, MEDIA = "dynamic", "static", "media"
LOADS = (DYNAMIC, STATIC, MEDIA)
# The artifact's static front stands aside: Django's WhiteNoise middleware
# answers static files, as it did before the front.
FRONT_OFF = ("STATIC_FRONT", "false")
# The answer the static file's headers are checked against: Django's
# WhiteNoise middleware behind gunicorn, which adds no header of its own
# but transport ones (Server, Date, Connection).
HEADER_REFERENCE = "django-gunicorn"
# The cores the servers and wrk share, as our WORKERS default counts them.
CORES = os.cpu_count() or 1


@dataclass(frozen=True)
class Installation:
    """Where the servers come from: the artifact run by the virtualenv's
    interpreter, that virtualenv's console scripts, and our defaults."""

    python: str
    pyz: str
    venv: Path
    workers: int
    ours: OurDefaults

    def script(self, name):
        return str(self.venv / "bin" / name)


@dataclass(frozen=True)
class Configuration:
    name: str
    server: str  # UWSGI or GUNICORN: how its workers are found
    description: str  # "{workers}" stands for our WORKERS default
    command: Callable[[Installation, str], list]  # (installation, "host:port") -> argv
    # Runs the artifact, which knows its settings module; the virtualenv's
    # servers are told with DJANGO_SETTINGS_MODULE.
    artifact: bool = False
    # (the configuration it is divided by, what the ratio shows): dynamic page
    compared_with: tuple = ()
    # Likewise for the static file.
    static_compared_with: tuple = ()
    # What it is loaded with, of LOADS.
    loads: tuple = (DYNAMIC,)
    # (name, value) of the environment variables set on top of the test bed's.
    environment: tuple = ()
    stop_signal: signal.Signals = signal.SIGTERM

    def argv(self, installation, address):
        return self.command(installation, address)

    @property
    def serves_static(self):
        return STATIC in self.loads

    @property
    def static_front(self):
        """Whether our static front answers static files: the artifact's
        servers do unless told otherwise; the plain servers have none."""
        return self.artifact and FRONT_OFF not in self.environment

    def describe(self, installation):
        return self.description.format(workers=installation.workers)


UWSGI_APP = ("--module", "example_project.wsgi:application", "--master")
GUNICORN_APP = "example_project.wsgi"


def _artifact(*args):
    """The artifact's own server command: our defaults."""
    return lambda i, address: [i.python, i.pyz, *args, address]


def _plain_uwsgi(address_flag, same_workers=False):
    """pyuwsgi from the virtualenv, with our worker count or uWSGI's (1)."""

    def argv(i, address):
        workers = ["--processes", str(i.workers)] if same_workers else []
        return [i.script("pyuwsgi"), address_flag, address, *UWSGI_APP, *workers]

    return argv


def _plain_gunicorn(*extra, same_workers=False):
    """gunicorn from the virtualenv, with our worker count or gunicorn's (1)."""

    def argv(i, address):
        workers = ["--workers", str(i.workers)] if same_workers else []
        return [i.script("gunicorn"), GUNICORN_APP, "--bind", address, *workers, *extra]

    return argv


def _against_plain(server):
    """Ours against the plain server: with its own defaults, with our worker
    count, with all our settings."""
    return (
        (f"bare-{server}", BARE_DEFAULTS),
        (f"equal-{server}", SAME_WORKERS),
        (f"full-{server}", ALL_SETTINGS),
    )


def _and_without_front(ours):
    """`ours`, and its twin with the static front off (``django-*``): today's
    static file, measured in the same run, which `ours` is divided by. The
    twin is loaded with the static file only: the front changes nothing else."""
    twin = replace(
        ours,
        name=ours.name.replace("ours-", "django-", 1),
        description=f"{ours.description}, STATIC_FRONT=false",
        compared_with=(),
        loads=(STATIC,),
        environment=(*ours.environment, FRONT_OFF),
    )
    return replace(ours, static_compared_with=(*ours.static_compared_with, (twin.name, WITH_FRONT))), twin


CONFIGURATIONS = (
    *_and_without_front(
        Configuration(
            name="ours-uwsgi",
            server=UWSGI,
            description="pyz pyuwsgi, our defaults (--http router)",
            command=_artifact("pyuwsgi", "--http"),
            artifact=True,
            loads=LOADS,
            compared_with=_against_plain(UWSGI),
        )
    ),
    Configuration(
        name="equal-uwsgi",
        server=UWSGI,
        description="venv pyuwsgi --http --processes {workers}",
        command=_plain_uwsgi("--http", same_workers=True),
        stop_signal=PLAIN_UWSGI_STOP,
    ),
    Configuration(
        name="full-uwsgi",
        server=UWSGI,
        description="venv pyuwsgi with all our defaults as flags",
        command=lambda i, address: [i.script("pyuwsgi"), *i.ours.uwsgi_args(address)],
    ),
    Configuration(
        name="bare-uwsgi",
        server=UWSGI,
        description="venv pyuwsgi, uWSGI defaults (--http router, 1 worker)",
        command=_plain_uwsgi("--http"),
        stop_signal=PLAIN_UWSGI_STOP,
    ),
    Configuration(
        name="ours-uwsgi-hs",
        server=UWSGI,
        description="pyz pyuwsgi, our defaults but --http-socket (no router)",
        command=_artifact("pyuwsgi", "--http-socket"),
        artifact=True,
        loads=LOADS,
        compared_with=(("equal-uwsgi-hs", SAME_WORKERS_HS), ("ours-uwsgi", SOCKET_OVER_ROUTER)),
    ),
    Configuration(
        name="equal-uwsgi-hs",
        server=UWSGI,
        description="venv pyuwsgi --http-socket --processes {workers}",
        command=_plain_uwsgi("--http-socket", same_workers=True),
        stop_signal=PLAIN_UWSGI_STOP,
    ),
    Configuration(
        name="ours-uwsgi-cores",
        server=UWSGI,
        description=f"ours-uwsgi-hs with WORKERS={CORES} (one per core)",
        command=_artifact("pyuwsgi", "--http-socket"),
        artifact=True,
        loads=LOADS,
        environment=(("WORKERS", str(CORES)),),
        compared_with=(("ours-uwsgi-hs", PER_CORE),),
    ),
    *_and_without_front(
        Configuration(
            name="ours-gunicorn",
            server=GUNICORN,
            description="pyz gunicorn, our defaults",
            command=_artifact("gunicorn", "--bind"),
            artifact=True,
            loads=LOADS,
            compared_with=_against_plain(GUNICORN),
        )
    ),
    Configuration(
        name="equal-gunicorn",
        server=GUNICORN,
        description="venv gunicorn --workers {workers}",
        command=_plain_gunicorn(same_workers=True),
    ),
    Configuration(
        name="logged-gunicorn",
        server=GUNICORN,
        description="venv gunicorn --workers {workers} --access-logfile -",
        command=_plain_gunicorn("--access-logfile", "-", same_workers=True),
        compared_with=(("equal-gunicorn", ACCESS_LOG),),
    ),
    Configuration(
        name="full-gunicorn",
        server=GUNICORN,
        description="venv gunicorn with all our defaults as flags",
        command=lambda i, address: [
            i.script("gunicorn"),
            GUNICORN_APP,
            "--bind",
            address,
            *i.ours.gunicorn_args(),
        ],
    ),
    Configuration(
        name="bare-gunicorn",
        server=GUNICORN,
        description="venv gunicorn, gunicorn defaults (1 sync worker)",
        command=_plain_gunicorn(),
    ),
    *_and_without_front(
        Configuration(
            name="ours-gunicorn-asgi",
            server=GUNICORN,
            description="pyz gunicorn --asgi, our defaults (asgi worker)",
            command=_artifact("gunicorn", "--asgi", "--bind"),
            artifact=True,
            loads=LOADS,
            compared_with=(("ours-gunicorn", ASGI_OVER_SYNC),),
        )
    ),
)
NAMES = tuple(configuration.name for configuration in CONFIGURATIONS)


def select(only):
    """The configurations named in `only` (comma-separated; all when empty),
    in their usual order. ValueError for an unknown name."""
    if not only:
        return CONFIGURATIONS
    wanted = {name.strip() for name in only.split(",") if name.strip()}
    unknown = wanted - set(NAMES)
    if not wanted:
        raise ValueError(f"no configuration named; known: {', '.join(NAMES)}")
    if unknown:
        raise ValueError(f"unknown configuration(s): {', '.join(sorted(unknown))}; known: {', '.join(NAMES)}")
    return tuple(configuration for configuration in CONFIGURATIONS if configuration.name in wanted)


def comparisons(kind=DYNAMIC):
    """(numerator, denominator, meaning) of every ratio reported for the
    dynamic page or the static file (`kind`), grouped by what they show."""
    pairs = [
        (configuration.name, baseline, meaning)
        for configuration in CONFIGURATIONS
        for baseline, meaning in (
            configuration.static_compared_with if kind == STATIC else configuration.compared_with
        )
    ]
    return sorted(pairs, key=lambda pair: MEANINGS.index(pair[2]))


def header_reference(configurations):
    """The name of the configuration whose answer for the static file the
    others' are checked against: HEADER_REFERENCE, else another one without
    the front, else the first serving the static file (None without any)."""
    static = [c for c in configurations if c.serves_static]
    ranked = sorted(static, key=lambda c: (c.name != HEADER_REFERENCE, c.static_front))
    return ranked[0].name if ranked else None


def _check_declarations():
    by_name = {c.name: c for c in CONFIGURATIONS}
    pairs = [(kind, top, bottom) for kind in (DYNAMIC, STATIC) for top, bottom, _ in comparisons(kind)]
    unknown = {bottom for _, _, bottom in pairs} - set(NAMES)
    # A ratio divides figures both configurations have.
    unmeasured = [
        (top, bottom)
        for kind, top, bottom in pairs
        if bottom in by_name and not (kind in by_name[top].loads and kind in by_name[bottom].loads)
    ]
    if unknown or unmeasured or len(set(NAMES)) != len(NAMES):
        raise AssertionError(
            f"configurations: duplicate names, unknown baselines {unknown} or unmeasured ratios {unmeasured}"
        )
    if HEADER_REFERENCE not in by_name or by_name[HEADER_REFERENCE].static_front:
        raise AssertionError(f"configurations: {HEADER_REFERENCE} must serve static files without the front")


_check_declarations()
