from django.core.management.base import BaseCommand, CommandError

from django_zipserve.deploy.releases import ReleaseError, ReleaseStore

from ._release_options import add_release_options, add_switch_options, release_name, release_root
from .deploy import switch


class Command(BaseCommand):
    help = "Point ROOT/current back at the previous release, and with --switch move traffic to it."
    requires_system_checks = []

    def add_arguments(self, parser):
        add_release_options(parser)
        add_switch_options(parser)

    def handle(self, *args, **options):
        store = ReleaseStore(release_root(options), release_name(options))
        current = store.current_id()
        try:
            previous = store.rollback()
        except ReleaseError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"current -> releases/{previous} (was {current})")
        if options["switch"]:
            switch(self, release_name(options), options)
