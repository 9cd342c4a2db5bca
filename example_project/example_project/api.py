"""A small JSON API: an async view, a streaming response, and a task
enqueued by a request whose result can be read back."""

import asyncio
import json
import os
import threading

from django.http import Http404, JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from example_project.tasks import shout


async def clock(request):
    """An async view: under ``gunicorn --asgi`` it runs on the event loop."""
    await asyncio.sleep(0)
    return JsonResponse({"async": True, "thread": threading.current_thread().name, "pid": os.getpid()})


async def countdown(request):
    """A response produced over time, one line every 0.2 s."""
    start = min(int(request.GET.get("from", "3")), 20)

    async def lines():
        for number in range(start, -1, -1):
            yield f"{number}\n"
            await asyncio.sleep(0.2)

    return StreamingHttpResponse(lines(), content_type="text/plain")


# An API endpoint: JSON in and out, no cookies read, so no CSRF token.
@csrf_exempt
@require_POST
def enqueue_shout(request):
    try:
        payload = json.loads(request.body or b"{}")
        text, seconds = str(payload["text"]), float(payload.get("seconds", 0))
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"error": 'expected {"text": "...", "seconds": 0}'}, status=400)
    result = shout.enqueue(text, seconds)
    return JsonResponse({"id": str(result.id), "status": str(result.status)}, status=202)


@require_GET
def task_result(request, result_id):
    try:
        result = shout.get_result(result_id)
    except Exception:  # the backend's own "does not exist" or a malformed id
        raise Http404("no such task") from None
    finished = str(result.status) == "SUCCESSFUL"
    return JsonResponse(
        {
            "id": str(result.id),
            "status": str(result.status),
            "return_value": result.return_value if finished else None,
            "worker_ids": list(result.worker_ids),
        }
    )
