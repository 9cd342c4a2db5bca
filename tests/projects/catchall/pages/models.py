from django.db import models


class Page(models.Model):
    slug = models.CharField(max_length=200, unique=True, blank=True)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
