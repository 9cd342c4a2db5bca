from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase, override_settings

from .models import Feeding


class PagesTests(TestCase):
    def test_home_uses_the_built_stylesheet(self):
        response = self.client.get("/")
        self.assertContains(response, "Feedings")
        self.assertContains(response, "/static/tracker/app.")  # app.css, by its hashed name

    def test_upload_form_is_shown(self):
        self.assertContains(self.client.get("/upload/"), "<form", status_code=200)


@override_settings(MEDIA_ROOT="/tmp/tracker-test-media")
class UploadTests(TestCase):
    def test_upload_is_stored(self):
        photo = SimpleUploadedFile("bottle.txt", b"hello")
        response = self.client.post("/upload/", {"note": "Bottle", "photo": photo})
        self.assertEqual(response.status_code, 302)
        self.assertEqual(Feeding.objects.get().note, "Bottle")
