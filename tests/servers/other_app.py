"""A WSGI application other than the project's: the tests name it where an
operator would name their own (a positional APP_MODULE, a gunicorn config
file's ``wsgi_app``) and check that it, not Django, answers."""


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"other app"]
