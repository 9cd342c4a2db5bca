from django.db.models import F
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from .models import Check


@csrf_exempt
def ping(request, name):
    check, _ = Check.objects.get_or_create(name=name)
    Check.objects.filter(pk=check.pk).update(pings=F("pings") + 1)
    return HttpResponse("OK")
