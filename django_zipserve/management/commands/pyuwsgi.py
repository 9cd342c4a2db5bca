from django_zipserve.management.server_command import ServerCommand
from django_zipserve.servers import uwsgi


class Command(ServerCommand):
    help = (
        "Serve this project with uWSGI (embedded through pyuwsgi). Every "
        "argument is passed to uWSGI unchanged, after production defaults. "
        "SIGTERM or SIGINT stops gracefully; SIGHUP reloads from the same "
        "command line, picking up a replaced artifact."
    )
    server_name = "uwsgi"
    asgi_refusal = "uWSGI serves WSGI only: serve ASGI_APPLICATION with `gunicorn --asgi`"

    def defaults(self):
        return uwsgi.defaults()

    def run_server(self, server_args, application, asgi_application=None):
        uwsgi.run(server_args, application)

    def show_server_help(self):
        uwsgi.show_help()
