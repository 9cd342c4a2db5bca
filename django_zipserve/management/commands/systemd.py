from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from django_zipserve.deploy import systemd
from django_zipserve.conf import ZipserveConfig


class Command(BaseCommand):
    help = (
        "Render systemd units for this artifact: NAME.socket, which holds the "
        "listening socket, and NAME@.service, a sandboxed template whose @blue and "
        "@green instances share it (see the deployment guide)."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        render = actions.add_parser("render", help="write the unit files")
        render.add_argument("--name", help="unit and directory name (default: the project's name)")
        render.add_argument("--output", required=True, help="directory to write the units into")
        render.add_argument("--server", choices=("pyuwsgi", "gunicorn"), default="pyuwsgi")
        render.add_argument("--python", default=systemd.DEFAULT_PYTHON,
                            help=f"interpreter that runs the artifact (default: {systemd.DEFAULT_PYTHON})")
        render.add_argument("--root", default=systemd.DEFAULT_ROOT,
                            help="parent of the release folder: ROOT/NAME/current/NAME.pyz (default: /srv)")
        render.add_argument("--listen", help="socket address (default: BIND from the configuration)")
        render.add_argument("--config", dest="config_file", help="configuration file the service reads "
                            "(default: /etc/NAME/config.yml)")
        render.add_argument("--credential", action="append", default=[], metavar="NAME",
                            help="also load this secret as a credential (SECRET_KEY always is)")
        render.add_argument("--allow-write-execute", action="store_true",
                            help="leave out MemoryDenyWriteExecute= (for JITs, cffi callbacks)")
        render.add_argument("--full-proc", action="store_true",
                            help="leave out ProcSubset=pid (for psutil and the like)")

    def handle(self, *args, action, **options):
        config = ZipserveConfig.loaded()
        name = options["name"] or getattr(settings, "ZIPSERVE_NAME", None) or "django"
        unknown = [item for item in options["credential"]
                   if config is None or item.upper() not in type(config).model_fields]
        if unknown:
            raise CommandError(f"--credential {', '.join(unknown)}: not a setting of this project")
        unit = systemd.UnitOptions(
            name=name,
            server=options["server"],
            python=options["python"],
            root=options["root"],
            listen=options["listen"] or getattr(settings, "ZIPSERVE_BIND", "127.0.0.1:8000"),
            config_file=options["config_file"] or f"/etc/{name}/config.yml",
            credentials=systemd.credentials_for(type(config), extra=options["credential"]) if config else (),
            timeout=getattr(settings, "ZIPSERVE_TIMEOUT", 30),
            allow_write_execute=options["allow_write_execute"],
            full_proc=options["full_proc"],
        )
        output = Path(options["output"])
        output.mkdir(parents=True, exist_ok=True)
        for filename, text in ((f"{name}.socket", systemd.render_socket(unit)),
                               (f"{name}@.service", systemd.render_service(unit))):
            (output / filename).write_text(text, encoding="utf-8")
            self.stdout.write(f"wrote {output / filename}")
