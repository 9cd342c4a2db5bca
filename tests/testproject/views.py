import os
import sys
import time

from django.conf import settings
from django.http import HttpResponse, JsonResponse


def hello(request):
    return HttpResponse("hello")


def slow(request):
    """Answer after ``?s=`` seconds (at most 10): a request in flight."""
    seconds = min(float(request.GET.get("s", "1")), 10.0)
    # Tests wait for this line before they send a signal.
    print(f"slow request started in pid {os.getpid()}", file=sys.stderr, flush=True)
    time.sleep(seconds)
    return HttpResponse(f"slept {seconds}")


def info(request):
    return JsonResponse({"pid": os.getpid(), "ppid": os.getppid(), "marker": settings.MARKER})
