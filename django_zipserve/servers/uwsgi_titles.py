"""Imported by uWSGI in its master process (``--import``, one of our
defaults): each worker (and mule) names itself right after its fork, as
``NAME uWSGI worker N``. Through ``uwsgidecorators.postfork``, so that a
project's own post-fork functions keep running too.

The HTTP router (``--http``) runs no Python: it keeps the master's title.
"""

import uwsgi
from uwsgidecorators import postfork

from ..conf import setting
from .procname import set_title, uwsgi_title


@postfork
def name_this_process():
    if uwsgi.worker_id() or uwsgi.mule_id():
        set_title(uwsgi_title(setting("NAME"), uwsgi.worker_id(), uwsgi.mule_id()))


# With --lazy-apps uWSGI imports this in each worker, after its fork.
if uwsgi.worker_id():
    name_this_process()
