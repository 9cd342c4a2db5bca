import datetime

from django_zipserve.management.base import ZipserveCommand

from ._release_options import add_release_options, release_store


class Command(ZipserveCommand):
    help = "List the releases under ROOT/releases/, newest first, and which one is current."
    runs_without_configuration = True  # operators list releases without the service's secrets

    def add_arguments(self, parser):
        add_release_options(parser)

    def handle(self, *args, **options):
        store = release_store(options)
        releases = store.list()
        if not releases:
            self.stdout.write(f"no releases in {store.releases}")
        for release in releases:
            installed = datetime.datetime.fromtimestamp(release.installed).strftime("%Y-%m-%d %H:%M:%S")
            marker = "*" if release.current else " "
            self.stdout.write(
                f"{marker} {release.id:<32} installed {installed}  commit "
                f"{(release.record.get('commit') or '-')[:12]}"
            )
