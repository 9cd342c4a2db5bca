"""The server configurations measured, each declared once.

Dynamic page (``/``: a template listing greetings read from SQLite):

=================  ==========================================================
ours-uwsgi         ``example_project.pyz pyuwsgi --http ADDR``: our defaults
ours-gunicorn      ``example_project.pyz gunicorn --bind ADDR``: our defaults
bare-uwsgi         ``pyuwsgi --http ADDR --module … --master`` from a
                   virtualenv: uWSGI's own defaults (1 worker)
bare-gunicorn      ``gunicorn example_project.wsgi --bind ADDR`` from a
                   virtualenv: gunicorn's own defaults (1 sync worker)
equal-uwsgi        bare-uwsgi with ``--processes N``, N = our WORKERS
equal-gunicorn     bare-gunicorn with ``--workers N``
logged-gunicorn    equal-gunicorn with ``--access-logfile -``: what the access
                   log, one of our defaults, costs
full-uwsgi         plain ``pyuwsgi`` from the virtualenv with every one of our
                   uWSGI defaults spelt out on its command line
full-gunicorn      plain ``gunicorn`` likewise with our gunicorn defaults
ours-uwsgi-hs      ours, but ``--http-socket ADDR``: workers speak HTTP
                   themselves, no router process
equal-uwsgi-hs     equal-uwsgi, but ``--http-socket ADDR``
=================  ==========================================================
"""

import signal
from collections.abc import Callable
from dataclasses import dataclass
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
ACCESS_LOG = "plain gunicorn: with / without the access log"
MEANINGS = (BARE_DEFAULTS, SAME_WORKERS, ALL_SETTINGS, SAME_WORKERS_HS, SOCKET_OVER_ROUTER, ACCESS_LOG)


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
    # (the configuration it is divided by, what the ratio shows)
    compared_with: tuple = ()
    # Also loaded with the static file, against nginx.
    serves_static: bool = False
    stop_signal: signal.Signals = signal.SIGTERM

    def argv(self, installation, address):
        return self.command(installation, address)

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


CONFIGURATIONS = (
    Configuration(
        name="ours-uwsgi",
        server=UWSGI,
        description="pyz pyuwsgi, our defaults (--http router)",
        command=_artifact("pyuwsgi", "--http"),
        artifact=True,
        serves_static=True,
        compared_with=_against_plain(UWSGI),
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
        name="ours-gunicorn",
        server=GUNICORN,
        description="pyz gunicorn, our defaults",
        command=_artifact("gunicorn", "--bind"),
        artifact=True,
        serves_static=True,
        compared_with=_against_plain(GUNICORN),
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


def comparisons():
    """(numerator, denominator, meaning) of every ratio reported, grouped by
    what they show."""
    pairs = [
        (configuration.name, baseline, meaning)
        for configuration in CONFIGURATIONS
        for baseline, meaning in configuration.compared_with
    ]
    return sorted(pairs, key=lambda pair: MEANINGS.index(pair[2]))


def _check_declarations():
    unknown = {baseline for _, baseline, _ in comparisons()} - set(NAMES)
    if unknown or len(set(NAMES)) != len(NAMES):
        raise AssertionError(f"configurations: duplicate names or unknown baselines {unknown}")


_check_declarations()
