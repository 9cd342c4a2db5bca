from django_zipserve.management.base import ZipserveCommand

from ._release_options import (
    add_release_options,
    add_switch_options,
    release_steps,
    release_store,
    switch_if_asked,
)


class Command(ZipserveCommand):
    help = "Point ROOT/current back at the previous release, and with --switch move traffic to it."
    runs_without_configuration = True  # operators roll back without the service's secrets

    def add_arguments(self, parser):
        add_release_options(parser)
        add_switch_options(parser)

    def handle(self, *args, **options):
        store = release_store(options)
        current = store.current_id()
        previous = store.rollback(before_activating=release_steps(self, options, migrate=False))
        self.stdout.write(f"current -> releases/{previous} (was {current})")
        switch_if_asked(self, options, store, live=current)
