import os
import time

from django.conf import settings
from django.http import HttpResponse, JsonResponse


def hello(request):
    return HttpResponse("hello")


def slow(request):
    """Answer after ``?s=`` seconds (at most 10): a request in flight."""
    seconds = min(float(request.GET.get("s", "1")), 10.0)
    time.sleep(seconds)
    return HttpResponse(f"slept {seconds}")


def info(request):
    return JsonResponse({"pid": os.getpid(), "ppid": os.getppid(), "marker": settings.MARKER})
