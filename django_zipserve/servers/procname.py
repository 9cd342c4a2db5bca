"""Process titles: ``ps`` shows the project's name and each process's role.

gunicorn sets its own titles (``gunicorn: master [mysite]``, ``gunicorn:
worker [mysite]``) when the ``setproctitle`` package is installed, which
django-zipserve depends on. uWSGI's own ``--auto-procname`` and
``--procname-prefix-spaced`` change nothing under pyuwsgi: uWSGI writes the
titles into a copy of the command line that pyuwsgi made, not into the
process's own (``/proc/PID/cmdline`` stays the Python command line, checked
with pyuwsgi 2.0.30). So the master is named before uWSGI starts, and each
worker right after its fork, with ``setproctitle``, by the module that
uWSGI imports in the master (:mod:`.uwsgi_titles`, ``--import``).
"""


def set_title(title):
    """Set this process's title; False when setproctitle is missing."""
    try:
        import setproctitle
    except ImportError:
        return False
    setproctitle.setproctitle(title)
    return True


def uwsgi_title(name, worker=0, mule=0):
    """``NAME uWSGI master``, ``NAME uWSGI worker N`` or ``NAME uWSGI mule N``."""
    if worker:
        return f"{name} uWSGI worker {worker}"
    if mule:
        return f"{name} uWSGI mule {mule}"
    return f"{name} uWSGI master"
