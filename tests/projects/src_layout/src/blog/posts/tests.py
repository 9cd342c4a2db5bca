import tempfile

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase, override_settings


class BlogTests(TestCase):
    def test_index_uses_the_root_templates(self):
        self.assertContains(self.client.get("/"), "<h1>Blog</h1>")

    def test_attach_a_file(self):
        with tempfile.TemporaryDirectory() as media, override_settings(MEDIA_ROOT=media):
            upload = SimpleUploadedFile("slides.pdf", b"%PDF-1.4 fake")
            response = self.client.post("/attach/", {"label": "Slides", "file": upload})
        self.assertEqual(response.status_code, 302)
