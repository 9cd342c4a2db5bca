import sys
from pathlib import Path

from django.core.management.base import CommandError

from django_zipserve.conf import ZipserveConfig, setting
from django_zipserve.deploy import systemd
from django_zipserve.management.base import ZipserveCommand
from django_zipserve.zipapp import artifact

from ._release_options import add_release_options, release_name


class Command(ZipserveCommand):
    help = (
        "Render systemd units for this artifact: NAME.socket, which holds the "
        "listening socket, and NAME@.service, a sandboxed template whose @blue and "
        "@green instances share it (see the deployment guide)."
    )
    runs_without_configuration = frozenset({"render"})  # units are written before the secrets exist

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        render = actions.add_parser("render", help="write the unit files")
        add_release_options(render)
        render.add_argument("--output", required=True, help="directory to write the units into")
        render.add_argument("--server", choices=("pyuwsgi", "gunicorn"), default="pyuwsgi")
        render.add_argument(
            "--python",
            help="interpreter that runs the artifact; it must be the Python version the artifact was "
            "built for, and is checked by running it (default: python3.X found on PATH, where 3.X is "
            "that version; outside an artifact, the version running this command)",
        )
        render.add_argument("--listen", help="socket address (default: BIND from the configuration)")
        render.add_argument(
            "--config",
            dest="config_file",
            help="configuration file the service reads (default: /etc/NAME/config.yml)",
        )
        render.add_argument(
            "--credential",
            action="append",
            default=[],
            metavar="NAME",
            help="also load this secret as a credential (SECRET_KEY always is)",
        )
        for directive in systemd.RELAXABLE:
            relaxation = directive.relaxation
            render.add_argument(
                relaxation.flag,
                dest=relaxation.name,
                action="store_true",
                help=f"leave out {directive.name}={directive.value}: {relaxation.cost}",
            )

    def handle(self, *args, action, **options):
        config = ZipserveConfig.loaded()
        name = release_name(options)
        unknown = [
            item
            for item in options["credential"]
            if config is None or item.upper() not in type(config).model_fields
        ]
        if unknown:
            raise CommandError(f"--credential {', '.join(unknown)}: not a setting of this project")
        unit = systemd.UnitOptions(
            name=name,
            listen=options["listen"] or setting("BIND"),
            timeout=setting("TIMEOUT"),
            server=options["server"],
            python=systemd.choose_interpreter(options["python"], built_for()),
            root=options["root"],
            config_file=options["config_file"] or f"/etc/{name}/config.yml",
            credentials=systemd.credentials_for(type(config), extra=options["credential"]) if config else (),
            relaxed=frozenset(
                directive.relaxation.name
                for directive in systemd.RELAXABLE
                if options[directive.relaxation.name]
            ),
        )
        output = Path(options["output"])
        output.mkdir(parents=True, exist_ok=True)
        for filename, text in (
            (f"{name}.socket", systemd.render_socket(unit)),
            (f"{name}@.service", systemd.render_service(unit)),
        ):
            (output / filename).write_text(text, encoding="utf-8")
            self.stdout.write(f"wrote {output / filename}")


def built_for():
    """The Python version the artifact was built for; outside an artifact,
    the one running this command."""
    record = artifact.build_record()
    return record["python"] if record else f"{sys.version_info[0]}.{sys.version_info[1]}"
