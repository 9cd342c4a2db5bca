import sys
from pathlib import Path

from django.core.management.base import CommandError

from django_zipserve.conf import ZipserveConfig, setting, sources
from django_zipserve.conf.errors import SYSTEM_CONFIG_FILE
from django_zipserve.deploy import processes, systemd
from django_zipserve.management.base import ZipserveCommand
from django_zipserve.management.server_command import asgi_refusal
from django_zipserve.zipapp import artifact

from . import gunicorn, pyuwsgi
from ._release_options import add_release_options, fallback_name_warning, release_name


class Command(ZipserveCommand):
    help = (
        "Render systemd units for this artifact: NAME.socket, which holds the "
        "listening socket (on BIND of the configuration file, read without its secrets); "
        "NAME@.service, a sandboxed template whose @blue and @green instances share it; "
        "NAME-prepare@.service and NAME-migrate@.service, which deploy runs for a new "
        "release before it becomes current, with the same user and sandbox; and for each "
        "process in ZIPSERVE_PROCESSES a NAME-PROCESS.service, plus a NAME-JOB.timer for a "
        "job with a schedule (see the deployment guide)."
    )
    runs_without_configuration = frozenset({"render"})  # units are written before the secrets exist

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        render = actions.add_parser("render", help="write the unit files")
        add_release_options(render)
        render.add_argument("--output", required=True, help="directory to write the units into")
        render.add_argument("--server", choices=tuple(SERVER_COMMANDS), default="pyuwsgi")
        render.add_argument(
            "--asgi",
            action="store_true",
            help="serve ASGI_APPLICATION (gunicorn --asgi; needs --server gunicorn)",
        )
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
            help=f"configuration file the service reads (default: {SYSTEM_CONFIG_FILE.format(name='NAME')})",
        )
        render.add_argument(
            "--credential",
            action="append",
            default=[],
            metavar="NAME",
            help="also load this secret as a credential (SECRET_KEY always is)",
        )
        for directive, relaxation in systemd.RELAXATIONS:
            render.add_argument(
                relaxation.flag,
                dest=relaxation.name,
                action="store_true",
                help=f"leave out {directive.name}={directive.value}: {relaxation.cost}",
            )

    def handle(self, *args, action, **options):
        config = ZipserveConfig.loaded()
        name = release_name(options)
        warning = fallback_name_warning(options)
        if warning:
            self.stderr.write(f"warning: {warning}")
        unknown = [
            item
            for item in options["credential"]
            if config is None or item.upper() not in type(config).model_fields
        ]
        if unknown:
            raise CommandError(f"--credential {', '.join(unknown)}: not a setting of this project")
        config_file = (
            options["config_file"] or sources.command_line_file() or SYSTEM_CONFIG_FILE.format(name=name)
        )
        server = server_command(options["server"], options["asgi"])
        python = systemd.choose_interpreter(options["python"], built_for())
        warning = systemd.hidden_interpreter_warning(python)
        if warning:
            self.stderr.write(f"warning: {warning}")
        declared = processes.declared()
        for process in declared.values():
            if process.is_job:
                systemd.check_schedule(process)
        values, note = service_values(config, config_file, explicit=bool(options["config_file"]))
        unit = systemd.UnitOptions(
            name=name,
            listen=options["listen"] or values["BIND"],
            timeout=values["TIMEOUT"],
            server=server,
            python=python,
            root=options["root"],
            config_file=config_file,
            credentials=systemd.credentials_for(type(config), extra=options["credential"]) if config else (),
            relaxed=frozenset(
                relaxation.name for _, relaxation in systemd.RELAXATIONS if options[relaxation.name]
            ),
        )
        output = Path(options["output"])
        output.mkdir(parents=True, exist_ok=True)
        for filename, text in systemd.render_units(unit, declared.values()):
            (output / filename).write_text(text, encoding="utf-8")
            self.stdout.write(f"wrote {output / filename}")
        if note:
            self.stderr.write(note)


#: The server commands a unit may run, by name.
SERVER_COMMANDS = {"pyuwsgi": pyuwsgi.Command, "gunicorn": gunicorn.Command}


def server_command(server, asgi):
    """The server command the web units run, as ``ExecStart`` ends."""
    if not asgi:
        return server
    refusal = asgi_refusal(SERVER_COMMANDS[server]())
    if refusal:
        raise CommandError(refusal)
    return f"{server} --asgi"


def service_values(config, config_file, explicit):
    """``(values, note)``: BIND and TIMEOUT as the service will read them,
    from its configuration file and this environment, without its secrets
    (credentials, which only the service can read); a note when the file
    does not exist yet."""
    if config is None:  # the project does not use ZipserveConfig
        return {"BIND": setting("BIND"), "TIMEOUT": setting("TIMEOUT")}, ""
    if Path(config_file).is_file():
        return type(config).public_values(config_file), ""
    if explicit:
        raise CommandError(f"--config {config_file}: file not found (the service would read it)")
    values = type(config).public_values()
    note = (
        f"note: no {config_file} yet: the units listen on {values['BIND']} (BIND from this "
        "environment or the default); write the file first to have it read from there"
    )
    return values, note


def built_for():
    """The Python version the artifact was built for; outside an artifact,
    the one running this command."""
    record = artifact.build_record()
    return record["python"] if record else f"{sys.version_info[0]}.{sys.version_info[1]}"
