"""A worker as task queues have them: it takes tasks (files in a queue
directory) one at a time, and on SIGTERM finishes the task in hand before
it exits, like django-tasks' db_worker and Celery do."""

import os
import signal
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Work off the tasks in the queue directory, one at a time."

    def add_arguments(self, parser):
        parser.add_argument("--seconds", type=float, default=0.0, help="time each task takes")

    def handle(self, *args, seconds, **options):
        queue = Path(settings.MEDIA_ROOT).parent / "queue"
        queue.mkdir(parents=True, exist_ok=True)
        stopping = []
        signal.signal(signal.SIGTERM, lambda signum, frame: stopping.append(signum))
        print(f"worker {os.getpid()} ready", file=sys.stderr, flush=True)
        while not stopping:
            tasks = sorted(queue.glob("*.task"))
            if not tasks:
                time.sleep(0.05)
                continue
            task = tasks[0]
            claimed = task.with_suffix(".running")
            try:
                task.rename(claimed)  # one worker per task
            except FileNotFoundError:
                continue
            print(f"task {task.stem} started", file=sys.stderr, flush=True)
            time.sleep(seconds)
            claimed.with_suffix(".done").write_text(f"{os.getpid()}\n")
            claimed.unlink()
        print("worker stopped after its task", file=sys.stderr, flush=True)
