from django.conf import settings
from django.http import HttpResponse


def home(request):
    # The banners are optional parameters of the configuration module.
    text = f"{settings.BANNER_TOP}\nInventory\n{settings.BANNER_BOTTOM}"
    return HttpResponse(text, content_type="text/plain")
