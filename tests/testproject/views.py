import os
import sys
import time

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render


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


def broken(request):
    """A page whose template is missing: what a release with a
    working-directory-relative template directory serves."""
    return render(request, "home.html")


def page(request, slug):
    """A CMS-like page tree: every path is a page, most of them missing."""
    raise Http404(f"no page {slug!r}")
