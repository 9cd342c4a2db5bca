from pathlib import PurePosixPath

from django.db import models


class Greeting(models.Model):
    text = models.CharField(max_length=200)
    created = models.DateTimeField(auto_now_add=True)
    # An upload: stored by the default storage under MEDIA_ROOT (STATE_DIR/media
    # in production, so that it outlives the release) and served at MEDIA_URL.
    attachment = models.FileField(upload_to="guestbook/%Y/%m/", blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self):
        return self.text

    @property
    def attachment_name(self):
        return PurePosixPath(self.attachment.name).name if self.attachment else ""
