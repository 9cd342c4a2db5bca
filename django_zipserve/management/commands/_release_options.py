"""Options shared by the deploy, rollback and releases commands."""

from django.conf import settings

from django_zipserve.deploy.systemd import DEFAULT_ROOT


def add_release_options(parser):
    parser.add_argument("--name", help="release and unit name (default: the project's name)")
    parser.add_argument("--root", help=f"release folder (default: {DEFAULT_ROOT}/NAME)")


def release_name(options):
    return options["name"] or getattr(settings, "ZIPSERVE_NAME", None) or "django"


def release_root(options):
    return options["root"] or f"{DEFAULT_ROOT}/{release_name(options)}"


def add_switch_options(parser):
    parser.add_argument("--switch", action="store_true",
                        help="then switch colours: start the idle NAME@blue/green service, check its health, "
                        "stop the live one (systemctl)")
    parser.add_argument("--health-url", help="health view to check after starting "
                        "(default: /-/health/ at the socket unit's address)")


