from django.db import models


class Attachment(models.Model):
    label = models.CharField(max_length=100)
    file = models.FileField(upload_to="attachments/")
