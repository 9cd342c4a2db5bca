from django_zipserve.management.server_command import ServerCommand
from django_zipserve.servers import gunicorn


class Command(ServerCommand):
    help = (
        "Serve this project with gunicorn. Every argument is passed to "
        "gunicorn unchanged; our production defaults rank below gunicorn's "
        "config file, GUNICORN_CMD_ARGS and the command line. SIGTERM or "
        "SIGINT stops gracefully; SIGUSR2 re-executes the same command line "
        "(binary upgrade); SIGHUP only replaces the workers. With --asgi it serves "
        "ASGI_APPLICATION with gunicorn's asgi worker."
    )
    server_name = "gunicorn"

    @property
    def asgi_refusal(self):
        return gunicorn.asgi_refusal()

    def defaults(self):
        return gunicorn.defaults()

    def run_server(self, server_args, application, asgi_application=None):
        gunicorn.run(server_args, application, asgi_application)

    def show_server_help(self):
        gunicorn.show_help()
