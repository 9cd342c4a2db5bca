from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase, override_settings

from .models import Document


class PagesTests(TestCase):
    def test_home_lists_documents(self):
        response = self.client.get("/")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Documents")

    def test_upload_form_is_shown(self):
        self.assertContains(self.client.get("/upload/"), "<form", status_code=200)


@override_settings(MEDIA_ROOT="/tmp/mysite-test-media")
class UploadTests(TestCase):
    def test_upload_is_stored(self):
        upload = SimpleUploadedFile("note.txt", b"hello")
        response = self.client.post("/upload/", {"title": "Note", "file": upload})
        self.assertEqual(response.status_code, 302)
        self.assertEqual(Document.objects.get().title, "Note")
