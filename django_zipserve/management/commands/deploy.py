import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from django_zipserve.deploy import bluegreen
from django_zipserve.zipapp import artifact
from django_zipserve.deploy.releases import ReleaseError, ReleaseStore

from ._release_options import add_release_options, add_switch_options, release_name, release_root


class Command(BaseCommand):
    help = (
        "Install this artifact (or the one given) as a release under ROOT/releases/, "
        "point ROOT/current at it in one rename, keep the newest --keep releases, "
        "and with --switch move traffic to it (blue/green)."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("artifact", nargs="?", help="the .pyz to deploy (default: this one)")
        add_release_options(parser)
        parser.add_argument("--keep", type=int, default=5, help="releases to keep (default: 5)")
        add_switch_options(parser)

    def handle(self, *args, **options):
        store = ReleaseStore(release_root(options), release_name(options))
        path = Path(options["artifact"] or sys.argv[0]).resolve()
        record = artifact.build_record() if options["artifact"] is None else read_record(path)
        if record is None:
            raise CommandError(f"{path} is not an artifact built by django-zipserve (no build record)")
        try:
            release_id = store.install(path, record)
            previous = store.activate(release_id)
        except (ReleaseError, OSError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"current -> releases/{release_id} (was {previous or 'nothing'})")
        for removed in store.prune(options["keep"]):
            self.stdout.write(f"removed old release {removed}")
        if options["switch"]:
            switch(self, release_name(options), options)


def read_record(path):
    """The build record inside another artifact, read without running it."""
    import json
    import zipfile

    from django_zipserve.zipapp.boot import RECORD_NAME

    try:
        with zipfile.ZipFile(path) as archive:
            return json.loads(archive.read(f"site-packages/{RECORD_NAME}"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None


def switch(command, name, options):
    manager = bluegreen.Systemctl(name)
    try:
        result = bluegreen.switch(manager, options["health_url"] or manager.health_url())
    except bluegreen.SwitchFailed as exc:
        raise CommandError(f"switch failed, the live colour keeps serving: {exc}") from None
    finally:
        for line in manager.log:
            command.stdout.write(f"$ {line}")
    command.stdout.write(f"switched {result.old} -> {result.new} in {result.seconds:.1f} s")
