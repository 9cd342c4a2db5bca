import os
import sys
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError

from django_zipserve.conf import ZipserveConfig, django_settings
from django_zipserve.conf import documents as generate
from django_zipserve.deploy import processes
from django_zipserve.management.base import ZipserveCommand


class Command(ZipserveCommand):
    help = (
        "Describe and check this project's configuration: 'template yaml|json|toml "
        "[--output FILE]' writes a documented starting file with a fresh SECRET_KEY "
        "(to FILE, created with mode 0600, or standard output; what the project's settings print "
        "goes to standard error), 'docs' a "
        "Markdown reference, 'show' the resolved values (secrets redacted) and "
        "where each came from, 'check' validates and exits non-zero on a problem."
    )
    # A starting file and the reference describe the configuration: they must
    # work before a valid one exists.
    runs_without_configuration = frozenset({"template", "docs"})

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        template = actions.add_parser(
            "template",
            help="print a documented starting file (with --output FILE: write it to FILE)",
            description=(
                "A documented starting configuration file with a fresh SECRET_KEY. Write it with "
                "--output FILE rather than by redirecting standard output: the file is created "
                "readable by its owner only (mode 0600), for the secret it holds."
            ),
        )
        template.add_argument("format", choices=generate.FORMATS, nargs="?", default="yaml")
        template.add_argument(
            "--output",
            "-o",
            metavar="FILE",
            help="write the file to FILE (mode 0600: it holds a secret key) instead of standard output",
        )
        template.add_argument("--force", action="store_true", help="with --output: replace FILE if it exists")
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
            self.write_template(config_cls, options["format"], options.get("output"), options.get("force"))
        elif action == "docs":
            self.stdout.write(generate.markdown(config_cls))
            self.stdout.write(f"\n## Processes (`{processes.SETTING}`)\n")
            self.stdout.write(processes.declared_markdown(processes.declared()) + "\n")
            self.stdout.write(processes.keys_markdown())
        elif action == "show":
            self.stdout.write(generate.show(config), ending="")
            self.stdout.write(f"\ndefault database: {self.database_origin(config)}")
        elif action == "check":
            # Loading already validated it (a bad value exits with status 2
            # before any command runs); say what was read.
            where = config.config_file or "no config file"
            overridden = sorted(key for key in config_cls.model_fields if config.source_of(key) != "default")
            self.stdout.write(f"configuration OK ({where}; set: {', '.join(overridden) or 'nothing'})")
            self.stdout.write(f"default database: {self.database_origin(config)}")
        sys.stdout.flush()

    def database_origin(self, config):
        return django_settings.database_origin(config, settings.DATABASES.get("default", {}))

    def write_template(self, config_cls, fmt, output, force):
        # Only once the settings are loaded (and have printed whatever they
        # print): the text goes out in one piece, after it.
        settings.INSTALLED_APPS  # noqa: B018
        text = generate.template(config_cls, fmt)
        if output is None:
            sys.stdout.flush()
            self.stdout.write(text, ending="")
            return
        write_secret_file(Path(output), text, force=force)
        self.stderr.write(f"wrote {output} (mode 0600; it holds a fresh SECRET_KEY)")


def write_secret_file(path, text, *, force):
    """``text`` to ``path``, readable by its owner only; an existing file is
    replaced (atomically) with ``force`` only."""
    if path.is_dir():
        raise CommandError(f"--output {path}: is a directory")
    if not force:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise CommandError(f"--output {path}: the file exists; add --force to replace it") from None
        except OSError as exc:
            raise CommandError(f"--output {path}: {exc.strerror}") from None
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
        return
    try:
        fd, temporary = tempfile.mkstemp(dir=path.parent or ".", prefix=f".{path.name}.")  # mode 0600
    except OSError as exc:
        raise CommandError(f"--output {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
