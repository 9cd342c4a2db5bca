import datetime

from django.core.management.base import BaseCommand

from django_zipserve.deploy.releases import ReleaseStore

from ._release_options import add_release_options, release_name, release_root


class Command(BaseCommand):
    help = "List the releases under ROOT/releases/, newest first, and which one is current."
    requires_system_checks = []

    def add_arguments(self, parser):
        add_release_options(parser)

    def handle(self, *args, **options):
        store = ReleaseStore(release_root(options), release_name(options))
        releases = store.list()
        if not releases:
            self.stdout.write(f"no releases in {store.releases}")
        for release in releases:
            installed = datetime.datetime.fromtimestamp(release.installed).strftime("%Y-%m-%d %H:%M:%S")
            marker = "*" if release.current else " "
            self.stdout.write(f"{marker} {release.id:<32} installed {installed}  commit "
                              f"{(release.record.get('commit') or '-')[:12]}")
