import json
import platform

import django
from django.core.management.base import CommandError

from django_zipserve.health import project_version
from django_zipserve.management.base import ZipserveCommand
from django_zipserve.zipapp import artifact


class Command(ZipserveCommand):
    help = (
        "About the running artifact: 'version' prints the project version, build "
        "id, commit and Python it was built for (also as `version`); 'info' lists "
        "the extractions under the extraction root; 'prune --keep N' removes all "
        "but the current one and the N most recent, never one a running process uses."
    )
    runs_without_configuration = True  # version, info and prune read only the artifact and its cache

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        version = actions.add_parser("version", help="print the version and build record")
        version.add_argument("--json", action="store_true", help="the whole build record as JSON")
        actions.add_parser("info", help="list the extractions")
        prune = actions.add_parser("prune", help="remove old extractions")
        prune.add_argument(
            "--keep",
            type=int,
            default=2,
            help="recent extractions to keep besides the current one (default: 2)",
        )
        prune.add_argument("--dry-run", action="store_true", help="only say what would be removed")

    def handle(self, *args, action, **options):
        if action == "version":
            self.show_version(options["json"])
            return
        current = artifact.current_extraction()
        if current is None:
            raise CommandError("not running from a built zipapp")
        # Extractions of this artifact's file name, beside this one.
        root, name = current.parent, current.name.rpartition("_")[0]
        if action == "info":
            self.show_extractions(root, name)
        else:
            self.prune(root, name, options["keep"], options["dry_run"])

    def show_extractions(self, root, name):
        self.stdout.write(f"extraction root: {root}")
        for item in artifact.extractions(root, name):
            flags = ", ".join(flag for flag, on in (("current", item.current), ("in use", item.in_use)) if on)
            flags = f"  ({flags})" if flags else ""
            self.stdout.write(f"  {item.path.name}  {item.size / 1e6:.1f} MB{flags}")

    def prune(self, root, name, keep, dry_run):
        if keep < 0:
            raise CommandError("--keep must be 0 or more")
        removed, kept = artifact.prune(root, keep, name, dry_run=dry_run)
        verb = "would remove" if dry_run else "removed"
        for item in removed:
            self.stdout.write(f"{verb} {item.path} ({item.size / 1e6:.1f} MB)")
        self.stdout.write(f"{len(removed)} {verb}, {len(kept)} kept")

    def show_version(self, as_json):
        record = artifact.build_record()
        if as_json:
            self.stdout.write(json.dumps(record or {}, indent=2, sort_keys=True))
            return
        if record is None:
            self.stdout.write(f"{project_version() or 'unknown'} (not running from a built artifact)")
        else:
            self.stdout.write(
                f"{record['name']} {record['version']} (build {record['build_id']}, "
                f"commit {record.get('commit') or 'unknown'}, built for Python {record['python']})"
            )
        self.stdout.write(f"Django {django.get_version()}, Python {platform.python_version()}")
