"""Background tasks, run by the declared ``worker`` process (django-tasks'
``db_worker``), never inside a web request."""

import os
import time

try:
    from django.tasks import task  # Django 6
except ImportError:  # Django 5.2: the django-tasks backport
    from django_tasks import task


@task()
def shout(text, seconds=0.0):
    """Upper-cases ``text`` after ``seconds`` of pretend work; the answer
    names the worker process, so a test can tell who ran it."""
    time.sleep(min(float(seconds), 30.0))
    return {"text": text.upper(), "pid": os.getpid()}
