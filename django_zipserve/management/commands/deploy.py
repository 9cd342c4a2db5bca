import sys
from pathlib import Path

from django.core.management.base import CommandError

from django_zipserve.deploy.releases import read_record
from django_zipserve.management.base import ZipserveCommand
from django_zipserve.zipapp import artifact

from ._release_options import (
    add_release_options,
    add_switch_options,
    fallback_name_warning,
    release_steps,
    release_store,
    switch_if_asked,
)


class Command(ZipserveCommand):
    help = (
        "Install this artifact (or the one given) as a release under ROOT/releases/, "
        "point ROOT/current at it in one rename, keep the newest --keep releases, "
        "and with --switch move traffic to it (blue/green), then restart the declared processes on it "
        "and check that they keep running."
    )
    runs_without_configuration = True  # operators deploy before the service's secrets exist

    def add_arguments(self, parser):
        parser.add_argument("artifact", nargs="?", help="the .pyz to deploy (default: this one)")
        add_release_options(parser)
        parser.add_argument("--keep", type=int, default=5, help="releases to keep (default: 5)")
        parser.add_argument(
            "--migrate",
            action="store_true",
            help="before current moves, run the new release's migrations as the service would "
            "(NAME-migrate@RELEASE: its user, sandbox, configuration and credentials); a failure "
            "stops the deploy",
        )
        parser.add_argument(
            "--stage",
            action="store_true",
            help="install and prepare the release (extract and check it; with --migrate, migrate) "
            "without moving current or switching: what a rollout across hosts does on every host first; "
            "a later deploy of the same artifact finds it ready",
        )
        add_switch_options(parser)

    def handle(self, *args, **options):
        warning = fallback_name_warning(options)
        if warning:
            self.stderr.write(f"warning: {warning}")
        path = Path(options["artifact"] or sys.argv[0]).resolve()
        record = artifact.build_record() if options["artifact"] is None else read_record(path)
        if options["stage"]:
            self.stage(path, record, options)
            return
        steps = release_steps(self, options, migrate=options["migrate"])
        store = release_store(options)
        deployed = store.deploy(path, record, options["keep"], before_activating=steps)
        self.stdout.write(f"current -> releases/{deployed.release_id} (was {deployed.previous or 'nothing'})")
        for removed in deployed.removed:
            self.stdout.write(f"removed old release {removed}")
        switch_if_asked(self, options, store, live=deployed.previous)

    def stage(self, path, record, options):
        if options["switch"]:
            raise CommandError("--stage prepares a release without switching: leave out --switch")
        store = release_store(options)
        steps = release_steps(self, options, migrate=options["migrate"], stage=True)
        release_id = store.stage(path, record, prepare=steps)
        current = store.current_id()
        self.stdout.write(f"staged releases/{release_id} (current stays {current or 'nothing'})")
