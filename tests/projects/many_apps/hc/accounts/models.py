from django.db import models


class Profile(models.Model):
    email = models.EmailField()
    avatar = models.FileField(upload_to="avatars/")
