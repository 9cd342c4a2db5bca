"""Views that need an ASGI server to be what they are: an async view and a
streaming response whose chunks are produced over time."""

import asyncio
import os
import threading

from django.http import JsonResponse, StreamingHttpResponse


async def async_info(request):
    await asyncio.sleep(0.01)
    # Under ASGI the view runs on the event loop's own thread.
    return JsonResponse({"pid": os.getpid(), "async": True, "thread": threading.current_thread().name})


async def stream(request):
    count = min(int(request.GET.get("n", "3")), 20)

    async def chunks():
        for index in range(count):
            yield f"chunk {index}\n"
            await asyncio.sleep(0.2)

    return StreamingHttpResponse(chunks(), content_type="text/plain")
