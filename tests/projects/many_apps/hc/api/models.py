from django.db import models


class Check(models.Model):
    name = models.CharField(max_length=100)
    pings = models.IntegerField(default=0)
