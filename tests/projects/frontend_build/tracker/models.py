from django.db import models


class Feeding(models.Model):
    note = models.CharField(max_length=100)
    photo = models.FileField(upload_to="photos/")
