import json

import django
from django.core.management.base import CommandError

from django_zipserve.management.base import ZipserveCommand
from django_zipserve.zipapp import artifact
from django_zipserve.zipapp.artifact import project_version


class Command(ZipserveCommand):
    help = (
        "About the running artifact: 'version' prints the project version, build "
        "id, commit and Python it was built for (also as `version`); 'info' lists "
        "every extraction under the extraction root with its disk usage; 'prune "
        "--keep N' removes all of this project's but the current one and the N most "
        "recent, never one a running process uses nor another program's; 'extract' "
        "extracts the bundled packages now and says where. The artifact answers "
        "version, info and prune before extracting."
    )
    runs_without_configuration = True  # these read only the artifact and its cache

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        version = actions.add_parser("version", help="print the version and build record")
        version.add_argument("--json", action="store_true", help="the whole build record as JSON")
        actions.add_parser("info", help="list the extractions and their disk usage (as du -sL counts it)")
        prune = actions.add_parser("prune", help="remove old extractions of this project")
        prune.add_argument(
            "--keep",
            type=int,
            default=2,
            help="recent extractions to keep besides the current one (default: 2)",
        )
        prune.add_argument("--dry-run", action="store_true", help="only say what would be removed")
        actions.add_parser(
            "extract", help="extract the bundled packages now (before a first start, a read-only one)"
        )

    def handle(self, *args, action, **options):
        if action == "version":
            self.show_version(options["json"])
            return
        current = artifact.current_extraction()
        if current is None:
            raise CommandError("not running from a built zipapp")
        # Every extraction beside this one is listed; prune removes this
        # project's (its name in the build record, else this file name's).
        root, name = str(current.parent), current.name.rpartition("_")[0]
        project = (artifact.build_record() or {}).get("name")
        if action == "info":
            lines = artifact.info_lines(root, name, str(current), project)
        elif action == "prune":
            if options["keep"] < 0:
                raise CommandError("--keep must be 0 or more")
            keep, dry_run = options["keep"], options["dry_run"]
            lines = artifact.prune_lines(root, name, str(current), keep, dry_run, project)
        else:
            lines = [f"extracted: {current}"]
        for line in lines:
            self.stdout.write(line)

    def show_version(self, as_json):
        record = artifact.build_record()
        if as_json:
            self.stdout.write(json.dumps(record or {}, indent=2, sort_keys=True))
            return
        if record is None:
            self.stdout.write(f"{project_version() or 'unknown'} (not running from a built artifact)")
            self.stdout.write(artifact.runtime_line(django.get_version()))
            return
        for line in artifact.version_lines(record, django.get_version()):
            self.stdout.write(line)
