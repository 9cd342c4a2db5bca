from django.shortcuts import render

from .models import Page


def page(request, slug):
    """Every path is a page of the tree; the home page (slug "") exists even
    before anyone wrote it."""
    found = Page.objects.filter(slug=slug.strip("/")).first()
    if found is None and slug.strip("/"):
        return render(request, "page.html", {"title": "Not found"}, status=404)
    return render(request, "page.html", {"title": found.title if found else "Welcome", "page": found})
