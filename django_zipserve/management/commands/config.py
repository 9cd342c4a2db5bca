import sys

from django.core.management.base import CommandError

from django_zipserve.conf import ZipserveConfig
from django_zipserve.conf import documents as generate
from django_zipserve.management.base import ZipserveCommand


class Command(ZipserveCommand):
    help = (
        "Describe and check this project's configuration: 'template yaml|json|toml' "
        "prints a documented starting file with a fresh SECRET_KEY, 'docs' a "
        "Markdown reference, 'show' the resolved values (secrets redacted) and "
        "where each came from, 'check' validates and exits non-zero on a problem."
    )
    # A starting file and the reference describe the configuration: they must
    # work before a valid one exists.
    runs_without_configuration = frozenset({"template", "docs"})

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        template = actions.add_parser("template", help="print a documented starting file")
        template.add_argument("format", choices=generate.FORMATS, nargs="?", default="yaml")
        actions.add_parser("docs", help="print a Markdown reference of every value")
        actions.add_parser("show", help="print the resolved values and their sources, secrets redacted")
        actions.add_parser("check", help="validate the configuration")

    def handle(self, *args, action, **options):
        config = ZipserveConfig.loaded()
        if config is None:
            raise CommandError(
                "this project's settings do not load a django_zipserve.conf.ZipserveConfig "
                "(call Config.load() in settings.py)"
            )
        config_cls = type(config)
        if action == "template":
            self.stdout.write(generate.template(config_cls, options["format"]), ending="")
        elif action == "docs":
            self.stdout.write(generate.markdown(config_cls))
        elif action == "show":
            self.stdout.write(generate.show(config), ending="")
        elif action == "check":
            # Loading already validated it (a bad value exits with status 2
            # before any command runs); say what was read.
            where = config.config_file or "no config file"
            overridden = sorted(key for key in config_cls.model_fields if config.source_of(key) != "default")
            self.stdout.write(f"configuration OK ({where}; set: {', '.join(overridden) or 'nothing'})")
        sys.stdout.flush()
