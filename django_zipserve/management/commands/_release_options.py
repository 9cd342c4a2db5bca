"""Options shared by the deploy, rollback, releases and systemd commands."""

import argparse
import math

from django_zipserve.conf import setting
from django_zipserve.conf.errors import DEFAULT_NAME, SYSTEM_CONFIG_FILE
from django_zipserve.deploy import bluegreen, processes, systemd
from django_zipserve.deploy.releases import SITES_FOLDER, ReleaseStore


def add_release_options(parser):
    parser.add_argument("--name", help="release and unit name (default: the project's name)")
    parser.add_argument(
        "--root", help=f"the release folder, holding releases/ and current (default: {SITES_FOLDER}/NAME)"
    )


def release_name(options):
    return options["name"] or setting("NAME")


def fallback_name_warning(options):
    """A warning when units, folders and files would take the name every
    project falls back to, because the project's configuration names none."""
    if options["name"] or setting("NAME") != DEFAULT_NAME:
        return None
    return (
        f"the project's configuration class sets no name, so the fallback {DEFAULT_NAME!r} names "
        f"the units, {SITES_FOLDER}/{DEFAULT_NAME} and {SYSTEM_CONFIG_FILE.format(name=DEFAULT_NAME)}: "
        'set name = "mysite" on its Config class (init writes it), or give --name'
    )


def release_store(options):
    return ReleaseStore(options["root"], release_name(options))


def add_switch_options(parser):
    parser.add_argument(
        "--switch",
        action="store_true",
        help="then switch colours: start the idle NAME@blue/green service, check its health, "
        "stop the live one (systemctl)",
    )
    parser.add_argument(
        "--health-url",
        help="health view to check after starting (default: the health view at the socket unit's address)",
    )
    parser.add_argument(
        "--process-settle",
        type=seconds,
        default=bluegreen.PROCESS_SETTLE,
        metavar="SECONDS",
        help="with --switch: how long each declared process that runs all the time must keep running "
        "after its restart on the new release; one that exits (systemd would restart it for ever) "
        f"fails the command with the end of its journal (default: {bluegreen.PROCESS_SETTLE:g})",
    )


def seconds(text):
    """A duration in seconds, 0 or more (argparse type)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"expected a number of seconds, 0 or more, got {text!r}")
    return value


def switch_if_asked(command, options, store, live):
    """With --switch, move traffic to what ``current`` now points to, then
    restart the declared processes on it and check they keep running
    (timers' jobs pick it up at their next run by themselves). When the
    web switch fails, ``current`` goes back to ``live``, the release the
    live colour still serves: a restart or a reboot then starts that one,
    not the release that just failed."""
    if options["switch"]:
        name = release_name(options)
        try:
            switched = bluegreen.switch_services(name, options["health_url"])
        except bluegreen.SwitchFailed:
            if live is not None:
                store.restore(live)
                command.stderr.write(f"current -> releases/{live} again, the release the live colour serves")
            raise
        for line in switched.report():
            command.stdout.write(line)
        services = [
            systemd.process_unit(name, process) for process in processes.services(processes.declared())
        ]
        for line in bluegreen.restart_processes(name, services, settle=options["process_settle"]):
            command.stdout.write(line)


def release_steps(command, options, migrate, stage=False):
    """What runs for a release before ``current`` moves to it, as a
    ``before_activating`` callable (None: nothing): with --switch,
    ``migrate`` or ``stage``, its extraction, so that the switch starts a
    warm release; with ``migrate``, its migrations."""
    if not (options["switch"] or migrate or stage):
        return None
    steps = [step for step in systemd.RELEASE_STEPS if migrate or not step.migrates]

    def run(release_id):
        for line in bluegreen.run_release_steps(release_name(options), release_id, steps):
            command.stdout.write(f"$ {line}")

    return run
