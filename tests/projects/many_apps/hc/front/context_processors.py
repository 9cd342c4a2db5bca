from django.conf import settings


def branding(request):
    return {"site_name": settings.SITE_NAME}
